"""The engagement view (notebook 06): engagers per distribution, filters and sorts, everything
shown escaped, the engagers added to a new or existing list in one step; the notebook runs."""

from __future__ import annotations

import pathlib

import nbformat

from fixtures.store import contact_row
from optdesk.engagement.presets import preset
from optdesk.store import Store
from optdesk.views.engagement import EngagementView

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "06-engagement.ipynb"


def _store(tmp_path, contacts_csv) -> Store:
    store = Store(tmp_path / "s.duckdb")
    store.import_contacts(contacts_csv([
        contact_row(1, "one@x.example", first_name="<b>Ann</b>", reach=5, lists="Tech"),
        contact_row(2, "two@x.example", reach=900)]), "g1")
    export = tmp_path / "e.csv"
    export.write_text("email,event,timestamp\none@x.example,click,2026-03-01 10:00:00\n"
                      "two@x.example,open,2026-03-01 10:05:00\n"
                      "two@x.example,open,2026-03-01 10:06:00\n", encoding="utf-8")
    store.import_engagement(export, "g1", "launch", preset("generic"))
    return store


def test_engagers_are_shown_escaped_sorted_and_filtered(tmp_path, contacts_csv):
    view = EngagementView(_store(tmp_path, contacts_csv), "g1")
    assert view.distribution.value == "launch"
    assert view.frame["contact_id"].to_list() == [1, 2]
    assert "&lt;b&gt;Ann&lt;/b&gt;" in view.grid.value and "<b>Ann</b>" not in view.grid.value
    view.sort.value = "reach"
    assert view.frame["contact_id"].to_list() == [2, 1]
    view.event.value = "click"
    assert view.frame["contact_id"].to_list() == [1]
    view.event.value = ""
    view.lists.value = ("Tech",)
    assert view.frame["contact_id"].to_list() == [1]


def test_add_engagers_to_a_new_then_existing_list(tmp_path, contacts_csv):
    store = _store(tmp_path, contacts_csv)
    view = EngagementView(store, "g1")
    assert view.add_to_list("Engaged")["created"] is True
    assert "Engaged (created): 2 contacts added." in view.status.text
    assert "Engaged" in view.lists.options
    assert view.add_to_list("Engaged") == {"list_id": view.add_to_list("Engaged")["list_id"],
                                           "created": False, "added": 0}
    view.add_to_list("  ")
    assert "Name the list" in view.status.text


def test_a_group_without_engagement_says_so(tmp_path):
    view = EngagementView(Store(tmp_path / "empty.duckdb"), "g1")
    assert view.frame is None and "No engagement imported" in view.summary.value
    assert view.add_to_list("x") is None and "Choose a distribution" in view.status.text


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_runs_and_adds_to_a_list_in_the_kernel(tmp_path, contacts_csv, monkeypatch):
    from .test_notebooks import run, text_of

    store = _store(tmp_path, contacts_csv)
    store.db.scalar("SELECT 1")
    monkeypatch.setenv("OPTDESK_DATA_GROUP", "g1")
    nb = run(NOTEBOOK.name, store, tmp_path, monkeypatch, extra=(
        "view.group.value = 'g1'\nprint(view.add_to_list('From the kernel'))"))
    assert "'created': True, 'added': 2" in text_of(nb.cells[-1])


def test_an_export_is_imported_from_the_view_and_its_clickers_listed(tmp_path, contacts_csv):
    import datetime as dt

    store = _store(tmp_path, contacts_csv)
    view = EngagementView(store, "g1")
    content = (b"email,event,timestamp\none@x.example,click,2026-04-01 10:00:00\n"
               b"two@x.example,unsubscribe,2026-04-01 10:05:00\n"
               b"<i>x</i>@nobody.example,open,2026-04-01 10:06:00\n")
    view.importer.upload.value = ({"name": "april <b>.csv", "type": "text/csv",
                                   "size": len(content), "content": memoryview(content),
                                   "last_modified": dt.datetime(2026, 4, 2)},)
    view.importer.name.value = "april"
    view.importer.import_button.click()
    shown = view.importer.status.text
    assert "april &lt;b&gt;.csv: 3 rows imported into april" in shown, shown
    assert "1 contacts, 0 outlets" in shown
    assert view.distribution.value == "april"
    assert store.contact(2, "g1")["optout"]["source"] == "sending_tool"
    view.event.value = "click"
    view.add_to_list("April clickers")
    members = store.db.frame("SELECT contact_id FROM list_members JOIN media_lists USING"
                             " (list_id) WHERE name = 'April clickers'")
    assert members["contact_id"].to_list() == [1]


def test_the_import_asks_for_a_file(tmp_path, contacts_csv):
    view = EngagementView(_store(tmp_path, contacts_csv), "g1")
    view.importer.import_button.click()
    assert "Choose the export file first" in view.importer.status.text
