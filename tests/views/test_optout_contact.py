"""Notebook 01's view without a browser: type, pick, opt out, confirm; escaping; errors."""

from __future__ import annotations

import html
import subprocess
import sys
import time

import pytest

from optdesk.store import Store
from optdesk.views.optout_contact import OptOutContactView
from optdesk.views.selection import get_selection

from .conftest import HOSTILE, HOSTILE_ID, mailable_contact, opted_out_contact


def view_of(store, **kw) -> OptOutContactView:
    return OptOutContactView(store, "demo", actor="ana@desk", debounce=0, **kw)


def pick(view: OptOutContactView, contact_id: int) -> None:
    view.results.value = contact_id


def test_typing_lists_matching_contacts_with_their_outlet(demo_store):
    view = view_of(demo_store)
    view.search.value = "dup"
    expected = demo_store.find_contacts("dup", "demo", 20)
    assert expected.height > 0
    assert [v for _, v in view.results.options] == expected["contact_id"].to_list()
    for (label, _), row in zip(view.results.options, expected.iter_rows(named=True), strict=True):
        assert row["name"] in label and row["outlet"] in label
        assert "dup" in row["name"].lower()
    assert view.results.value is None, "typing must not pick a contact by itself"
    view.search.value = "zzzqqq"
    assert view.results.options == ()
    assert "No contact matches" in view.hint.value


def test_picking_shows_the_whole_record(demo_store):
    view = view_of(demo_store)
    row = opted_out_contact(demo_store)
    view.search.value = row["name"]
    pick(view, row["contact_id"])
    record = demo_store.contact(row["contact_id"], "demo")
    shown = view.record_html.value
    assert html.escape(row["name"]) in shown
    for email in record["addresses"]["email"]:
        assert email in shown
    assert "system" in shown
    for name in record["lists"]["name"]:
        assert html.escape(name) in shown
    assert "opted out" in shown and record["optout"]["source"].replace("_", "-") in shown
    assert record["optout"]["opted_out_at"].strftime("%Y-%m-%d %H:%M") in shown
    assert view.optin_button.layout.display == "" and view.optout_button.layout.display == "none"


def test_private_addresses_are_marked(demo_store):
    view = view_of(demo_store)
    # demo contacts with id % 6 == 1 have a private address in 'demo'
    view.show_contact(7)
    assert "c7@private.example" in view.record_html.value
    assert "private (demo)" in view.record_html.value


def test_opt_out_asks_for_confirmation_then_updates_in_place(demo_store):
    view = view_of(demo_store)
    row = mailable_contact(demo_store)
    view.search.value = row["name"]
    pick(view, row["contact_id"])
    assert "can be mailed" in view.record_html.value
    view.optout_button.click()
    assert view.confirm_box.layout.display == ""
    assert demo_store.contact(row["contact_id"], "demo")["optout"] is None, "not before confirming"
    view.reason.value = "asked by phone <today>"
    view.confirm_button.click()
    optout = demo_store.contact(row["contact_id"], "demo")["optout"]
    assert optout["source"] == "manual" and optout["actor"] == "ana@desk"
    assert optout["reason"] == "asked by phone <today>"
    assert view.confirm_box.layout.display == "none"
    assert "opted out" in view.record_html.value and "asked by phone &lt;today&gt;" in view.record_html.value
    assert view.optin_button.layout.display == "" and view.optout_button.layout.display == "none"
    assert "is opted out of demo" in view.panel.status.text
    events = demo_store.events(contact_id=row["contact_id"], data_group="demo", kinds=["opt_out"])
    assert events.height == 1 and events["actor"][0] == "ana@desk"
    assert "OPTED OUT" in view.results.options[
        [v for _, v in view.results.options].index(row["contact_id"])][0]


def test_cancel_leaves_the_contact_alone(demo_store):
    view = view_of(demo_store)
    row = mailable_contact(demo_store)
    pick_and = view.show_contact
    pick_and(row["contact_id"])
    view.optout_button.click()
    view.panel.cancel_button.click()
    assert view.confirm_box.layout.display == "none"
    assert demo_store.contact(row["contact_id"], "demo")["optout"] is None


def test_empty_reason_is_stored_as_none(demo_store):
    view = view_of(demo_store)
    row = mailable_contact(demo_store, "li")
    view.show_contact(row["contact_id"])
    view.optout_button.click()
    view.confirm_button.click()
    assert demo_store.contact(row["contact_id"], "demo")["optout"]["reason"] is None


def test_request_opt_in_hands_the_contact_to_the_invitations_notebook(demo_store, selection_file):
    view = view_of(demo_store)
    row = opted_out_contact(demo_store)
    view.show_contact(row["contact_id"])
    view.optin_button.click()
    selection = get_selection()
    assert selection.data_group == "demo" and selection.contact_ids == (row["contact_id"],)
    assert selection.origin == "01-opt-out-a-contact"
    assert selection_file.exists()
    assert "03-opt-in-invitations" in view.panel.status.text


