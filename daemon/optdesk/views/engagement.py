"""Notebook 06: who engaged with a distribution (opened, clicked), sorted and filtered, and the
engagers added to a new or existing media list in one step.

    from optdesk.views.engagement import EngagementView
    view = EngagementView.from_settings()
    view
"""

from __future__ import annotations

import ipywidgets as w

from optdesk.views.common import STYLE, Status, View, button, esc, fmt_int, fmt_when
from optdesk.views.engagement_import import EngagementImport
from optdesk.views.render import table

SHOWN = 200  # engagers listed at once
EVENTS = [("opened or clicked", ""), ("clicked", "click"), ("opened", "open")]
SORTS = [("engagement", "engagement"), ("reach", "reach"), ("outlet", "outlet"),
         ("last event", "last_event")]
HEADERS = ["contact", "name", "outlet", "reach", "opens", "clicks", "last event"]


def engager_rows(frame) -> list[list[str]]:
    """The table cells of the engagers (every value escaped); an outlet's own address is marked
    as the outlet's."""
    rows = []
    for r in frame.iter_rows(named=True):
        who = esc(r["external_id"]) if r["contact_id"] is not None else "outlet"
        name = esc(r["name"]) if r["contact_id"] is not None else esc(r["email"])
        if r["opted_out"]:
            name += " <span class='optdesk-muted'>(opted out)</span>"
        rows.append([who, name, esc(r["outlet"]), fmt_int(r["reach"]), fmt_int(r["opens"]),
                     fmt_int(r["clicks"]), fmt_when(r["last_event"])])
    return rows


class EngagementView(View):
    """Distribution, event, sort and list filter; the engagers; add them to a list."""

    def __init__(self, store, data_group: str, **_ignored) -> None:
        self.store = store
        self.status = Status()
        g = self.status.guard
        groups = sorted({*store.data_groups(), data_group})
        self.group = w.Dropdown(options=groups, value=data_group, description="Data group")
        self.distribution = w.Dropdown(options=[], description="Distribution")
        self.event = w.Dropdown(options=EVENTS, value="", description="Who")
        self.sort = w.Dropdown(options=SORTS, value="engagement", description="Sort by")
        self.lists = w.SelectMultiple(options=[], rows=4, description="In lists")
        self.prefetch = w.Checkbox(value=False, description="count privacy-proxy opens")
        self.summary = w.HTML("")
        self.grid = w.HTML("")
        self.list_name = w.Combobox(placeholder="new or existing list", options=[],
                                    description="List", ensure_option=False)
        self.add_button = button("Add engagers to list", "primary", "plus")
        self.frame = None
        self.importer = EngagementImport(store, lambda: self.group.value, self.show_distribution)
        for control in (self.distribution, self.event, self.sort, self.lists, self.prefetch):
            control.observe(g(lambda _c: self.refresh()), names="value")
        self.group.observe(g(lambda _c: self.load_choices()), names="value")
        self.add_button.on_click(g(lambda _b: self.add_to_list(self.list_name.value)))
        self.widget = w.VBox([
            w.HTML(STYLE), self.importer.widget, w.HBox([self.group, self.distribution]),
            w.HBox([self.event, self.sort, self.prefetch]), self.lists, self.summary,
            w.HBox([self.list_name, self.add_button]), self.status.widget, self.grid])
        g(self.load_choices)()

    def show_distribution(self, name: str) -> None:
        """After an import: offer the distributions again and show this one."""
        self.load_choices()
        if name in self.distribution.options:
            self.distribution.value = name

    def load_choices(self) -> None:
        group = self.group.value
        names = self.store.distributions(group)["distribution"].to_list()
        lists = self.store.list_names(group)
        self.lists.options = lists
        self.list_name.options = lists
        self.distribution.options = names
        self.distribution.value = names[0] if names else None
        self.refresh()

    def _query(self) -> dict:
        """The store's arguments for the current choices."""
        return {"event": self.event.value or None, "lists": list(self.lists.value) or None,
                "include_prefetch": self.prefetch.value}

    def refresh(self) -> None:
        if not self.distribution.value:
            self.frame = None
            self.summary.value = "<span class='optdesk-muted'>No engagement imported for this " \
                                 "data group yet (optdesk import engagement).</span>"
            self.grid.value = ""
            return
        query = self._query()
        self.frame = self.store.engagers(self.group.value, self.distribution.value,
                                         sort_by=self.sort.value, limit=SHOWN, **query)
        counts = self.store.engager_counts(self.group.value, self.distribution.value, **query)
        contacts, outlets = counts["contacts"], counts["outlet_addresses"]
        shown = f" (the first {SHOWN:,} shown)" if contacts + outlets > SHOWN else ""
        self.summary.value = (f"<b>{fmt_int(contacts)}</b> contacts and "
                              f"<b>{fmt_int(outlets)}</b> outlet addresses "
                              f"engaged with <b>{esc(self.distribution.value)}</b>{shown}")
        self.grid.value = table(HEADERS, engager_rows(self.frame), empty="nobody engaged")

    def add_to_list(self, name: str) -> dict | None:
        """Add every engaged contact the choices select (not only the first SHOWN) to the list."""
        if self.frame is None:
            self.status.error("Choose a distribution first.")
            return None
        if not name or not name.strip():
            self.status.error("Name the list to add the engagers to.")
            return None
        ids = self.store.engager_ids(self.group.value, self.distribution.value, **self._query())
        result = self.store.add_to_list(self.group.value, name, ids)
        how = "created" if result["created"] else "existing list"
        self.status.ok(f"{name.strip()} ({how}): {result['added']:,} contacts added.")
        lists = self.store.list_names(self.group.value)
        self.lists.options, self.list_name.options = lists, lists
        return result
