"""Notebook 03 in a real JupyterLab, driven in headless Chromium: selection → preview → send.

Screenshots: tests/artifacts/invitations-*.png.
"""

from __future__ import annotations

import shutil

import pytest

from fixtures.jupyter import NOTEBOOKS, open_and_run, open_app, screenshot, start_desk, start_lab
from fixtures.store import contact_row, write_contacts_csv
from optdesk.views.invitations import SOURCES
from optdesk.views.selection import set_selection

from .conftest import GROUP, KEY

pytestmark = [pytest.mark.browser, pytest.mark.slow]

HOSTILE = "<img src=x onerror=alert(1)>"
NAME = "03-opt-in-invitations.ipynb"


@pytest.fixture
def lab(inv_store, smtp_sink, tmp_path):
    sink, url = smtp_sink
    rows = [contact_row(77, "h77@news.example", first_name=HOSTILE, last_name="", language="en")]
    inv_store.import_contacts(write_contacts_csv(tmp_path / "hostile.csv", rows), GROUP)
    inv_store.opt_out(77, GROUP, source="manual", actor="t")
    inv_store.release()
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOKS / NAME, root / NAME)
    selection = tmp_path / "selection.json"
    set_selection(GROUP, [1, 2, 77], origin="02-opted-out-contacts", path=selection)
    server = start_lab(inv_store.path, root, {
        "OPTDESK_SELECTION": str(selection), "OPTDESK_ACTOR": "browser-analyst",
        "OPTDESK_DATA_GROUP": GROUP, "OPTDESK_SECRET": KEY.decode(), "OPTDESK_SMTP_URL": url})
    yield server, sink
    server.stop()


def test_preview_and_send_in_the_browser(lab, browser_page, inv_store):
    server, sink = lab
    page = browser_page
    open_and_run(page, server, NAME)
    page.locator(".widget-button", has_text="Load contacts").click()
    page.get_by_text("will be skipped").wait_for(timeout=20_000)
    page.locator(".widget-button", has_text="Preview").click()
    page.get_by_text("Dear Ann One").wait_for(timeout=20_000)
    screenshot(page, "invitations-preview")
    page.locator(".widget-button", has_text="Send invitations").click()
    page.locator(".widget-button", has_text="Confirm: send").click()
    page.get_by_text("2 sent, 1 skipped").wait_for(timeout=30_000)
    screenshot(page, "invitations-sent")
    assert sorted(m["rcpt_tos"][0] for m in sink.messages) == ["a1@news.example",
                                                               "h77@news.example"]
    assert page.dialogs == []  # the hostile name never ran as HTML
    assert page.get_by_text(HOSTILE).first.is_visible()  # shown as text
    assert inv_store.events(kinds=["invitation_sent"])["actor"].to_list() == ["browser-analyst"] * 2
    inv_store.release()


@pytest.fixture
def desk(inv_store, smtp_sink, tmp_path):
    """The app (`optdesk desk`) over notebook 03, the fixture store and a real SMTP server."""
    sink, url = smtp_sink
    inv_store.release()
    root = tmp_path / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOKS / NAME, root / NAME)
    server = start_desk(inv_store.path, root, {
        "OPTDESK_SELECTION": str(tmp_path / "selection.json"), "OPTDESK_ACTOR": "browser-analyst",
        "OPTDESK_DATA_GROUP": GROUP, "OPTDESK_SECRET": KEY.decode(), "OPTDESK_SMTP_URL": url})
    yield server, sink
    server.stop()


def test_in_the_app_switching_from_ids_to_a_filter_mails_the_filtered_set(desk, browser_page,
                                                                        inv_store):
    server, sink = desk
    page = browser_page
    open_app(page, server, NAME, ".widget-button:has-text('Load contacts')")
    page.locator(".widget-radio-box label", has_text=SOURCES[2]).click()
    page.locator("textarea[placeholder^=\"the team's ids\"]").fill("1 5")
    page.locator(".widget-button", has_text="Load contacts").click()
    page.get_by_text("2 contacts: 1 can be invited").wait_for(timeout=20_000)
    page.locator(".widget-radio-box label", has_text=SOURCES[1]).click()  # now a filter
    page.locator(".widget-dropdown:has(label:text-is('Contact language')) select").select_option("fr")
    page.locator(".widget-button", has_text="Preview").click()
    page.locator(".optdesk-mail").first.wait_for(timeout=20_000)
    who = page.locator(".optdesk-who").inner_text()
    assert "a6@news.example" in who and "a1@news.example" not in who
    screenshot(page, "desk-03-who-and-preview")
    assert "Message-ID" not in page.locator(".optdesk-mail").first.inner_text()
    page.locator(".widget-button", has_text="Send invitations").click()
    page.get_by_text("to the 1 contacts listed above").wait_for(timeout=20_000)
    page.locator(".widget-button", has_text="Confirm: send").click()
    page.get_by_text("3 skipped, 1 sent").wait_for(timeout=30_000)
    screenshot(page, "desk-03-sent")
    assert [m["rcpt_tos"][0] for m in sink.messages] == ["a6@news.example"]
    assert inv_store.invitations(GROUP)["language"].to_list() == ["fr"]
    assert page.dialogs == []
