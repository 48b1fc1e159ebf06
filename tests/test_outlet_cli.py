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


def test_the_teams_own_outlet_ids_are_taken_and_shown(tmp_path):
    """An outlet named ``OUT-ab7`` in the outlets file and in a contact export's outlet_id
    column is named so on every command, never by the store's internal key."""
    from fixtures.store import write_csv
    from optdesk.store.importer import COLUMNS

    db = str(tmp_path / "cli.duckdb")
    run("--db", db, "import", "outlets", str(write_outlets_csv(tmp_path / "o.csv", [
        outlet_row("OUT-ab7", "newsdesk@ab7.example", name="Ab Seven"),
        outlet_row("12", "newsdesk@twelve.example", name="Twelve")])), "--data-group", "g1")
    contacts = write_csv(tmp_path / "c.csv", (*COLUMNS, "outlet_id"), [
        contact_row("c-1", "one@ab7.example", outlet="", outlet_reach="", outlet_id="OUT-ab7"),
        contact_row("c-2", "two@ab7.example", outlet="", outlet_reach="", outlet_id=" OUT-ab7 "),
        contact_row("c-3", "three@twelve.example", outlet="", outlet_reach="", outlet_id="12")])
    run("--db", db, "import", "contacts", str(contacts), "--data-group", "g1")
    done = run("--db", db, "opt-out", "--outlet", "OUT-ab7", "--data-group", "g1", "--reason",
               "closed", "--with-contacts", "--actor", "ana").stdout
    assert "outlet OUT-ab7: opted out, and 2 of its contacts" in done
    shown = run("--db", db, "outlet", "OUT-ab7", "--data-group", "g1").stdout
    assert "Ab Seven — newspaper" in shown and "outlet id OUT-ab7" in shown
    assert "c-1" in shown and "c-2" in shown and "c-3" not in shown
    undone = run("--db", db, "undo-opt-out", "--outlet", "OUT-ab7", "--data-group", "g1",
                 "--reason", "wrong outlet", "--actor", "ana").stdout
    assert "outlet OUT-ab7: manual opt-out undone" in undone
    again = run("--db", db, "undo-opt-out", "--outlet", "OUT-ab7", "--data-group", "g1",
                "--reason", "again", check=False)
    assert again.returncode == 2
    assert "outlet OUT-ab7 is not opted out of g1" in again.stderr
    assert "Twelve" in run("--db", db, "outlet", "12", "--data-group", "g1").stdout
    proc = run("--db", db, "outlet", "OUT-zz", "--data-group", "g1", check=False)
    assert proc.returncode == 2 and "no outlet with id OUT-zz" in proc.stderr
    bad = write_csv(tmp_path / "bad.csv", (*COLUMNS, "outlet_id"), [
        contact_row("c-9", "nine@x.example", outlet="", outlet_reach="", outlet_id="OUT-zz")])
    proc = run("--db", db, "import", "contacts", str(bad), "--data-group", "g1", check=False)
    assert proc.returncode == 2 and "column outlet_id: no outlet with this id" in proc.stderr
