"""Issue 14 in the app (`optdesk desk`, Voilà) in headless Chromium: a click on a card or a grid
row of 02 opens the record in place, 05 opens the item's contact, 02's "And lists" picks lists
by search, and arrow-down in 01's search box moves into the results.

Screenshots: tests/artifacts/desk14-*.png (looked at when the views change).
"""

from __future__ import annotations

import re

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


def test_05_open_the_contact_of_a_review_item(desk_app, browser_page):
    from .conftest import mailable_contact
    from .test_review_queue import add_review

    store = Store(desk_app.db)
    contact = mailable_contact(store, "ma")
    add_review(store, "desk14-r1", "someone@example.org", contact["contact_id"], minutes=1,
               new_text="could you remove me from this list")
    store.release()
    page = browser_page
    open_app(page, desk_app, "05-review-queue.ipynb", ".optdesk-record")
    page.locator(".widget-button", has_text="Open the contact's record").click()
    record = page.locator(".optdesk-opened-record")
    record.locator(".optdesk-record h3", has_text=contact["name"]).wait_for(timeout=15_000)
    record.get_by_text(f"contact #{contact['contact_id']}").wait_for(timeout=15_000)
    assert record.locator(".widget-button", has_text="Opt out from email").is_visible()
    evidence = page.locator(".optdesk-record mark", has_text="remove").first
    assert evidence.bounding_box()["y"] > record.bounding_box()["y"], "the item stays in view"
    screenshot(page, "desk14-05-contact-opened")
    record.locator(".widget-button", has_text="Close the record").click()
    record.wait_for(state="hidden", timeout=15_000)
    assert page.dialogs == []


def contact_id(label: str) -> str:
    """The id at the end of a result's label: '… [#677]'."""
    return label.rsplit("[#", 1)[1].rstrip("] ")


def test_01_arrow_down_from_the_search_box_moves_into_the_results(desk_app, browser_page):
    page = browser_page
    search = "input[placeholder^='Name and outlet words']"
    open_app(page, desk_app, "01-opt-out-a-contact.ipynb", search)
    box = page.locator(search)
    box.fill("anna jansen")  # one change, one search: the results do not move under the key
    options = page.locator(".optdesk-results select option")
    options.first.wait_for(timeout=15_000)
    page.get_by_text(re.compile(r"[\d,]+ contacts match")).wait_for(timeout=15_000)
    first = options.first.inner_text()
    box.press("ArrowDown")  # the focus stays nowhere else: straight from the box
    page.wait_for_function(
        "() => document.activeElement && document.activeElement.closest('.optdesk-results')",
        timeout=15_000)
    record = page.locator(".optdesk-record").first
    record.get_by_text(f"contact #{contact_id(first)}").wait_for(timeout=15_000)
    page.keyboard.press("ArrowDown")  # and on in the list
    second = options.nth(1).inner_text()
    record.get_by_text(f"contact #{contact_id(second)}").wait_for(timeout=15_000)
    assert page.locator(".optdesk-results select").evaluate("s => s.selectedIndex") == 1
    screenshot(page, "desk14-01-arrow-down")
    assert page.dialogs == []