def test_every_value_is_escaped(hostile_store):
    view = view_of(hostile_store)
    view.search.value = "<img"
    assert [v for _, v in view.results.options] == [HOSTILE_ID]
    pick(view, HOSTILE_ID)
    shown = view.record_html.value + view.hint.value + view.status.text + view.panel.status.text
    assert "&lt;img src=x onerror=alert(1)&gt;" in shown
    for raw in (HOSTILE, "<script>", "<b>Bold</b>", "<i>tester</i>"):
        assert raw not in shown
    assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in shown
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in shown
    view.search.value = "<b>nothing"
    assert "&lt;b&gt;nothing" in view.hint.value


def test_unknown_contact_shows_a_message_not_a_traceback(demo_store):
    view = view_of(demo_store)
    view.status.guard(view.show_contact)(123456789)
    assert "no contact with id 123456789" in view.status.text


def test_switching_data_group_reloads_the_record(demo_store):
    row = opted_out_contact(demo_store)
    demo_store.opt_out(row["contact_id"], "other", source="manual", actor="x")
    view = view_of(demo_store)
    view.show_contact(row["contact_id"])
    view.group.value = "other"
    assert "of <b>other</b>" in view.record_html.value
    assert demo_store.contact(row["contact_id"], "other")["optout"]["actor"] == "x"


@pytest.fixture
def locked(tmp_path):
    """Hold the store file's lock from another process until the test ends."""
    def hold(path):
        proc = subprocess.Popen(
            [sys.executable, "-c",
             "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
             " time.sleep(60)", str(path)],
            stdout=subprocess.PIPE, text=True)
        assert proc.stdout.readline().strip() == "held"
        procs.append(proc)
    procs: list[subprocess.Popen] = []
    yield hold
    for proc in procs:
        proc.terminate()
        proc.wait(10)


def test_a_locked_store_shows_a_message(demo_store, locked):
    store = Store(demo_store.path, busy_timeout=0.3)
    view = view_of(store)
    store.release()
    demo_store.release()
    locked(demo_store.path)
    started = time.monotonic()
    view.search.value = "dup"
    assert time.monotonic() - started < 5
    assert "stayed locked" in view.status.text and str(demo_store.path) in view.status.text
    assert view.results.options == ()


def test_count_pages_and_enter(demo_store):
    view = view_of(demo_store, limit=5)
    view.search.value = "ma"
    total = demo_store.search_contacts("ma", "demo").total
    assert f"{total:,} contacts match; showing 1–5" in view.hint.value
    first_page = [v for _, v in view.results.options]
    assert view.pager.layout.display == "" and view.prev_button.disabled
    view.next_button.click()
    assert "showing 6–10" in view.hint.value
    second_page = [v for _, v in view.results.options]
    assert len(second_page) == 5 and not set(first_page) & set(second_page)
    view.prev_button.click()
    assert [v for _, v in view.results.options] == first_page
    view.open_first()  # what Enter in the search box does
    assert view.contact_id == first_page[0] and view.results.value == first_page[0]


def test_find_by_outlet_words_email_and_id(demo_store):
    target = demo_store.search_contacts("matteo esposito", "demo", limit=200).rows.row(-1, named=True)
    view = view_of(demo_store)
    view.search.value = f"matteo esposito {target['outlet']}"
    assert target["contact_id"] in [v for _, v in view.results.options]
    view.search.value = target["email"]
    assert [v for _, v in view.results.options] == [target["contact_id"]]
    assert "1 contact match" in view.hint.value
    view.search.value = f"#{target['contact_id']}"
    assert [v for _, v in view.results.options] == [target["contact_id"]]
    view.search.value = "#99999999"
    assert "No contact has the id" in view.hint.value


def test_undo_a_manual_opt_out_in_the_record(demo_store):
    view = view_of(demo_store)
    row = mailable_contact(demo_store)
    view.show_contact(row["contact_id"])
    assert view.undo_button.layout.display == "none"
    view.optout_button.click()
    view.confirm_button.click()
    assert view.undo_button.layout.display == "" and "can be undone until" in view.panel.note.value
    view.undo_button.click()
    view.panel.undo_confirm_button.click()
    assert "Not accepted: a reason is required" in view.panel.status.text
    assert view.is_opted_out
    view.panel.undo_reason.value = "wrong <b>one</b>"
    view.panel.undo_confirm_button.click()
    assert not view.is_opted_out and view.optout_button.layout.display == ""
    assert "is undone" in view.panel.status.text
    assert "wrong &lt;b&gt;one&lt;/b&gt;" in view.record_html.value  # the history shows the reason


def test_a_journalists_opt_out_has_no_undo_and_a_complaint_no_invitation(demo_store):
    view = view_of(demo_store)
    complaint = demo_store.opted_out("demo", sources=["complaint"], limit=1).row(0, named=True)
    view.show_contact(complaint["contact_id"])
    assert view.undo_button.layout.display == "none" and view.optin_button.layout.display == "none"
    assert "can never be invited" in view.panel.note.value
    reply = demo_store.opted_out("demo", sources=["reply"], limit=1).row(0, named=True)
    view.show_contact(reply["contact_id"])
    assert view.undo_button.layout.display == "none" and view.optin_button.layout.display == ""


