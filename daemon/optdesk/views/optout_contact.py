"""Notebook 01: find a contact (name and outlet words, an email address or a contact id) or an
outlet (its name's words, one of its own addresses), see the record, opt them out, undo an
analyst's mistake, or ask them back in.

    from optdesk.views.optout_contact import OptOutContactView
    view = OptOutContactView.from_settings()
    view.widget
"""

from __future__ import annotations

import datetime as dt
import warnings

import ipywidgets as w

from optdesk.store.undo import DEFAULT_GRACE
from optdesk.views import render
from optdesk.views.common import STYLE, Debouncer, Status, View, button, default_actor, esc
from optdesk.views.contact_panel import ContactPanel
from optdesk.views.keys import ArrowIntoResults
from optdesk.views.outlet_panel import OutletPanel

ORIGIN = "01-opt-out-a-contact"
PLACEHOLDER = "Name and outlet words, an email address or a contact id, e.g. 'dup daily her'"
OUTLET = "outlet:"  # the value of an outlet among the results: OUTLET + its id
OUTLETS_SHOWN = 3  # outlets listed after the first page of contacts
START_HINT = ("Type name and outlet words (“matteo esposito daily trib”), an email address or a "
              "contact id; Enter opens the first match, arrow-down moves into the list.")


def page_hint(text: str, total: int, offset: int, shown: int, by: str, exact: bool = True) -> str:
    """What the analyst sees above the results: how many match and which of them are shown."""
    if total == 0:
        what = {"id": "No contact has the id", "email": "No address starts with"}.get(
            by, "No contact matches")
        return f"<span class='optdesk-muted'>{what} “{esc(text)}”.</span>"
    if total <= shown:
        head = f"{total:,} contact{'s' if total != 1 else ''} match"
    else:
        count = f"{total:,}" if exact else f"About {round(total, -2 if total > 1000 else -1):,}"
        head = (f"{count} contacts match; showing {offset + 1:,}–{offset + shown:,}, biggest "
                "reach first. Add an outlet word to narrow, or page on.")
    return f"<span class='optdesk-muted'>{esc(head)}</span>"


