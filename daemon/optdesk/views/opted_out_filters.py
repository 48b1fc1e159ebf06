"""The filter and sort controls of notebook 02; ``kwargs()`` gives the store's ``opted_out`` arguments."""

from __future__ import annotations

import re
from collections.abc import Callable

import ipywidgets as w

from optdesk.store import SOURCES
from optdesk.views.common import SOURCE_LABELS, Debouncer
from optdesk.views.date_box import DateBox
from optdesk.views.list_picker import ListPicker

SORT_CHOICES = [("Contact name", "name"), ("Outlet name", "outlet"), ("Reach", "reach"),
                ("Opted-out date", "opted_out_at"), ("Source", "source"), ("Country", "country"),
                ("Language", "language")]
DESCENDING_FIRST = ("reach", "opted_out_at")  # biggest, newest first when first chosen
ANY = ""  # "no filter" (a Dropdown treats the value None as "nothing chosen")
OUTLET_CHOICES = 50
ENGAGED_CHOICES = [("engaged or not", ANY), ("engaged in the last 7 days", 7),
                   ("engaged in the last 30 days", 30), ("engaged in the last 90 days", 90),
                   ("engaged in the last 365 days", 365)]
_DIGITS = re.compile(r"(\d+)")


def natural_key(name: str) -> list:
    """Sort key that puts "#2" before "#10" (numbers compared as numbers, text casefolded)."""
    return [int(p) if p.isdigit() else p.casefold() for p in _DIGITS.split(name)]


def _narrow(description: str, width: str = "300px") -> dict:
    return {"description": description, "layout": w.Layout(width=width),
            "style": {"description_width": "80px"}}


class BadFilter(ValueError):
    """A filter value that cannot be used (e.g. a start date after the end date)."""