def an_outlet_with_contacts(store) -> dict:
    """An outlet of the demo with its own addresses and several contacts, not opted out."""
    return store.db.frame(
        "SELECT o.outlet_id, o.name FROM outlets o WHERE o.outlet_id IN"
        " (SELECT outlet_id FROM outlet_addresses) AND (SELECT count(*) FROM contacts c"
        " WHERE c.outlet_id = o.outlet_id) >= 2 AND o.outlet_id NOT IN"
        " (SELECT outlet_id FROM outlet_optouts) ORDER BY o.reach DESC LIMIT 1").row(0, named=True)


def test_outlets_in_the_type_ahead_and_their_opt_out_with_contacts(demo_store):
    target = an_outlet_with_contacts(demo_store)
    view = view_of(demo_store)
    view.search.value = target["name"].lower()
    value = f"outlet:{target['outlet_id']}"
    labels = dict((v, label) for label, v in view.results.options)
    assert labels[value].startswith("OUTLET · ") and "outlet" in view.hint.value
    assert isinstance(view.results.options[0][1], int), "contacts first: Enter opens a contact"
    view.results.value = value
    record = demo_store.outlet(target["outlet_id"], "demo")
    shown = view.outlet_panel.record_html.value
    assert html.escape(target["name"]) in shown
    for email in record["addresses"]["email"]:
        assert email in shown
    for name in record["contacts"]["name"].head(20):
        assert html.escape(name) in shown
    assert view.panel.widget.layout.display == "none"
    panel = view.outlet_panel
    panel.optout_button.click()
    assert panel.confirm_box.layout.display == ""
    assert f"its {record['contacts'].height} contacts" in panel.with_contacts.description
    panel.with_contacts.value = True
    panel.reason.value = "the editor asked <b>"
    panel.confirm_button.click()
    assert "is opted out of demo with" in panel.status.text
    after = demo_store.outlet(target["outlet_id"], "demo")
    assert after["optout"]["with_contacts"] and after["optout"]["actor"] == "ana@desk"
    assert after["contacts"]["opted_out"].all()
    assert "the editor asked &lt;b&gt;" in panel.record_html.value
    assert "OPTED OUT" in dict((v, label) for label, v in view.results.options)[value]
    panel.undo_button.click()
    panel.undo_reason.value = "wrong outlet"
    panel.undo_confirm_button.click()
    assert "is undone" in panel.status.text
    assert demo_store.outlet(target["outlet_id"], "demo")["optout"] is None
    view.open_first()
    assert view.contact_id is not None and view.outlet_panel.widget.layout.display == "none"


def test_an_outlet_opt_out_without_its_contacts_leaves_them(demo_store):
    target = an_outlet_with_contacts(demo_store)
    view = view_of(demo_store)
    view.show_outlet(target["outlet_id"])
    view.outlet_panel.optout_button.click()
    view.outlet_panel.confirm_button.click()
    after = demo_store.outlet(target["outlet_id"], "demo")
    assert after["optout"] is not None and not after["optout"]["with_contacts"]
    before = demo_store.db.scalar(
        "SELECT count(*) FROM events WHERE kind = 'opt_out' AND outlet_id = ?",
        [target["outlet_id"]])
    assert before == 0 and "contacts are unchanged" in view.outlet_panel.status.text


def test_a_contact_is_found_and_shown_by_the_teams_text_id(store, tmp_path):
    from fixtures.store import contact_row, write_contacts_csv

    csv = write_contacts_csv(tmp_path / "team.csv", [
        contact_row("003Aa00000XyZ12", "ann@daily.example", first_name="Ann"),
        contact_row("c-1234", "bob@weekly.example", first_name="Bob")])
    store.import_contacts(csv, "demo")
    view = view_of(store)
    view.search.value = "003Aa00000XyZ12"
    [(label, key)] = view.results.options
    assert label.endswith("[#003Aa00000XyZ12]") and key == store.contact_key("003Aa00000XyZ12")
    pick(view, key)
    assert "contact #003Aa00000XyZ12" in view.record_html.value
    view.search.value = "#c-1234"
    assert [v for _, v in view.results.options] == [store.contact_key("c-1234")]


def test_arrow_down_bridge_links_the_search_box_to_its_results(demo_store):
    from optdesk.views.keys import ESM, ArrowIntoResults

    view = view_of(demo_store)
    bridge = next(c for c in view.widget.children if isinstance(c, ArrowIntoResults))
    assert "optdesk-view" in view.widget._dom_classes, "the bridge looks inside its own view"
    assert bridge.source_class in view.search._dom_classes
    assert bridge.target_class in view.results._dom_classes
    assert '"ArrowDown"' in ESM and "dispatchEvent" in ESM
    view.search.value = "dup"
    view.results.value = view.results.options[0][1]  # what the bridge's change event does
    assert view.contact_id == view.results.options[0][1], "the first result opens"
