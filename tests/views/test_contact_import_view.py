"""Notebook 07: the team's own contact export imported from the app — preview first (nothing
written), import only what was previewed and only when nothing was refused, escaped feedback;
the notebook runs."""

from __future__ import annotations

import datetime as dt
import pathlib

import polars as pl

from optdesk.store import Store
from optdesk.views.contact_import import ContactImportView, mapping_pairs

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "07-import-contacts.ipynb"

WIDE = ("Contact ID,First Name,Last Name,Account Name,Email,Email 2,Personal Email\n"
        "003Aa00000XyZ12,Søren,Kierkegaard,Børsen,soren@borsen.example,sk@borsen.example,"
        "soren@home.example\n"
        "c-1234,Ann,O'Brien,Daily Tribune,ann@tribune.example,,\n")
MAP = "Contact ID=contact_id\nFirst Name=first_name\nLast Name=last_name\n" \
      "Account Name=outlet\nEmail=email_primary\nEmail 2=email_system\n" \
      "Personal Email=email_private"


def _choose(view: ContactImportView, name: str, content: bytes) -> None:
    view.upload.value = ({"name": name, "type": "text/csv", "size": len(content),
                          "content": memoryview(content),
                          "last_modified": dt.datetime(2026, 12, 1, tzinfo=dt.UTC)},)


def _addresses(store: Store, team_id: str) -> set[str]:
    key = store.contact_key(team_id)
    return set(store.addresses_of(key, "g1"))


def test_preview_writes_nothing_then_import_writes_what_was_previewed(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    view = ContactImportView(store, "g1")
    assert view.import_button.disabled
    _choose(view, "export.csv", WIDE.encode())
    view.mapping.value = MAP
    counts = view.preview()
    assert counts["new_contacts"] == 2 and counts["refused_contacts"] == 0
    assert "2 new" in view.status.text and not view.import_button.disabled
    assert store.db.scalar("SELECT count(*) FROM contacts") == 0  # a dry run
    done = view.run()
    assert done["contacts"] == 2 and "imported 2 rows: 2 contacts (2 new)" in view.status.text
    assert _addresses(store, "003Aa00000XyZ12") == {"soren@borsen.example", "sk@borsen.example",
                                                    "soren@home.example"}
    assert _addresses(store, "c-1234") == {"ann@tribune.example"}
    assert view.import_button.disabled  # the next import needs its own preview


def test_import_needs_a_preview_of_this_very_file(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    view = ContactImportView(store, "g1")
    _choose(view, "export.csv", WIDE.encode())
    assert view.run() is None and "Preview this file first" in view.status.text
    view.mapping.value = MAP
    view.preview()
    _choose(view, "other.csv", WIDE.replace("c-1234", "c-9999").encode())
    assert view.import_button.disabled
    assert view.run() is None and "Preview this file first" in view.status.text
    assert store.db.scalar("SELECT count(*) FROM contacts") == 0


def test_a_refused_row_is_named_and_nothing_can_be_imported(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    view = ContactImportView(store, "g1")
    _choose(view, "export.csv", WIDE.replace("ann@tribune.example", "not-an-address").encode())
    view.mapping.value = MAP
    counts = view.preview()
    assert counts["refused_contacts"] == 1
    assert "1 refused" in view.status.text and "optdesk-err" in view.status.widget.value
    assert "export.csv: row 2, column Email: not an email address" in view.report.value
    assert "/tmp" not in view.report.value  # the analyst's file, not the server's copy
    assert view.import_button.disabled
    assert store.db.scalar("SELECT count(*) FROM contacts") == 0


def test_feedback_is_escaped_and_a_wrong_file_type_is_refused(tmp_path):
    view = ContactImportView(Store(tmp_path / "s.duckdb"), "g1")
    assert view.preview() is None and "Choose the export file first" in view.status.text
    _choose(view, "<img src=x onerror=alert(1)>.txt", b"x")
    view.preview()
    assert "not a CSV, XLSX or Parquet file" in view.status.text
    assert "<img" not in view.status.widget.value and "&lt;img" in view.status.widget.value


def test_an_xlsx_export_with_a_preset(tmp_path):
    frame = pl.DataFrame({"contact_id": ["u-1", "u-1"], "first_name": ["Lea", "Lea"],
                          "last_name": ["Müller", "Müller"], "outlet": ["SZ", "SZ"],
                          "email": ["lea@sz.example", "lea@home.example"],
                          "email_kind": ["system", "private"]})
    path = tmp_path / "export.xlsx"
    frame.write_excel(path)
    store = Store(tmp_path / "s.duckdb")
    view = ContactImportView(store, "g1")
    _choose(view, path.name, path.read_bytes())
    assert view.preview()["new_contacts"] == 1
    assert view.run()["contacts"] == 1
    assert _addresses(store, "u-1") == {"lea@sz.example", "lea@home.example"}


def test_mapping_pairs_one_per_line():
    assert mapping_pairs(" A=email_system \n\nWork, Email=email_private\n") == [
        "A=email_system", "Work, Email=email_private"]


def test_notebook_runs_and_previews_in_the_kernel(tmp_path, monkeypatch):
    from .test_notebooks import run, text_of

    store = Store(tmp_path / "s.duckdb")
    store.db.scalar("SELECT 1")
    monkeypatch.setenv("OPTDESK_DATA_GROUP", "g1")
    content = WIDE.encode()
    nb = run(NOTEBOOK.name, store, tmp_path, monkeypatch, extra=(
        "import datetime as dt\n"
        f"view.upload.value = ({{'name': 'e.csv', 'type': 'text/csv', 'size': {len(content)}, "
        f"'content': memoryview({content!r}), "
        "'last_modified': dt.datetime(2026, 12, 1, tzinfo=dt.UTC)},)\n"
        f"view.mapping.value = {MAP!r}\n"
        "print(view.preview()['new_contacts'], view.import_button.disabled)"))
    assert "2 False" in text_of(nb.cells[-1])
