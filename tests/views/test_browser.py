"""The notebooks in a real JupyterLab, driven in headless Chromium (Debian's, via Playwright).

Screenshots: tests/artifacts/admin-*.png.
"""

from __future__ import annotations

import re

import polars as pl
import pytest

from fixtures.jupyter import HOSTILE, HOSTILE_ID, open_and_run, screenshot
from optdesk.store import Store
from optdesk.views.render import GRID_COLUMNS
from optdesk.views.selection import get_selection

pytestmark = [pytest.mark.browser, pytest.mark.slow]

OUTPUT = ".jp-OutputArea-output"


def dropdown(page, description: str):
    return page.locator(f".widget-dropdown:has(label:text-is('{description}')) select").first


def test_01_find_opt_out_and_confirm(jupyter_lab, browser_page):
    page = browser_page
    open_and_run(page, jupyter_lab, "01-opt-out-a-contact.ipynb")
    search = page.locator("input[placeholder^='Name and outlet words']")
    search.click()
    search.press_sequentially("dup", delay=60)
    options = page.locator(".widget-select select option")
    options.first.wait_for(timeout=10_000)
    labels = options.all_inner_texts()
    assert all("dup" in label.lower() for label in labels)
    label = next(x for x in labels if "OPTED OUT" not in x)
    contact_id = int(re.search(r"\[#(\d+)\]", label).group(1))
    page.locator(".widget-select select").select_option(label=label)
    page.get_by_text("can be mailed").wait_for(timeout=10_000)
    screenshot(page, "admin-01-record")
    page.locator(".widget-button", has_text="Opt out from email").click()
    page.locator("input[placeholder^='optional']").fill("asked by phone (browser test)")
    screenshot(page, "admin-01-confirm")
    page.locator(".widget-button", has_text="Confirm opt-out").click()
    page.get_by_text("is opted out of demo").wait_for(timeout=10_000)
    assert page.locator(".optdesk-state", has_text="opted out").is_visible()
    assert page.locator(".optdesk-state", has_text="asked by phone (browser test)").is_visible()
    assert page.locator(".widget-button", has_text="Request to opt back in").is_visible()
    assert not page.locator(".widget-button", has_text="Opt out from email").is_visible()
    screenshot(page, "admin-01-opted-out")
    store = Store(jupyter_lab.db)
    optout = store.contact(contact_id, "demo")["optout"]
    store.release()
    assert optout["source"] == "manual" and optout["actor"] == "browser-analyst"
    assert optout["reason"] == "asked by phone (browser test)"


def test_01_hostile_name_is_text_and_hand_off(jupyter_lab, browser_page, monkeypatch):
    page = browser_page
    open_and_run(page, jupyter_lab, "01-opt-out-a-contact.ipynb")
    search = page.locator("input[placeholder^='Name and outlet words']")
    search.click()
    search.press_sequentially("<img", delay=60)
    option = page.locator(".widget-select select option").first
    option.wait_for(timeout=10_000)
    assert option.inner_text().replace("\xa0", " ").startswith(HOSTILE + " — Reporter, <b>Bold</b> & Co")
    page.locator(".widget-select select").select_option(index=0)
    record = page.locator(".optdesk-record")
    record.wait_for(timeout=10_000)
    assert record.locator("h3").inner_text() == HOSTILE
    assert "<b>Bold</b> & Co" in record.inner_text()
    assert record.locator("img").count() == 0 and record.locator("b", has_text="Bold").count() == 0
    page.locator(".widget-button", has_text="Request to opt back in").click()
    page.get_by_text("selected for an opt-in invitation").wait_for(timeout=10_000)
    screenshot(page, "admin-01-hostile")
    assert page.dialogs == [], "an injected script ran"
    monkeypatch.setenv("OPTDESK_SELECTION", str(jupyter_lab.root.parent / "selection.json"))
    selection = get_selection()
    assert selection.contact_ids == (HOSTILE_ID,) and selection.data_group == "demo"


