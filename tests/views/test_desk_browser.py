"""The analysts' desk as an app (`optdesk desk`: Voilà, no code) in headless Chromium.

Screenshots: tests/artifacts/desk-*.png (looked at when the views change).
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from fixtures.jupyter import open_app, screenshot
from optdesk.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SEARCH = "input[placeholder^='Name and outlet words']"
OPTION = ".widget-select select option"


def store_of(desk) -> Store:
    return Store(desk.db)


def namesake_at_a_smaller_outlet(desk) -> dict:
    """A contact whose name others share, not the biggest reach among them."""
    store = store_of(desk)
    try:
        found = store.search_contacts("matteo esposito", "demo", limit=200).rows
        return found.filter(~found["opted_out"]).row(-1, named=True)
    finally:
        store.release()


def search(page, text: str) -> None:
    box = page.locator(SEARCH)
    box.fill("")
    box.press_sequentially(text, delay=20)


def test_01_find_by_name_and_outlet_by_email_and_by_id(desk_app, browser_page):
    page = browser_page
    target = namesake_at_a_smaller_outlet(desk_app)
    open_app(page, desk_app, "01-opt-out-a-contact.ipynb", SEARCH)
    assert "from optdesk.views" not in page.inner_text("body"), "no code in the app"
    search(page, f"matteo esposito {target['outlet'].lower()}")
    page.locator(OPTION, has_text=f"[#{target['contact_id']}]").wait_for(timeout=15_000)
    page.locator(SEARCH).press("Enter")
    record = page.locator(".optdesk-record")
    record.get_by_text(f"contact #{target['contact_id']}").wait_for(timeout=15_000)
    screenshot(page, "desk-01-name-and-outlet")
    search(page, target["email"])
    page.get_by_text("1 contact match").wait_for(timeout=15_000)
    assert page.locator(OPTION).count() == 1
    search(page, f"#{target['contact_id']}")
    page.get_by_text("1 contact match").wait_for(timeout=15_000)
    options = page.locator(OPTION).all_inner_texts()
    assert len(options) == 1 and f"[#{target['contact_id']}]" in options[0]
    search(page, "soren")
    page.get_by_text(re.compile(r"[\d,]+ contacts match")).wait_for(timeout=15_000)
    page.locator(".widget-select select").focus()
    page.keyboard.press("ArrowDown")  # the arrow keys move in the results
    page.locator(".optdesk-record h3", has_text="Søren").wait_for(timeout=15_000)
    screenshot(page, "desk-01-keyboard")
    assert page.dialogs == []


def test_01_undo_a_manual_opt_out(desk_app, browser_page):
    page = browser_page
    target = namesake_at_a_smaller_outlet(desk_app)
    open_app(page, desk_app, "01-opt-out-a-contact.ipynb", SEARCH)
    search(page, f"#{target['contact_id']}")
    page.locator(OPTION).first.wait_for(timeout=15_000)
    page.locator(SEARCH).press("Enter")
    page.locator(".widget-button", has_text="Opt out from email").click()
    page.locator(".widget-button", has_text="Confirm opt-out").click()
    page.get_by_text("is opted out of demo").wait_for(timeout=15_000)
    page.locator(".widget-button", has_text="Undo this opt-out").click()
    page.locator("input[placeholder^='required, e.g. \\'wrong']").fill("wrong Matteo (browser)")
    screenshot(page, "desk-01-undo-confirm")
    page.locator(".widget-button", has_text="Confirm undo").click()
    page.get_by_text("is undone").wait_for(timeout=15_000)
    assert page.locator(".widget-button", has_text="Opt out from email").is_visible()
    screenshot(page, "desk-01-undone")
    store = store_of(desk_app)
    record = store.contact(target["contact_id"], "demo")
    store.release()
    assert record["optout"] is None
    undone = record["history"].filter(pl.col("kind") == "opt_out_undone")
    assert undone["actor"].to_list() == ["browser-analyst"]
    assert undone["reason"].to_list() == ["wrong Matteo (browser)"]


def test_02_open_a_contact_then_export_and_download(desk_app, browser_page):
    page = browser_page
    open_app(page, desk_app, "02-opted-out-contacts.ipynb", ".optdesk-card")
    first_name = page.locator(".optdesk-card .n").first.inner_text()
    page.locator(".optdesk-hit").first.click()  # the card itself (its full-size button)
    page.locator(".optdesk-record h3", has_text=first_name).wait_for(timeout=15_000)
    screenshot(page, "desk-02-open-contact")
    page.locator(".widget-button", has_text="Close the record").click()
    page.locator(".widget-button", has_text="Select page").click()
    page.get_by_text("24 selected").wait_for(timeout=15_000)
    page.locator(".widget-button", has_text="Export selection to CSV").click()
    link = page.locator("a.optdesk-download")
    link.wait_for(timeout=15_000)
    assert link.get_attribute("href").startswith("/voila/files/exports/opted-out-demo-")
    with page.expect_download() as info:
        link.click()
    csv = pl.read_csv(info.value.path())
    assert csv.height == 24 and csv["email"].null_count() == 0
    assert all(t.endswith("Z") for t in csv["opted_out_at"])
    screenshot(page, "desk-02-exported")


def test_05_reopen_a_review_item(desk_app, browser_page):
    from .test_review_queue import add_review

    store = store_of(desk_app)
    add_review(store, "desk-r1", "someone@example.org", 15, minutes=1,
               new_text="could you remove me from this list")
    store.release()
    page = browser_page
    open_app(page, desk_app, "05-review-queue.ipynb", ".optdesk-record")
    page.locator(".optdesk-record mark", has_text="remove").first.wait_for(timeout=15_000)
    page.locator("input[placeholder^='optional note']").fill("a person's question")
    page.locator(".widget-button", has_text="Human reply").click()
    page.get_by_text("human reply.").wait_for(timeout=15_000)
    page.locator(".widget-toggle-button", has_text="Resolved").click()
    page.locator(OPTION, has_text="a person's question").wait_for(timeout=15_000)
    page.locator(".widget-select select").select_option(index=0)
    page.locator(".widget-button", has_text="Reopen this decision").click()
    page.get_by_text("reopened; it is in Open again").wait_for(timeout=15_000)
    screenshot(page, "desk-05-reopened")
    store = store_of(desk_app)
    reopened = store.events(kinds=["review_reopened"])
    queue = store.review_queue("demo", state="open")
    store.release()
    assert reopened["actor"].to_list() == ["browser-analyst"]
    assert "desk-r1" in queue["message_hash"].to_list()


def test_04_lists_scroll_with_the_names_in_view(desk_app, browser_page):
    page = browser_page
    open_app(page, desk_app, "04-reports.ipynb", ".tablewrap")
    box = page.locator(".tablewrap").first
    assert box.evaluate("e => getComputedStyle(e).overflow") == "auto"
    name_cell = box.locator("td.name").first
    before = name_cell.bounding_box()["x"]
    box.evaluate("e => { e.scrollLeft = 400; }")
    page.wait_for_timeout(200)
    assert abs(name_cell.bounding_box()["x"] - before) < 2, "the list name stays in view"
    screenshot(page, "desk-04-report")
