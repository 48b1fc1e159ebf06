"""Notebook 02's view without a browser: filters, sort, pages, views, selection and its actions."""

from __future__ import annotations

import datetime as dt
import html

import polars as pl
import pytest

from optdesk.views.opted_out import OptedOutView
from optdesk.views.selection import get_selection

from .conftest import HOSTILE, HOSTILE_ID


def view_of(store, tmp_path, **kw) -> OptedOutView:
    return OptedOutView(store, "demo", actor="ana@desk", debounce=0, page_size=10,
                        export_dir=tmp_path / "exports", **kw)


def shown_ids(view: OptedOutView) -> list[int]:
    return [r.contact_id for r in view.rows if r.box.layout.display != "none"]


def test_default_is_the_profile_view_of_everyone_by_name(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    for dropdown in (view.filters.lists, view.filters.source, view.filters.country,
                     view.filters.language):
        assert dropdown.index == 0 and dropdown.label.startswith("any") or dropdown.label == "all lists"
    expected = demo_store.opted_out("demo", limit=10)
    assert view.total == demo_store.opted_out("demo", limit=None).height > 10
    assert shown_ids(view) == expected["contact_id"].to_list()
    assert f"<b>{view.total:,}</b> opted out" in view.summary.value
    first = expected.row(0, named=True)
    card = view.rows[0].html.value
    assert "optdesk-card" in card and first["outlet"] in card and f"{first['reach']:,}" in card
    assert first["opted_out_at"].strftime("%Y-%m-%d %H:%M") in card
    assert view.header.layout.display == "none"


def test_filters_combine_like_the_store(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    list_id = view.filters.lists.options[1][1]
    view.filters.lists.value = list_id
    view.filters.source.value = "reply"
    view.filters.country.value = ""
    args = {"lists": [list_id], "sources": ["reply"]}
    expected = demo_store.opted_out("demo", limit=None, **args)
    assert view.total == expected.height
    assert set(shown_ids(view)) <= set(expected["contact_id"])
    view.filters.source.value = ""
    view.filters.language.value = "fr"
    expected = demo_store.opted_out("demo", limit=None, lists=[list_id], languages=["fr"])
    assert view.total == expected.height and 0 < view.total < demo_store.opted_out("demo")["total"][0]
    assert view.actions.remove_list.value == list_id


def test_free_text_and_outlet(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    view.filters.text.value = "dupont"
    expected = demo_store.opted_out("demo", text="dupont", limit=None)
    assert view.total == expected.height > 0
    outlet = expected["outlet"][0]
    view.filters.text.value = ""
    view.filters.outlet.value = outlet[:5]
    assert all(outlet[:5].lower() in o.lower() for o in view.filters.outlet.options)
    assert "choose one from the suggestions" in view.status.text
    view.filters.outlet.value = outlet
    assert view.total == demo_store.opted_out("demo", outlets=[outlet], limit=None).height
    assert view.status.text == ""


def test_date_range_and_a_bad_range(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    dates = demo_store.opted_out("demo", limit=None)["opted_out_at"].sort()
    since, until = dates[len(dates) // 4].date(), dates[len(dates) // 2].date()
    view.filters.since.value = since
    view.filters.until.value = until
    assert view.total == demo_store.opted_out("demo", since=since, until=until, limit=None).height
    before = view.total
    view.filters.since.value = until + dt.timedelta(days=3)
    assert "is after the end date" in view.status.text
    assert view.total == before, "the last good page stays"


@pytest.mark.parametrize("key", ["name", "outlet", "reach", "opted_out_at"])
def test_sort_both_ways(demo_store, tmp_path, key):
    view = view_of(demo_store, tmp_path)
    view.filters.sort_by.value = key
    view.filters.order.value = True
    assert shown_ids(view) == demo_store.opted_out(
        "demo", sort_by=key, descending=True, limit=10)["contact_id"].to_list()
    view.filters.order.value = False
    assert shown_ids(view) == demo_store.opted_out("demo", sort_by=key, limit=10)[
        "contact_id"].to_list()


def test_grid_view_with_sortable_headers(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    view.view_mode.value = "grid"
    assert view.header.layout.display == ""
    assert "optdesk-cell" in view.rows[0].html.value
    view.sort_buttons["reach"].click()
    by_reach = demo_store.opted_out("demo", sort_by="reach", descending=True, limit=10)
    assert shown_ids(view) == by_reach["contact_id"].to_list()
    assert view.sort_buttons["reach"].description == "Reach ▼"
    view.sort_buttons["reach"].click()
    assert view.sort_buttons["reach"].description == "Reach ▲"
    assert shown_ids(view) == demo_store.opted_out("demo", sort_by="reach", limit=10)[
        "contact_id"].to_list()
    view.view_mode.value = "profile"
    assert "optdesk-card" in view.rows[0].html.value


def test_paging_through_results(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    assert view.prev_button.disabled
    view.next_button.click()
    assert view.page == 1
    assert shown_ids(view) == demo_store.opted_out("demo", limit=10, offset=10)[
        "contact_id"].to_list()
    assert "showing 11–20" in view.summary.value
    view.go_to(10**6)
    last = (view.total - 1) // 10
    assert view.page == last and view.next_button.disabled
    assert len(shown_ids(view)) == view.total - last * 10
    view.filters.text.value = "a"
    assert view.page == 0, "a filter change goes back to the first page"


def test_selection_spans_pages_and_sends_to_invitations(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    a = view.rows[0].contact_id
    view.rows[0].tick.value = True
    view.next_button.click()
    assert not view.rows[0].tick.value
    b = view.rows[1].contact_id
    view.rows[1].tick.value = True
    view.prev_button.click()
    assert view.rows[0].tick.value
    assert view.selected == {a, b} and "<b>2</b> selected" in view.selection_label.value
    view.actions.invite_button.click()
    sel = get_selection()
    assert sel.data_group == "demo" and set(sel.contact_ids) == {a, b}
    assert sel.origin == "02-opted-out-contacts"
    view.actions.clear_button.click()
    assert view.selected == set() and view.actions.invite_button.disabled


def test_select_all_matching_then_export_csv(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    view.filters.country.value = "FR"
    view.actions.select_all_button.click()
    expected = demo_store.opted_out("demo", countries=["FR"], limit=None)
    assert view.selected == set(expected["contact_id"]) and len(view.selected) > 10
    view.actions.export_button.click()
    path = view.actions.last_export
    assert path.parent == tmp_path / "exports" and path.suffix == ".csv"
    csv = pl.read_csv(path)
    assert sorted(csv["contact_id"].to_list()) == sorted(expected["contact_id"].to_list())
    assert {"name", "outlet", "reach", "source", "opted_out_at"} <= set(csv.columns)
    assert "data:text/csv;base64," in view.actions.download.value
    assert f"{len(expected):,} contacts exported" in view.actions.download.value


def test_remove_from_a_list_after_confirmation(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    list_id = view.filters.lists.options[1][1]
    view.filters.lists.value = list_id
    before = view.total
    view.actions.select_page_button.click()
    chosen = set(view.page_ids[:3])
    view.clear_selection()
    view.select(chosen)
    view.actions.remove_button.click()
    assert view.actions.confirm_box.layout.display == ""
    view.actions.cancel_button.click()
    assert view.total == before
    view.actions.remove_button.click()
    view.actions.confirm_button.click()
    assert view.total == before - 3
    assert view.filters.lists.value == list_id, "the list filter is kept"
    left = set(demo_store.opted_out("demo", lists=[list_id], limit=None)["contact_id"])
    assert not (chosen & left)
    events = demo_store.events(data_group="demo", kinds=["list_member_removed"])
    assert set(events["contact_id"]) == chosen and set(events["actor"]) == {"ana@desk"}
    assert "Removed 3 of 3" in view.actions.status.text
    assert view.selected == set(), "the removed contacts are no longer selected"
    view.open_contact(sorted(chosen)[0])
    panel = view.panel
    assert panel.restore_box.layout.display == ""
    panel.restore_reason.value = "wrong list"
    panel.restore_button.click()
    assert "is back on" in panel.status.text
    assert sorted(chosen)[0] in demo_store.opted_out("demo", lists=[list_id], limit=None)["contact_id"]
    assert all(demo_store.contact(c, "demo")["optout"] for c in chosen), "still opted out"


def test_hostile_values_are_escaped_in_both_views(hostile_store, tmp_path):
    view = view_of(hostile_store, tmp_path)
    view.filters.text.value = "img"
    assert shown_ids(view) == [HOSTILE_ID]
    for mode in ("profile", "grid"):
        view.view_mode.value = mode
        shown = view.rows[0].html.value
        assert "&lt;img src=x onerror=alert(1)&gt;" in shown and HOSTILE not in shown
        assert "&lt;b&gt;Bold&lt;/b&gt; &amp; Co" in shown
    view.select([HOSTILE_ID])
    view.actions.remove_list.value = next(
        v for label, v in view.actions.remove_list.options if label == "<script>x()</script>")
    view.actions.remove_button.click()
    assert "&lt;script&gt;x()&lt;/script&gt;" in view.actions.confirm_text.value
    assert "<script>" not in view.actions.confirm_text.value


def test_changing_the_data_group(demo_store, tmp_path):
    row = demo_store.find_contacts("ma", "demo", 5).row(0, named=True)
    demo_store.opt_out(row["contact_id"], "other", source="complaint", actor="x")
    view = view_of(demo_store, tmp_path)
    view.select(view.page_ids[:2])
    view.group.value = "other"
    assert view.total == 1 and shown_ids(view) == [row["contact_id"]]
    assert view.selected == set()
    assert view.filters.lists.options == (("all lists", ""),)


def test_open_a_contact_in_place(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    assert view.record_box.layout.display == "none"
    slot = view.rows[1]
    slot.open.click()  # the card's own (transparent, full-size) button: a click on the card
    assert view.record_box.layout.display == ""
    record = demo_store.contact(slot.contact_id, "demo")
    assert f"contact #{slot.contact_id}" in view.panel.record_html.value
    assert record["addresses"]["email"][0] in view.panel.record_html.value
    children = list(view.body.children)
    assert children.index(view.record_box) == children.index(slot.box) + 1, "right under it"
    assert "optdesk-opened" in slot.box._dom_classes
    view.close_button.click()
    assert view.record_box.layout.display == "none"
    assert view.record_box not in view.body.children
    assert "optdesk-opened" not in slot.box._dom_classes


def test_a_grid_row_opens_its_record_under_it_and_paging_closes_it(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    view.view_mode.value = "grid"
    slot = view.rows[4]
    slot.open.click()
    children = list(view.body.children)
    assert children.index(view.record_box) == children.index(slot.box) + 1
    assert f"contact #{slot.contact_id}" in view.panel.record_html.value
    view.view_mode.value = "profile"  # the record stays where it was opened
    assert view.record_box in view.body.children
    view.next_button.click()
    assert view.record_box.layout.display == "none" and view.record_box not in view.body.children


def test_body_children_put_the_record_after_the_clicked_slot():
    from optdesk.views.opted_out import body_children

    assert body_children(["a", "b", "c"], "R", None) == ["a", "b", "c"]
    assert body_children(["a", "b", "c"], "R", 0) == ["a", "R", "b", "c"]
    assert body_children(["a", "b", "c"], "R", 2) == ["a", "b", "c", "R"]


def test_grid_rows_show_title_email_and_never_invited(demo_store, tmp_path):
    from optdesk.views import render

    view = view_of(demo_store, tmp_path)
    view.filters.source.value = "complaint"
    view.view_mode.value = "grid"
    row = view.frame.row(0, named=True)
    cells = view.rows[0].html.value
    assert row["title"] and row["title"] in cells and row["email"] in cells
    assert "never invited" in cells
    assert [h for _c, h, _w, _k in render.GRID_COLUMNS][:4] == ["Name", "Title", "Outlet", "Email"]
    view.filters.source.value = "reply"
    assert "never invited" not in view.rows[0].html.value
    widths = [int(w_.removesuffix("px")) for _c, _h, w_, _k in render.GRID_COLUMNS]
    assert render.grid_width() == f"{render.TICK_WIDTH + sum(widths)}px"
    assert view.header.layout.min_width == view.body.layout.min_width == render.grid_width()
    view.view_mode.value = "profile"  # cards wrap to the page's width again
    assert view.header.layout.min_width is None and view.body.layout.min_width is None


def test_cards_show_title_and_email(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    row = view.frame.row(0, named=True)
    card = view.rows[0].html.value
    assert row["email"] and row["email"] in card and row["title"] in card


def test_several_lists_natural_order_and_iso_dates(demo_store, tmp_path):
    from optdesk.views.opted_out_filters import natural_key

    assert sorted(["Tech #10", "Tech #2", "Tech #1", "tech"], key=natural_key) == [
        "tech", "Tech #1", "Tech #2", "Tech #10"]
    view = view_of(demo_store, tmp_path)
    names = [label.split(" — ")[0] for label, _ in view.filters.more_lists.matches.options]
    assert names == sorted(names, key=natural_key)
    a, b = (v for _, v in view.filters.more_lists.matches.options[:2])
    view.filters.more_lists.matches.value = a  # a click on a match adds it
    view.filters.more_lists.add(b)
    assert view.filters.more_lists.value == (a, b)
    assert view.total == demo_store.opted_out("demo", lists=[a, b], limit=None).height
    view.filters.since.widget.value = "11/30/2026"
    assert "From: '11/30/2026' is not a day (YYYY-MM-DD)" in html.unescape(view.status.text)


def test_every_column_sorts_and_reach_starts_biggest_first(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    view.filters.sort_by.value = "reach"
    assert view.filters.order.value is True
    assert shown_ids(view) == demo_store.opted_out("demo", sort_by="reach", descending=True,
                                                   limit=10)["contact_id"].to_list()
    for key in ("source", "country", "language"):
        assert not view.sort_buttons[key].disabled
        view.sort_buttons[key].click()
        want = demo_store.opted_out("demo", sort_by=key, limit=10)["contact_id"].to_list()
        assert shown_ids(view) == want, key


def test_a_capped_outlet_count_says_so(demo_store, tmp_path, monkeypatch):
    from optdesk.views import opted_out_filters

    monkeypatch.setattr(opted_out_filters, "OUTLET_CHOICES", 2)
    view = view_of(demo_store, tmp_path)
    view.filters.outlet.value = "e"
    assert "2 or more outlets match" in view.status.text


def test_export_carries_addresses_and_iso_times_and_a_served_link(demo_store, tmp_path,
                                                                  monkeypatch):
    monkeypatch.setenv("OPTDESK_EXPORT_DIR", str(tmp_path / "nb" / "exports"))
    monkeypatch.setenv("OPTDESK_FILES_URL", "/voila/files/")
    view = OptedOutView(demo_store, "demo", actor="ana@desk", debounce=0)
    view.select(view.page_ids[:4])
    path = view.actions.export_csv()
    assert path.parent == tmp_path / "nb" / "exports"
    assert f"href='/voila/files/exports/{path.name}'" in view.actions.download.value
    frame = pl.read_csv(path)
    assert {"email", "addresses", "opted_out_at"} <= set(frame.columns)
    assert all("@" in e for e in frame["email"])
    assert all(t.endswith("Z") and "T" in t and "." not in t for t in frame["opted_out_at"])


def test_the_engaged_filter_and_column(demo_store, tmp_path):
    import datetime as dt

    from optdesk.engagement.presets import preset

    row = demo_store.opted_out("demo", limit=1).row(0, named=True)
    email = demo_store.primary_emails([row["contact_id"]], "demo")[row["contact_id"]]
    when = dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
    export = tmp_path / "e.csv"
    export.write_text(f"email,event,timestamp\n{email},click,{when:%Y-%m-%dT%H:%M:%SZ}\n",
                      encoding="utf-8")
    demo_store.import_engagement(export, "demo", "launch", preset("generic"))
    view = OptedOutView(demo_store, "demo", actor="ana", debounce=0)
    view.filters.engaged.value = 7
    assert view.total == 1 and view.page_ids == [row["contact_id"]]
    assert f"last engaged {when:%Y-%m-%d %H:%M}" in view.rows[0].html.value
    view.view_mode.value = "grid"
    assert f"{when:%Y-%m-%d %H:%M}" in view.rows[0].html.value
    view.filters.engaged.value = ""
    assert view.total > 1


def test_outlets_opted_out_are_listed_and_searched(demo_store):
    outlet = demo_store.db.frame("SELECT outlet_id, name, external_id FROM outlets"
                                 " ORDER BY outlet_id LIMIT 1").row(0, named=True)
    demo_store.opt_out_outlet(outlet["outlet_id"], "demo", source="manual", actor="ana",
                              reason="<i>asked</i>", with_contacts=True)
    view = OptedOutView(demo_store, "demo", actor="ana", debounce=0)
    shown = view.outlets_html.value
    assert "Outlets opted out" in shown and html.escape(outlet["name"]) in shown
    assert "&lt;i&gt;asked&lt;/i&gt;" in shown and "with its contacts" in shown
    assert f"<td>{html.escape(outlet['external_id'])}</td>" in shown  # the team's outlet id
    view.filters.text.value = outlet["name"]
    assert html.escape(outlet["name"]) in view.outlets_html.value
    view.filters.text.value = "zzzz-no-such-outlet"
    assert view.outlets_html.value == ""


def test_the_list_to_remove_from_starts_unchosen_and_says_so(demo_store, tmp_path):
    view = view_of(demo_store, tmp_path)
    box = view.actions.remove_list
    assert (box.label, box.value) == ("choose a list…", None)
    view.select(view.page_ids[:2])
    view.actions.ask_remove()
    assert "Select contacts and a list first" in view.actions.status.text
    assert view.actions.confirm_box.layout.display == "none"
