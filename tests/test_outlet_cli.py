"""The outlet commands as a user runs them: import outlets, opt-out --outlet [--with-contacts],
outlet ID, suppressions listing outlet addresses."""

import subprocess
import sys

import polars as pl

from fixtures.store import contact_row, outlet_row, write_contacts_csv, write_outlets_csv

OPTDESK = [sys.executable, "-m", "optdesk"]


def run(*args, check=True):
    proc = subprocess.run([*OPTDESK, *args], capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_outlet_import_opt_out_with_contacts_record_and_suppressions(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    outlets = tmp_path / "outlets.xlsx"
    pl.DataFrame([outlet_row(5, "newsdesk@five.example", name="Five Post"),
                  outlet_row(5, "redaktion@five.example", name="Five Post")]).write_excel(outlets)
    out = run("--db", db, "import", "outlets", str(outlets), "--data-group", "g1").stdout
    assert "1 outlets (1 new), 2 outlet addresses" in out
    run("--db", db, "import", "contacts", str(write_contacts_csv(tmp_path / "c.csv", [
        contact_row(1, "one@five.example", outlet="Five Post", outlet_reach=""),
        contact_row(2, "two@five.example", outlet="Five Post", outlet_reach="")])),
        "--data-group", "g1")
    done = run("--db", db, "opt-out", "--outlet", "5", "--data-group", "g1", "--reason",
               "closed", "--with-contacts", "--actor", "ana").stdout
    assert "outlet 5: opted out, and 2 of its contacts" in done
    again = run("--db", db, "opt-out", "--outlet", "5", "--data-group", "g1", "--reason", "x")
    assert "already opted out; unchanged" in again.stdout
    lines = run("--db", db, "suppressions", "--data-group", "g1").stdout.split()
    assert lines == ["newsdesk@five.example", "one@five.example", "redaktion@five.example",
                     "two@five.example"]
    shown = run("--db", db, "outlet", "5", "--data-group", "g1").stdout
    assert "Five Post — newspaper" in shown and "yes, manual by ana" in shown
    assert "with its contacts" in shown and "outlet opt-out" in shown
    assert "redaktion@five.example" in shown
    undone = run("--db", db, "undo-opt-out", "--outlet", "5", "--data-group", "g1", "--reason",
                 "wrong outlet", "--actor", "ana").stdout
    assert "outlet 5: manual opt-out undone" in undone and "contact opt-outs made with it" in undone
    assert "redaktion@five.example" not in run(
        "--db", db, "suppressions", "--data-group", "g1").stdout.split()


def test_outlet_errors_are_one_line(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    bad = write_outlets_csv(tmp_path / "bad.csv", [outlet_row(1, "a@x.example", type="blog")])
    proc = run("--db", db, "import", "outlets", str(bad), "--data-group", "g1", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"optdesk: error: {bad}: row 1, column type: must be one of newspaper, tv, radio, "
        "online, agency, magazine (got 'blog')"]
    proc = run("--db", db, "opt-out", "--outlet", "9", "--data-group", "g1", "--reason", "x",
               check=False)
    assert proc.returncode == 2 and proc.stderr.strip() == "optdesk: error: no outlet with id 9"
    proc = run("--db", db, "opt-out", "--contact", "1", "--with-contacts", "--reason", "x",
               check=False)
    assert proc.returncode == 2 and "--with-contacts goes with --outlet" in proc.stderr
