"""The desk app (Voilà in headless Chromium) for issue 15: opt out an outlet with its contacts
from 01; import an engagement export in 06 and add the clickers to a new list.

Screenshots: tests/artifacts/desk-01-outlet-*.png, desk-06-*.png (looked at when views change).
"""

from __future__ import annotations

import polars as pl
import pytest

from fixtures.jupyter import open_app, screenshot
from optdesk.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEARCH = "input[placeholder^='Name and outlet words']"
OPTION = ".widget-select select option"


def an_outlet(desk) -> dict:
    """An outlet of the demo with its own addresses and at least three contacts."""
    store = Store(desk.db)
    try:
        return store.db.frame(
            "SELECT o.outlet_id, o.name FROM outlets o WHERE o.outlet_id IN"
            " (SELECT outlet_id FROM outlet_addresses) AND (SELECT count(*) FROM contacts c"
            " WHERE c.outlet_id = o.outlet_id) >= 3 AND o.outlet_id NOT IN"
            " (SELECT outlet_id FROM outlet_optouts) ORDER BY o.reach DESC LIMIT 1"
        ).row(0, named=True)
    finally:
        store.release()


def test_01_opt_out_an_outlet_with_its_contacts(desk_app, browser_page):
    page = browser_page
    target = an_outlet(desk_app)
    open_app(page, desk_app, "01-opt-out-a-contact.ipynb", SEARCH)
    box = page.locator(SEARCH)
    box.fill("")
    box.press_sequentially(target["name"].lower(), delay=20)
    mark = f"[outlet {target['outlet_id']}]"
    page.locator(OPTION, has_text=mark).wait_for(timeout=15_000)
    labels = page.locator(OPTION).evaluate_all(
        "os => os.map(o => o.textContent.replace(/\\u00a0/g, ' '))")
    index = next(i for i, label in enumerate(labels) if mark in label)
    assert labels[index].startswith("OUTLET · ")
    page.locator(".widget-select select").select_option(index=index)
    record = page.locator(".optdesk-outlet")
    record.locator("h3", has_text=target["name"]).wait_for(timeout=15_000)
    assert record.get_by_text("Its own addresses").is_visible()
    screenshot(page, "desk-01-outlet-record")
    page.locator(".widget-button", has_text="Opt out this outlet").click()
    page.locator(".widget-checkbox", has_text="also opt out its").locator("input").check()
    page.locator("input[placeholder^='e.g. \\'asked by the editor']").fill(
        "the editor asked (browser)")
    screenshot(page, "desk-01-outlet-confirm")
    page.locator(".widget-button", has_text="Confirm outlet opt-out").click()
    page.get_by_text("is opted out of demo with").wait_for(timeout=15_000)
    page.locator(OPTION, has_text="OPTED OUT").filter(has_text=mark).wait_for(timeout=15_000)
    screenshot(page, "desk-01-outlet-opted-out")
    store = Store(desk_app.db)
    after = store.outlet(target["outlet_id"], "demo")
    store.release()
    assert after["optout"]["with_contacts"] and after["optout"]["actor"] == "browser-analyst"
    assert after["optout"]["reason"] == "the editor asked (browser)"
    assert after["contacts"]["opted_out"].all()
    assert after["addresses"]["suppressed"].all()
    assert page.dialogs == []


def test_06_import_an_export_and_add_the_clickers_to_a_new_list(desk_app, browser_page,
                                                                 tmp_path):
    store = Store(desk_app.db)
    people = store.sample_contacts("demo", 5)
    store.release()
    clickers = people["contact_id"].to_list()[:3]
    export = tmp_path / "april-send.csv"
    pl.DataFrame({
        "email": people["email"].to_list() + people["email"].to_list()[:3],
        "event": ["open"] * 5 + ["click"] * 3,
        "timestamp": ["2026-04-01T10:00:00Z"] * 8,
    }).write_csv(export)
    page = browser_page
    open_app(page, desk_app, "06-engagement.ipynb", ".widget-upload")
    with page.expect_file_chooser() as chooser:  # the upload button's own file dialog
        page.locator(".widget-upload").click()
    chooser.value.set_files(str(export))
    page.locator("input[placeholder^='e.g. launch']").fill("april-send")
    page.locator(".widget-button", has_text="Import engagement").click()
    page.get_by_text("8 rows imported into april-send").wait_for(timeout=30_000)
    page.get_by_text("engaged with april-send").wait_for(timeout=15_000)
    page.locator(".widget-dropdown", has_text="Who").locator("select").select_option(
        label="clicked")
    page.get_by_text("3 contacts and").wait_for(timeout=15_000)
    screenshot(page, "desk-06-imported-clickers")
    page.locator("input[placeholder='new or existing list']").fill("April clickers")
    page.locator(".widget-button", has_text="Add engagers to list").click()
    page.get_by_text("April clickers (created): 3 contacts added.").wait_for(timeout=15_000)
    screenshot(page, "desk-06-added-to-list")
    store = Store(desk_app.db)
    members = store.db.frame(
        "SELECT m.contact_id FROM list_members m JOIN media_lists l USING (list_id)"
        " WHERE l.data_group = 'demo' AND l.name = 'April clickers' ORDER BY 1")
    store.release()
    assert members["contact_id"].to_list() == sorted(clickers)
    assert page.dialogs == []