class Filters:
    """Filter widgets that combine; ``on_change`` is called (debounced for typing) on any change."""

    def __init__(self, store, data_group: str, on_change: Callable[[], None],
                 debounce: float = 0.1, on_pending: Callable[[str], None] | None = None) -> None:
        self.store = store
        self.on_pending = on_pending or (lambda message: None)
        self.data_group = data_group
        self.on_change = on_change
        self.lists = w.Dropdown(**_narrow("Media list", "420px"))
        self.outlet = w.Combobox(placeholder="any outlet (type to choose)", ensure_option=False,
                                 **_narrow("Outlet"))
        self.source = w.Dropdown(
            options=[("any source", ANY)] + [(SOURCE_LABELS[s], s) for s in SOURCES],
            **_narrow("Source"))
        self.more_lists = ListPicker(self._changed)  # several lists, found by name
        self.since = DateBox("From")
        self.until = DateBox("To")
        self.country = w.Dropdown(**_narrow("Country", "200px"))
        self.language = w.Dropdown(**_narrow("Language", "200px"))
        self.engaged = w.Dropdown(options=ENGAGED_CHOICES, value=ANY,
                                  **_narrow("Engaged", "300px"))
        self.text = w.Text(placeholder="words of the name or outlet…", continuous_update=True,
                           **_narrow("Text", "420px"))
        self.sort_by = w.Dropdown(options=SORT_CHOICES, value="name", **_narrow("Sort by"))
        self.order = w.ToggleButtons(options=[("ascending", False), ("descending", True)],
                                     value=False, style={"button_width": "95px"})
        self._loading = False
        self.load_choices()
        self._typing = Debouncer(on_change, debounce)
        self._outlet_typing = Debouncer(self._outlet_typed, debounce)
        for widget in (self.lists, self.source, self.since, self.until,
                       self.country, self.language, self.engaged, self.order):
            widget.observe(self._changed, names="value")
        self.sort_by.observe(self._sort_chosen, names="value")
        self.text.observe(self._typing.trigger, names="value")
        self.outlet.observe(self._outlet_typing.trigger, names="value")
        self.widget = w.VBox([
            w.HBox([self.lists, self.outlet, self.source, self.engaged]),
            self.more_lists.widget,
            w.HBox([self.since.widget, self.until.widget, self.country, self.language]),
            w.HBox([self.text, self.sort_by, self.order]),
        ])

    def load_choices(self) -> None:
        """(Re)load the lists, outlets, countries and languages to choose from, keeping the
        current choices where they still exist. Triggers no query."""
        lists = self.store.lists(self.data_group)
        order = sorted(range(lists.height), key=lambda i: natural_key(str(lists["name"][i])))
        lists = self.list_frame = lists[order]
        named = [(f"{r['name']} — {r['opted_out']:,} opted out of {r['members']:,}",
                  int(r["list_id"])) for r in lists.iter_rows(named=True)]
        choices = {
            self.lists: [("all lists", ANY)] + named,
            self.country: [("any", ANY)] + [(c, c) for c in self.store.countries()],
            self.language: [("any", ANY)] + [(c, c) for c in self.store.languages()],
        }
        self._loading = True
        try:
            for widget, options in choices.items():
                keep = widget.value
                widget.options = options
                widget.value = keep if any(value == keep for _, value in options) else ANY
            self.more_lists.set_choices(named, {int(r["list_id"]): str(r["name"])
                                                for r in lists.iter_rows(named=True)})
            self.outlet.options = self.store.outlets(self.data_group, limit=OUTLET_CHOICES)
        finally:
            self._loading = False

    def _sort_chosen(self, change) -> None:
        """A sort chosen from the menu starts the way an analyst expects (reach: biggest first)."""
        if self._loading:
            return
        self.order.unobserve(self._changed, names="value")
        try:
            self.order.value = change["new"] in DESCENDING_FIRST
        finally:
            self.order.observe(self._changed, names="value")
        self.on_change()

    def _changed(self, _change=None) -> None:
        if not self._loading:
            self.on_change()

    def _outlet_typed(self) -> None:
        """Offer the outlets whose name words start with the words typed (folded as 01 folds);
        filter once it names one (or is empty)."""
        typed = self.outlet.value.strip()
        choices = self.store.outlets(self.data_group, text=typed or None, limit=OUTLET_CHOICES)
        self.outlet.options = choices
        if not typed or typed in choices:
            self.on_change()
        else:
            count = (f"{len(choices)} or more outlets match “{typed}” (the first "
                     f"{len(choices)} by name are suggested)" if len(choices) >= OUTLET_CHOICES
                     else f"{len(choices)} outlets match “{typed}”")
            self.on_pending(f"{count}; choose one from the suggestions to filter by it."
                            if choices else
                            f"No outlet of an opted-out contact matches “{typed}”.")

    def outlet_pending(self) -> bool:
        """True while the outlet box holds text that names no outlet yet."""
        typed = self.outlet.value.strip()
        return bool(typed) and typed not in self.outlet.options

    def kwargs(self) -> dict:
        """The store's ``opted_out`` keyword arguments for the current filters and sort."""
        since, until = self.since.value, self.until.value
        if since is not None and until is not None and since > until:
            raise BadFilter(f"the start date {since:%Y-%m-%d} is after the end date "
                            f"{until:%Y-%m-%d}")
        outlet = self.outlet.value.strip()

        def one(value):
            return None if value == ANY or value is None else [value]

        return {
            "lists": sorted({*(one(self.lists.value) or []), *self.more_lists.value}) or None,
            "outlets": [outlet] if outlet and not self.outlet_pending() else None,
            "sources": one(self.source.value),
            "since": since,
            "until": until,
            "countries": one(self.country.value),
            "languages": one(self.language.value),
            "text": self.text.value.strip() or None,
            "engaged_within_days": None if self.engaged.value == ANY else int(self.engaged.value),
            "sort_by": self.sort_by.value,
            "descending": bool(self.order.value),
        }

    def set_sort(self, key: str) -> None:
        """Sort by ``key``; the same key again flips the order. One refresh either way."""
        if self.sort_by.value == key:
            self.order.value = not self.order.value
        else:
            self.order.unobserve(self._changed, names="value")
            try:
                self.order.value = key in DESCENDING_FIRST
            finally:
                self.order.observe(self._changed, names="value")
            self.sort_by.unobserve(self._sort_chosen, names="value")
            try:
                self.sort_by.value = key
            finally:
                self.sort_by.observe(self._sort_chosen, names="value")
            self.on_change()
