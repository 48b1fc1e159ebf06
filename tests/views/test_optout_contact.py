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
    assert "is opted out of demo" in view.status.text
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
    view.cancel_button.click()
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
    assert "03-opt-in-invitations" in view.status.text


def test_every_value_is_escaped(hostile_store):
    view = view_of(hostile_store)
    view.search.value = "<img"
    assert [v for _, v in view.results.options] == [HOSTILE_ID]
    pick(view, HOSTILE_ID)
    shown = view.record_html.value + view.hint.value + view.status.text
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
