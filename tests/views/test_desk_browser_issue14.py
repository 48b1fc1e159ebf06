"""Issue 14 in the app (`optdesk desk`, Voilà) in headless Chromium: a click on a card or a grid
row of 02 opens the record in place, 05 opens the item's contact, 02's "And lists" picks lists
by search, and arrow-down in 01's search box moves into the results.

Screenshots: tests/artifacts/desk14-*.png (looked at when the views change).
"""

from __future__ import annotations

import pytest

from fixtures.jupyter import open_app, screenshot
from optdesk.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CARD = ".optdesk-card"


def click_on(page, locator) -> None:
    """A real mouse click in the middle of what the analyst sees (the card's text)."""
    locator.scroll_into_view_if_needed()
    box = locator.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)


def test_02_a_click_on_a_card_opens_the_record_under_it(desk_app, browser_page):
    page = browser_page
    open_app(page, desk_app, "02-opted-out-contacts.ipynb", CARD)
    card = page.locator(CARD).nth(4)
    name = card.locator(".n").inner_text()
    click_on(page, card)
    record = page.locator(".optdesk-opened-record")
    record.locator(".optdesk-record h3", has_text=name).wait_for(timeout=15_000)
    card_box, record_box = card.bounding_box(), record.bounding_box()
    screenshot(page, "desk14-02-card-opened")
    assert record_box["y"] >= card_box["y"] + card_box["height"] - 2, "under the card"
    assert record_box["y"] - (card_box["y"] + card_box["height"]) < 60, "right under it"
    assert record.locator(".widget-button", has_text="Close the record").is_visible()
    screenshot(page, "desk14-02-card-opened")
    record.locator(".widget-button", has_text="Close the record").click()
    record.wait_for(state="hidden", timeout=15_000)
    assert page.dialogs == []


def test_02_a_click_on_a_grid_row_opens_the_record_under_it(desk_app, browser_page):
    page = browser_page
    open_app(page, desk_app, "02-opted-out-contacts.ipynb", CARD)
    page.locator(".widget-toggle-button", has_text="Grid").click()
    cells = page.locator(".optdesk-face:has(.optdesk-cell)")
    cells.first.wait_for(timeout=15_000)
    for header in ("Title", "Email"):
        assert page.locator(".widget-button", has_text=header).first.is_visible()
    row = cells.nth(2)
    name = row.locator(".optdesk-cell").first.inner_text()
    email = row.locator(".optdesk-cell").nth(3).inner_text()
    assert "@" in email
    click_on(page, row)
    record = page.locator(".optdesk-opened-record")
    record.locator(".optdesk-record h3", has_text=name).wait_for(timeout=15_000)
    assert record.bounding_box()["y"] > row.bounding_box()["y"]
    screenshot(page, "desk14-02-grid-row-opened")


def test_02_choose_two_lists_by_search(desk_app, browser_page):
    page = browser_page
    store = Store(desk_app.db)
    lists = store.lists("demo").sort("name")
    store.release()
    a, b = lists["name"][0], lists["name"][1]
    open_app(page, desk_app, "02-opted-out-contacts.ipynb", CARD)
    find = page.locator("input[placeholder^='find lists']")
    matches = page.locator(".optdesk-list-matches select")
    chosen = page.locator(".optdesk-chosen-lists")
    for name in (a, b):
        find.fill("")
        find.press_sequentially(name, delay=20)
        page.locator(".optdesk-list-matches option", has_text=name).first.wait_for(
            timeout=15_000)
        matches.select_option(label=page.locator(".optdesk-list-matches option",
                                                 has_text=name).first.inner_text())
        chosen.locator(".widget-button", has_text=name).wait_for(timeout=15_000)
    assert chosen.locator(".widget-button").count() == 2
    store = Store(desk_app.db)
    ids = [int(lists.filter(lists["name"] == n)["list_id"][0]) for n in (a, b)]
    total = store.opted_out("demo", lists=ids, limit=None).height
    store.release()
    page.locator(".optdesk-summary", has_text=f"{total:,} opted out").wait_for(timeout=15_000)
    screenshot(page, "desk14-02-two-lists")
    chosen.locator(".widget-button", has_text=a).click()  # a chosen list is taken off again
    page.wait_for_function(
        "() => document.querySelectorAll('.optdesk-chosen-lists .widget-button').length == 1",
        timeout=15_000)
