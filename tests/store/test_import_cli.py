"""`optdesk import contacts` with the team's exports, and the team's ids on every command that
names a contact: run as a user runs them (the console script), on real files."""

from __future__ import annotations

import polars as pl
import pytest

from fixtures.cli import run
from fixtures.exports import WIDE, WIDE_MAP, wide_rows, write_xlsx
from fixtures.store import contact_row, write_contacts_csv


@pytest.fixture
def db(tmp_path):
    return str(tmp_path / "cli.duckdb")


def maps() -> list[str]:
    return [x for pair in WIDE_MAP for x in ("--map", pair)]


def test_xlsx_with_address_columns_then_every_command_takes_the_teams_id(db, tmp_path):
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, wide_rows())
    out = run("--db", db, "import", "contacts", str(path), "--data-group", "g1", *maps())
    assert "imported 3 rows: 3 contacts (3 new) into data group 'g1'" in out.stdout
    assert "import: read 3 rows" in out.stderr  # the progress lines as before
    assert "opted out" in run("--db", db, "opt-out", "--contact", "003Aa00000XyZ12",
                              "--data-group", "g1", "--reason", "phone").stdout
    shown = run("--db", db, "contact", "003Aa00000XyZ12", "--data-group", "g1").stdout
    assert "Ann One (id 003Aa00000XyZ12)" in shown and "ann@home.example" in shown
    assert "undone" in run("--db", db, "undo-opt-out", "--contact", "003Aa00000XyZ12",
                           "--data-group", "g1", "--reason", "wrong Ann").stdout
    run("--db", db, "opt-out", "--contact", "c-1234", "--data-group", "g1", "--reason", "x")
    exported = run("--db", db, "export", "opted-out", "--data-group", "g1").stdout
    assert exported.splitlines()[1].startswith("c-1234,")
    headers = run("--db", db, "list-unsubscribe", "--contact", "c-1234", "--data-group", "g1",
                  "--public-url", "http://127.0.0.1:8025",
                  env={"OPTDESK_SECRET": "k" * 40}).stdout
    assert headers.startswith("List-Unsubscribe: <http://127.0.0.1:8025/u/")


def test_an_unknown_text_id_is_one_line_naming_it(db, tmp_path):
    csv = write_contacts_csv(tmp_path / "c.csv", [contact_row("c-1", "a@x.example")])
    run("--db", db, "import", "contacts", str(csv), "--data-group", "g1")
    for args in (["contact", "c-2"], ["opt-out", "--contact", "c-2", "--reason", "x"],
                 ["undo-opt-out", "--contact", "c-2", "--reason", "x"],
                 ["invitations", "--contact", "c-2"]):
        proc = run("--db", db, *args, "--data-group", "g1", check=False)
        assert proc.returncode == 2 and proc.stderr.strip() == "optdesk: error: no contact with id c-2"


def test_a_bad_cell_is_one_line_naming_file_row_and_column(db, tmp_path):
    rows = wide_rows()
    rows[2][7] = "cy@@daily.example"
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, rows)
    proc = run("--db", db, "import", "contacts", str(path), "--data-group", "g1", *maps(),
               check=False)
    assert proc.returncode == 2
    last = proc.stderr.strip().splitlines()[-1]
    assert last.startswith(f"optdesk: error: {path}: row 3, column Email: not an email address")


def test_dry_run_prints_the_changes_and_writes_nothing(db, tmp_path):
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, wide_rows())
    run("--db", db, "import", "contacts", str(path), "--data-group", "g1", *maps())
    rows = wide_rows()
    rows[0][4] = "Chief Editor"
    rows.append(["c-bad", "", "", "Daily", "", "", "", "bad@daily.example"])
    changed = write_xlsx(tmp_path / "changed.xlsx", WIDE, rows)
    out = run("--db", db, "import", "contacts", str(changed), "--data-group", "g1", *maps(),
              "--dry-run").stdout.splitlines()
    assert out[0] == ("dry run, nothing written: 4 rows, 3 contacts for data group 'g1': 0 new, "
                      "1 updated, 2 unchanged, 1 refused (1 rows)")
    assert out[1] == "updated, per column: Job Title 1"
    assert out[2] == "refused, per column: First Name 1"
    assert out[3].startswith(f"{changed}: row 4, column First Name: a contact needs")
    shown = run("--db", db, "contact", "003Aa00000XyZ12", "--data-group", "g1").stdout
    assert "Chief Editor" not in shown


def test_dry_run_needs_an_existing_store(db, tmp_path):
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, wide_rows())
    proc = run("--db", db, "import", "contacts", str(path), "--dry-run", *maps(), check=False)
    assert proc.returncode == 2 and "no store at" in proc.stderr


def test_preset_option_and_a_parquet_export(db, tmp_path):
    frame = pl.DataFrame({"Id": ["003Aa00000XyZ12", "003Aa00000XyZ13"],
                          "FirstName": ["Ann", "Bob"], "LastName": ["One", "Two"],
                          "Email": ["ann@daily.example", "bob@daily.example"]})
    path = tmp_path / "sf.parquet"
    frame.write_parquet(path)
    out = run("--db", db, "import", "contacts", str(path), "--preset", "salesforce",
              "--data-group", "g1").stdout
    assert "2 contacts (2 new)" in out
    assert "Bob Two (id 003Aa00000XyZ13)" in run("--db", db, "contact", "003Aa00000XyZ13",
                                                 "--data-group", "g1").stdout
    bad = run("--db", db, "import", "contacts", str(path), "--map", "Id=identity",
              "--data-group", "g1", check=False)
    assert bad.returncode == 2 and "--map 'Id=identity': write COLUMN=FIELD" in bad.stderr
