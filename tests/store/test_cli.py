"""The store commands, run as a user runs them: the installed `optdesk` console script."""

import subprocess
import sys

import polars as pl
import pytest

from fixtures.store import contact_row, write_contacts_csv

OPTDESK = [sys.executable, "-m", "optdesk"]


def run(*args, check=True):
    proc = subprocess.run([*OPTDESK, *args], capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "cli.duckdb")


def test_init_demo_then_if_absent_leaves_it(db):
    out = run("--db", db, "init", "--demo", "--contacts", "500").stdout
    assert "500 contacts" in out
    again = run("--db", db, "init", "--demo", "--if-absent").stdout
    assert "left as it is" in again
    refused = run("--db", db, "init", "--demo", check=False)
    assert refused.returncode == 2 and "already holds contacts" in refused.stderr


def test_import_opt_out_contact_suppressions_export(db, tmp_path):
    csv = write_contacts_csv(tmp_path / "c.csv", [
        contact_row(10, "ten@x.example", first_name="Ten"),
        contact_row(10, "ten@home.example", first_name="Ten", email_kind="private"),
        contact_row(11, "eleven@x.example"),
    ])
    assert "2 contacts (2 new)" in run("--db", db, "import", "contacts", str(csv),
                                       "--data-group", "g1").stdout
    assert "opted out" in run("--db", db, "opt-out", "--contact", "10", "--data-group", "g1",
                              "--reason", "phone call").stdout
    assert "already opted out" in run("--db", db, "opt-out", "--contact", "10",
                                      "--data-group", "g1", "--reason", "again").stdout
    shown = run("--db", db, "contact", "10", "--data-group", "g1").stdout
    assert "Ten Last10" in shown and "manual" in shown and "phone call" in shown
    lines = run("--db", db, "suppressions", "--data-group", "g1").stdout.split()
    assert lines == ["ten@home.example", "ten@x.example"]
    csv_out = run("--db", db, "suppressions", "--data-group", "g1", "--format", "csv").stdout
    assert csv_out.splitlines()[0] == "email,reason"
    exported = tmp_path / "out.parquet"
    run("--db", db, "export", "opted-out", "--data-group", "g1", "--format", "parquet",
        "--out", str(exported))
    frame = pl.read_parquet(exported)
    assert frame["contact_id"].to_list() == ["10"] and frame["source"].to_list() == ["manual"]


def test_bad_import_exits_2_naming_row_and_column(db, tmp_path):
    csv = write_contacts_csv(tmp_path / "bad.csv", [
        contact_row(1, "a@x.example"), contact_row(2, "broken-address")])
    proc = run("--db", db, "import", "contacts", str(csv), "--data-group", "g1", check=False)
    assert proc.returncode == 2
    assert "row 2, column email" in proc.stderr and "Traceback" not in proc.stderr


def test_unknown_contact_is_a_clear_error(db):
    run("--db", db, "init")
    proc = run("--db", db, "contact", "404", check=False)
    assert proc.returncode == 2 and "no contact with id 404" in proc.stderr