def test_02_filter_by_list_grid_sort_by_reach(jupyter_lab, browser_page):
    page = browser_page
    store = Store(jupyter_lab.db)
    lists = store.lists("demo").sort("opted_out", descending=True)
    chosen = lists.row(0, named=True)
    want = store.opted_out("demo", lists=[chosen["list_id"]], sort_by="reach", descending=True,
                           limit=24)
    store.release()
    open_and_run(page, jupyter_lab, "02-opted-out-contacts.ipynb")
    page.locator(".optdesk-card").first.wait_for(timeout=10_000)
    screenshot(page, "admin-02-profiles")
    media = dropdown(page, "Media list")
    label = next(t for t in media.locator("option").all_inner_texts()
                 if t.replace("\xa0", " ").startswith(chosen["name"] + " — "))
    media.select_option(label=label)
    total = int(want["total"][0])
    page.locator(".optdesk-summary", has_text=f"{total:,} opted out").wait_for(timeout=10_000)
    page.locator(".widget-toggle-button", has_text="Grid").click()
    page.locator(".widget-button", has_text="Reach").first.wait_for(state="visible")
    page.locator(".widget-button", has_text=re.compile(r"^Reach$")).click()
    page.locator(".widget-button", has_text="Reach ▼").wait_for(timeout=10_000)
    rows = page.locator(".widget-html:has(.optdesk-cell)")
    rows.first.wait_for(timeout=10_000)
    first_cells = rows.first.locator(".optdesk-cell").all_inner_texts()
    reach = [c for c, *_ in GRID_COLUMNS].index("reach")
    assert first_cells[0] == want["name"][0] and first_cells[reach] == f"{want['reach'][0]:,}"
    shown = [int(r.locator(".optdesk-cell").nth(reach).inner_text().replace(",", ""))
             for r in rows.all() if r.is_visible()]
    assert shown == want["reach"].to_list()
    screenshot(page, "admin-02-grid-by-reach")
    page.locator(".widget-button", has_text="Select page").click()
    page.get_by_text("24 selected").wait_for(timeout=10_000)
    page.locator(".widget-button", has_text="Export selection to CSV").click()
    link = page.locator("a[download]")
    link.wait_for(timeout=10_000)
    with page.expect_download() as info:
        link.click()
    csv = pl.read_csv(info.value.path())
    assert sorted(csv["contact_id"].to_list()) == sorted(want["contact_id"].to_list())
    page.locator(".widget-button", has_text="Send to the invitation notebook").click()
    page.get_by_text("24 contacts are selected for opt-in invitations").wait_for(timeout=10_000)
    screenshot(page, "admin-02-selection-actions")
    sel = get_selection(jupyter_lab.root.parent / "selection.json")
    assert sorted(sel.contact_ids) == sorted(want["contact_id"].to_list())
    assert page.dialogs == []


def test_05_review_queue_one_click(jupyter_lab, browser_page):
    from .test_review_queue import add_review

    page = browser_page
    store = Store(jupyter_lab.db)
    add_review(store, "br-h1", "<b>someone</b>@example.org", HOSTILE_ID, minutes=1,
               new_text="<img src=x onerror=alert(3)> take me off your list, maybe?")
    add_review(store, "br-h2", "stranger@example.net", None, minutes=2, reason="unknown sender")
    store.release()
    open_and_run(page, jupyter_lab, "05-review-queue.ipynb")
    record = page.locator(".optdesk-record")
    record.wait_for(timeout=10_000)
    assert "<img src=x onerror=alert(3)> take me off your list, maybe?" in record.inner_text()
    assert record.locator("img").count() == 0
    screenshot(page, "admin-05-queue")
    page.locator(".widget-button", has_text="Human reply").click()
    page.get_by_text("human reply.").wait_for(timeout=10_000)
    page.locator(".optdesk-record", has_text="stranger@example.net").wait_for(timeout=10_000)
    screenshot(page, "admin-05-next")
    assert page.dialogs == []
    store = Store(jupyter_lab.db)
    resolved = store.review_queue("demo", state="resolved")
    store.release()
    assert resolved["message_hash"].to_list() == ["br-h1"]
    assert resolved["resolved_by"].to_list() == ["browser-analyst"]