class OptOutContactView(View):
    """Search box → matching contacts, a page at a time → the chosen contact's record."""

    def __init__(self, store, data_group: str, *, actor: str | None = None,
                 debounce: float = 0.08, limit: int = 20, selection_path=None,
                 grace: dt.timedelta = DEFAULT_GRACE) -> None:
        self.store = store
        self.actor = actor or default_actor()
        self.limit = limit
        self.offset = 0
        self.total = 0
        self._quiet = False
        self.status = Status()  # errors of the search itself
        g = self.status.guard
        groups = store.data_groups()
        self.group = w.Dropdown(options=sorted({*groups, data_group}), value=data_group,
                                description="Data group")
        self.panel = ContactPanel(store, lambda: self.group.value, actor=self.actor,
                                  origin=ORIGIN, grace=grace, selection_path=selection_path,
                                  on_change=self._relabel)
        self.outlet_panel = OutletPanel(store, lambda: self.group.value, actor=self.actor,
                                        grace=grace, on_change=self._relabel_outlet)
        self.search = w.Text(placeholder=PLACEHOLDER, description="Contact",
                             continuous_update=True, layout=w.Layout(width="520px"))
        self.search.add_class("optdesk-search")
        self.hint = w.HTML(f"<span class='optdesk-muted'>{esc(START_HINT)}</span>")
        self.results = w.Select(options=[], rows=10, layout=w.Layout(width="98%"))
        self.results.add_class("optdesk-results")
        self.arrows = ArrowIntoResults(source_class="optdesk-search",
                                       target_class="optdesk-results")
        self.prev_button = button("◀ Previous", icon="")
        self.next_button = button("Next ▶", icon="")
        self.pager = w.HBox([self.prev_button, self.next_button], layout=w.Layout(display="none"))
        self._debouncer = Debouncer(g(self.new_search), debounce)
        self.search.observe(self._debouncer.trigger, names="value")
        with warnings.catch_warnings():  # Enter, while typing stays continuous
            warnings.simplefilter("ignore")
            self.search.on_submit(g(self.open_first))
        self.results.observe(g(self._on_pick), names="value")
        self.group.observe(g(self._on_group), names="value")
        self.prev_button.on_click(g(lambda _b: self.turn(-1)))
        self.next_button.on_click(g(lambda _b: self.turn(1)))
        self.widget = w.VBox([
            w.HTML(STYLE + f"<span class='optdesk-muted'>Acting as <b>{esc(self.actor)}</b>"
                   "</span>"),
            w.HBox([self.group, self.search]), self.hint, self.results, self.pager,
            self.status.widget, self.panel.widget, self.outlet_panel.widget, self.arrows,
        ])
        self.widget.add_class("optdesk-view")

    @classmethod
    def for_settings(cls, store, settings, **kwargs):
        kwargs.setdefault("grace", dt.timedelta(hours=settings.undo_grace_hours))
        return cls(store, settings.data_group, **kwargs)

    # the record's widgets, as the notebook and the tests name them
    record_html = property(lambda self: self.panel.record_html)
    optout_button = property(lambda self: self.panel.optout_button)
    optin_button = property(lambda self: self.panel.optin_button)
    undo_button = property(lambda self: self.panel.undo_button)
    confirm_button = property(lambda self: self.panel.confirm_button)
    confirm_box = property(lambda self: self.panel.confirm_box)
    reason = property(lambda self: self.panel.reason)
    actions = property(lambda self: self.panel.actions)
    contact_id = property(lambda self: self.panel.contact_id)
    record = property(lambda self: self.panel.record)
    is_opted_out = property(lambda self: self.panel.is_opted_out)

    # -- search ----------------------------------------------------------------------------
    def new_search(self) -> None:
        """The text changed: start again at the first page."""
        self.offset = 0
        self.refresh_results()

    def turn(self, pages: int) -> None:
        self.offset = max(0, min(self.offset + pages * self.limit, max(0, self.total - 1)))
        self.refresh_results()

    def refresh_results(self) -> None:
        """Run the search for the text typed so far and list one page of matches."""
        self.status.clear()
        text = self.search.value
        found = (self.store.search_contacts(text, self.data_group, limit=self.limit,
                                            offset=self.offset) if text.strip() else None)
        options = [] if found is None else [
            (render.contact_label(r), int(r["contact_id"])) for r in found.rows.iter_rows(named=True)
        ]
        outlets = (self.store.search_outlets(text, self.data_group, limit=OUTLETS_SHOWN)
                   if found is not None and found.by != "id" and self.offset == 0 else None)
        if outlets is not None:
            options += [(render.outlet_label(r), f"{OUTLET}{r['outlet_id']}")
                        for r in outlets.iter_rows(named=True)]
        self._quiet = True
        try:
            self.results.index = None
            self.results.options = options
            if self.contact_id is not None and any(v == self.contact_id for _, v in options):
                self.results.value = self.contact_id  # keep the shown contact highlighted
        finally:
            self._quiet = False
        self.total = 0 if found is None else found.total
        if found is None:
            self.hint.value = f"<span class='optdesk-muted'>{esc(START_HINT)}</span>"
        else:
            self.hint.value = page_hint(text, found.total, found.offset, found.rows.height,
                                        found.by, found.exact)
            if outlets is not None and outlets.height:
                self.hint.value += (f" <span class='optdesk-muted'>· {outlets.height} outlet"
                                    f"{'s' if outlets.height != 1 else ''} (marked OUTLET, "
                                    "after the contacts)</span>")
        self.pager.layout.display = "" if self.total > self.limit else "none"
        self.prev_button.disabled = self.offset == 0
        self.next_button.disabled = self.offset + self.limit >= self.total

    def open_first(self, _widget=None) -> None:
        """Enter in the search box: open the highlighted match, else the first one."""
        self._debouncer.cancel()
        self.refresh_results()
        if not self.results.options:
            return
        chosen = self.results.value if self.results.value is not None else self.results.options[0][1]
        self._show(chosen)
        self._quiet = True
        try:
            self.results.value = chosen
        finally:
            self._quiet = False

    def _on_pick(self, change) -> None:
        if self._quiet or change["new"] is None:
            return
        self._show(change["new"])

    def _show(self, value) -> None:
        """A contact id, or OUTLET + an outlet id."""
        if isinstance(value, str) and value.startswith(OUTLET):
            self.show_outlet(int(value[len(OUTLET):]))
        else:
            self.show_contact(int(value))

    def _on_group(self, _change) -> None:
        self.refresh_results()
        if self.outlet_panel.outlet_id is not None:
            self.show_outlet(self.outlet_panel.outlet_id)
        elif self.contact_id is not None:
            self.show_contact(self.contact_id)

    # -- the record --------------------------------------------------------------------------
    def show_contact(self, contact_id: int) -> None:
        """Show one contact's record and the actions that fit its state."""
        self.outlet_panel.clear()
        self.panel.show(contact_id)
        self.panel.widget.layout.display = ""

    def show_outlet(self, outlet_id: int) -> None:
        """Show one outlet's record (its addresses, its contacts) and its actions."""
        self.panel.clear()
        self.panel.widget.layout.display = "none"
        self.outlet_panel.show(outlet_id)

    def ask_opt_out(self, _button=None) -> None:
        self.panel.ask_opt_out()

    def cancel_opt_out(self, _button=None) -> None:
        self.panel._hide_boxes()

    def confirm_opt_out(self, _button=None) -> None:
        self.panel.confirm_opt_out()

    def request_opt_in(self, _button=None) -> None:
        self.panel.request_opt_in()

    def _relabel(self, contact_id: int) -> None:
        """Mark the contact's line in the results as the record now shows it (no new search)."""
        c = self.record["contact"]
        emails = self.record["addresses"]["email"]
        self._set_label(contact_id, render.contact_label(
            {**c, "opted_out": self.is_opted_out, "email": emails[0] if len(emails) else None}))

    def _relabel_outlet(self, outlet_id: int) -> None:
        """Mark the outlet's line in the results as its record now shows it."""
        row = {**self.outlet_panel.record["outlet"], "opted_out": self.outlet_panel.is_opted_out}
        self._set_label(f"{OUTLET}{outlet_id}", render.outlet_label(row))

    def _set_label(self, value, label: str) -> None:
        """Give the result ``value`` this label and keep it highlighted."""
        options = [(label if v == value else text, v) for text, v in self.results.options]
        self._quiet = True
        try:
            self.results.index = None
            self.results.options = options
            if any(v == value for _, v in options):
                self.results.value = value
        finally:
            self._quiet = False
