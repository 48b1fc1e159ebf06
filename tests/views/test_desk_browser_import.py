"""The desk app (Voilà in headless Chromium), notebook 07: the team's own contact export, one row
per contact with several address columns and text ids, previewed and imported from the app,
then found by its id in 01.

Screenshots: tests/artifacts/desk-07-*.png (looked at when the view changes).
"""

from __future__ import annotations

import pytest

from fixtures.jupyter import open_app, screenshot
from optdesk.store import Store

pytestmark = [pytest.mark.browser, pytest.mark.slow]

EXPORT = ("Contact ID,First Name,Last Name,Account Name,Email,Email 2,Personal Email\n"
          "imp-003Aa00000XyZ12,Solveig,Brænne,Aftenposten,solveig@aftenposten.example,"
          "sb@aftenposten.example,solveig@home.example\n"
          "imp-c-1234,Ann,O'Brien,Daily Tribune,ann@tribune.example,,\n")
COLUMNS = ("Contact ID=contact_id\nFirst Name=first_name\nLast Name=last_name\n"
           "Account Name=outlet\nEmail=email_primary\nEmail 2=email_system\n"
           "Personal Email=email_private")


def test_07_preview_then_import_an_export_and_find_it_by_id(desk_app, browser_page, tmp_path):
    export = tmp_path / "crm-export.csv"
    export.write_text(EXPORT, encoding="utf-8")
    page = browser_page
    open_app(page, desk_app, "07-import-contacts.ipynb", ".widget-upload")
    with page.expect_file_chooser() as chooser:
        page.locator(".widget-upload").click()
    chooser.value.set_files(str(export))
    page.locator("textarea[placeholder^='COLUMN=FIELD']").fill(COLUMNS)
    page.locator(".widget-button", has_text="Preview").click()
    page.get_by_text("2 new, 0 updated, 0 unchanged, 0 refused").wait_for(timeout=30_000)
    store = Store(desk_app.db)
    assert store.db.scalar("SELECT count(*) FROM contacts WHERE external_id LIKE 'imp-%'") == 0
    store.release()
    screenshot(page, "desk-07-preview")
    page.locator(".widget-button", has_text="Import").last.click()
    page.get_by_text("imported 2 rows: 2 contacts (2 new)").wait_for(timeout=30_000)
    screenshot(page, "desk-07-imported")
    store = Store(desk_app.db)
    key = store.contact_key("imp-003Aa00000XyZ12")
    assert store.addresses_of(key, "demo") == {
        "solveig@aftenposten.example", "sb@aftenposten.example", "solveig@home.example"}
    store.release()
    open_app(page, desk_app, "01-opt-out-a-contact.ipynb", "input[placeholder^='Name and outlet']")
    page.locator("input[placeholder^='Name and outlet']").press_sequentially(
        "imp-003Aa00000XyZ12", delay=10)
    page.locator(".widget-select select option", has_text="Brænne").wait_for(timeout=15_000)
    assert page.dialogs == []
