"""Notebook 02: everyone opted out of a data group: filters, sort, profile or grid view, pages,
and actions on a selection (CSV export, hand-off to the invitations notebook, list removal).

    from optdesk.views.opted_out import OptedOutView
    view = OptedOutView.from_settings()
    view.widget
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as w
import polars as pl

from optdesk.store.undo import DEFAULT_GRACE
from optdesk.views import render
from optdesk.views.common import STYLE, Status, View, button, default_actor, esc
from optdesk.views.contact_panel import ContactPanel
from optdesk.views.date_box import BadDate
from optdesk.views.opted_out_actions import ORIGIN, SelectionActions
from optdesk.views.opted_out_filters import BadFilter, Filters

PROFILE, GRID = "profile", "grid"
CARDS_LAYOUT = "repeat(auto-fill, minmax(330px, 1fr))"
OUTLET_ROWS = 10  # outlets opted out shown above the contacts


def body_children(boxes: list, record, after: int | None) -> list:
    """The page's slots with the opened record right after slot ``after`` (none when None).

    The record spans the whole width of the grid; with "row dense" flow the cards after the
    clicked one still fill its row, so the record shows right under the row of the clicked card.
    """
    if after is None:
        return list(boxes)
    return [*boxes[:after + 1], record, *boxes[after + 1:]]


class Row:
    """One reusable slot of the page: a checkbox and a card (or a grid row) that opens the
    contact's record in place when clicked.

    The card is an HTML widget under a transparent button of the same size (both in one grid
    cell): the click, Tab and Enter reach the button, the text is the HTML's.
    """

    def __init__(self, on_tick, on_open) -> None:
        self.contact_id: int | None = None
        self.tick = w.Checkbox(value=False, indent=False, layout=w.Layout(width="28px"))
        self.html = w.HTML("", layout=w.Layout(grid_area="1 / 1 / 2 / 2", min_width="0"))
        self.open = w.Button(description="", tooltip="Open the record",
                             layout=w.Layout(grid_area="1 / 1 / 2 / 2", width="100%",
                                             height="100%", margin="0"))
        self.open.add_class("optdesk-hit")
        self.face = w.GridBox([self.html, self.open],
                              layout=w.Layout(grid_template_columns="minmax(0, 1fr)",
                                              flex="1 1 auto", min_width="0"))
        self.face.add_class("optdesk-face")
        self.box = w.HBox([self.tick, self.face],
                          layout=w.Layout(display="none", align_items="center"))
        self.tick.observe(lambda change: on_tick(self, change["new"]), names="value")
        self.open.on_click(lambda _b: self.contact_id is not None and on_open(self))


class OptedOutView(View):
    """The opted-out of one data group, a page at a time, with a selection that spans pages."""

    def __init__(self, store, data_group: str, *, actor: str | None = None, page_size: int = 24,
                 debounce: float = 0.1, selection_path=None, export_dir=None,
                 grace: dt.timedelta = DEFAULT_GRACE, background: bool = False) -> None:
        self.store = store
        self.actor = actor or default_actor()
        self.page_size = page_size
        self.page = 0
        self.total = 0
        self.frame: pl.DataFrame | None = None
        self.mode = PROFILE
        self.selected: set[int] = set()
        self._quiet = False
        self.status = Status()
        g = self.status.guard
        self.group = w.Dropdown(options=sorted({*store.data_groups(), data_group}),
                                value=data_group, description="Data group")
        self.filters = Filters(store, data_group, g(self.filters_changed), debounce,
                               on_pending=self.status.info)
        self.view_mode = w.ToggleButtons(options=[("Profiles", PROFILE), ("Grid", GRID)],
                                         value=PROFILE, style={"button_width": "90px"})
        self.header = w.HBox(self._header_buttons(g), layout=w.Layout(display="none"))
        self.rows = [Row(self._on_tick, g(self._open_slot)) for _ in range(page_size)]
        self.opened_slot: int | None = None  # the slot the record shows under
        self.body = w.GridBox([r.box for r in self.rows],
                              layout=w.Layout(grid_template_columns=CARDS_LAYOUT,
                                              grid_auto_flow="row dense"))
        self.summary = w.HTML("")
        self.outlets_html = w.HTML("")  # the outlets opted out whose name matches the text
        self.prev_button = button("Previous", icon="chevron-left")
        self.next_button = button("Next", icon="chevron-right")
        self.refresh_button = button("Refresh", icon="refresh")
        self.selection_label = w.HTML("")
        self.actions = SelectionActions(self, selection_path=selection_path, export_dir=export_dir,
                                        background=background)
        self.panel = ContactPanel(store, lambda: self.group.value, actor=self.actor, origin=ORIGIN,
                                  grace=grace, selection_path=selection_path,
                                  on_change=lambda _cid: self.refresh())
        self.close_button = button("Close the record", icon="times")
        self.close_button.on_click(g(lambda _b: self.close_contact()))
        self.record_box = w.VBox([self.close_button, self.panel.widget],
                                 layout=w.Layout(display="none", border="2px solid #0969da",
                                                 padding="6px", grid_area="auto / 1 / auto / -1",
                                                 margin="4px 0 10px 0"))
        self.record_box.add_class("optdesk-opened-record")
        self._connect(g)
        self.widget = w.VBox([
            w.HTML(STYLE + f"<span class='optdesk-muted'>Acting as <b>{esc(self.actor)}</b></span>"),
            self.group, self.filters.widget,
            w.HBox([self.view_mode, self.prev_button, self.next_button, self.refresh_button,
                    self.summary], layout=w.Layout(align_items="center")),
            self.status.widget, self.outlets_html,
            w.VBox([self.header, self.body], layout=w.Layout(overflow="auto")),
            self.selection_label,
            self.actions.widget,
        ])
        self.refresh()

    @classmethod
    def for_settings(cls, store, settings, **kwargs):
        kwargs.setdefault("grace", dt.timedelta(hours=settings.undo_grace_hours))
        kwargs.setdefault("background", True)  # a long export leaves the page live
        return cls(store, settings.data_group, **kwargs)

    # -- the record of one contact, opened in place --------------------------------------------
    def open_contact(self, contact_id: int, slot: int | None = None) -> None:
        """Show the contact's record (as in 01, with its actions) right under the card or grid
        row ``slot`` that was clicked; at the top of the page when no slot is given."""
        self.panel.show(contact_id)
        self._place_record(slot if slot is not None else -1)
        self.record_box.layout.display = ""

    def _open_slot(self, row: Row) -> None:
        self.open_contact(row.contact_id, self.rows.index(row))

    def _place_record(self, slot: int | None) -> None:
        """Put the record under slot ``slot`` (-1: before every slot; None: nowhere)."""
        self.opened_slot = slot
        for i, r in enumerate(self.rows):
            (r.box.add_class if i == slot else r.box.remove_class)("optdesk-opened")
        if slot is None:
            children = body_children([r.box for r in self.rows], self.record_box, None)
        elif slot < 0:
            children = [self.record_box, *(r.box for r in self.rows)]
        else:
            children = body_children([r.box for r in self.rows], self.record_box, slot)
        if list(self.body.children) != children:
            self.body.children = children

    def close_contact(self) -> None:
        self.panel.clear()
        self.record_box.layout.display = "none"
        self._place_record(None)

    def _connect(self, g) -> None:
        self.group.observe(g(self._on_group), names="value")
        self.view_mode.observe(g(self._on_mode), names="value")
        self.prev_button.on_click(g(lambda _b: self.go_to(self.page - 1)))
        self.next_button.on_click(g(lambda _b: self.go_to(self.page + 1)))
        self.refresh_button.on_click(g(lambda _b: self.reload()))

    def reload(self) -> None:
        """Fetch the page and its count again (the daemon may have opted more out). The filter
        choices (lists and their counts) reload when the data group changes or after a removal."""
        self.refresh()

    def _header_buttons(self, guard) -> list[w.Widget]:
        self.sort_buttons: dict[str, w.Button] = {}
        items: list[w.Widget] = [w.HTML("", layout=w.Layout(width="28px", flex="0 0 auto"))]
        for _column, title, width, key in render.GRID_COLUMNS:
            b = w.Button(description=title, layout=w.Layout(width=width, margin="0",
                                                            flex="0 0 auto"),
                         tooltip="sort" if key else "", disabled=key is None)
            if key:
                b.on_click(guard(lambda _b, k=key: self.filters.set_sort(k)))
                self.sort_buttons[key] = b
            items.append(b)
        return items

    # -- loading a page ----------------------------------------------------------------------
    def filters_changed(self) -> None:
        self.page = 0
        self.close_contact()  # the card it was opened from may be gone
        self.refresh()
        if self.filters.lists.value:
            self.actions.remove_list.value = self.filters.lists.value

    def go_to(self, page: int) -> None:
        last = max(0, (self.total - 1) // self.page_size)
        self.page = min(max(0, page), last)
        self.close_contact()
        self.refresh()

    def refresh(self) -> None:
        """Query the store for the current filters, sort and page, and show the page."""
        try:
            kwargs = self.filters.kwargs()
        except (BadFilter, BadDate) as exc:
            self.status.error(str(exc))
            return
        frame = self.store.opted_out(self.data_group, limit=self.page_size,
                                     offset=self.page * self.page_size, **kwargs)
        if frame.height == 0 and self.page > 0:
            self.page = 0
            frame = self.store.opted_out(self.data_group, limit=self.page_size, **kwargs)
        if frame.height:
            emails = self.store.primary_emails(frame["contact_id"].to_list(), self.data_group)
            frame = frame.with_columns(pl.col("contact_id").replace_strict(
                emails, default=None, return_dtype=pl.String).alias("email"))
        self.frame = frame
        self.total = int(frame["total"][0]) if frame.height else 0
        self.status.clear()
        self.outlets_html.value = render.opted_out_outlets(self.store.opted_out_outlets(
            self.data_group, text=kwargs["text"], sort_by="opted_out_at", descending=True,
            limit=OUTLET_ROWS + 1), OUTLET_ROWS)
        if self.filters.outlet_pending():
            self.status.info("The outlet filter is not applied: choose an outlet from the "
                             "suggestions.")
        self._show_page()

    def _show_page(self) -> None:
        records = self.frame.to_dicts() if self.frame is not None else []
        self._quiet = True
        try:
            for slot, row in zip(self.rows, records + [None] * (len(self.rows) - len(records)),
                                 strict=True):
                if row is None:
                    slot.contact_id = None
                    slot.box.layout.display = "none"
                    continue
                slot.contact_id = int(row["contact_id"])
                slot.html.value = render.card(row) if self.mode == PROFILE else render.grid_cells(row)
                slot.tick.value = slot.contact_id in self.selected
                slot.box.layout.display = ""
        finally:
            self._quiet = False
        self._show_summary(len(records))

    def _show_summary(self, shown: int) -> None:
        pages = max(1, -(-self.total // self.page_size))
        first = self.page * self.page_size + 1 if shown else 0
        self.summary.value = (
            f"<span class='optdesk-summary'><b>{self.total:,}</b> opted out · showing "
            f"{first:,}–{first + shown - 1 if shown else 0:,} · page {self.page + 1:,} of "
            f"{pages:,}</span>")
        self.prev_button.disabled = self.page == 0
        self.next_button.disabled = self.page + 1 >= pages
        key, desc = self.filters.sort_by.value, self.filters.order.value
        for k, b in self.sort_buttons.items():
            title = next(t for _c, t, _w, kk in render.GRID_COLUMNS if kk == k)
            b.description = title + ((" ▼" if desc else " ▲") if k == key else "")
            b.button_style = "info" if k == key else ""
        self.show_selection()

    # -- view mode and group ---------------------------------------------------------------
    def _on_mode(self, change) -> None:
        self.mode = change["new"]
        grid = self.mode == GRID
        self.header.layout.display = "" if grid else "none"
        self.body.layout.grid_template_columns = "1fr" if grid else CARDS_LAYOUT
        self.header.layout.min_width = self.body.layout.min_width = (
            render.grid_width() if grid else None)
        self._show_page()

    def _on_group(self, change) -> None:
        self.selected.clear()
        self.filters.data_group = change["new"]
        self.filters.load_choices()
        self.filters_changed()
        self.actions.load_lists()

    # -- selection -----------------------------------------------------------------------------
    def _on_tick(self, slot: Row, ticked: bool) -> None:
        if self._quiet or slot.contact_id is None:
            return
        if ticked:
            self.selected.add(slot.contact_id)
        else:
            self.selected.discard(slot.contact_id)
        self.show_selection()

    @property
    def page_ids(self) -> list[int]:
        return [] if self.frame is None else self.frame["contact_id"].to_list()

    def select(self, contact_ids) -> None:
        self.selected.update(int(i) for i in contact_ids)
        self._show_page()

    def select_all_matching(self) -> None:
        """Select everyone the filters match, on every page."""
        kwargs = self.filters.kwargs()
        frame = self.store.opted_out(self.data_group, limit=None, **kwargs)
        self.select(frame["contact_id"].to_list())

    def clear_selection(self) -> None:
        self.selected.clear()
        self._show_page()

    def show_selection(self) -> None:
        n = len(self.selected)
        self.selection_label.value = (f"<b>{n:,}</b> selected" if n else
                                      "<span class='optdesk-muted'>Tick contacts to select them"
                                      " (the selection is kept across pages).</span>")
        self.actions.enable(n > 0)
