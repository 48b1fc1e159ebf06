"""02's "And lists": choose several media lists among thousands.

A search box narrows the lists (every word of it in the list's name, accents and case folded);
the matches, at most ``MATCHES_SHOWN``, are listed; a click (or arrow keys) on one adds it. The
chosen lists stay visible as buttons under the box; a click on one takes it off.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Sequence

import ipywidgets as w

MATCHES_SHOWN = 50


def fold_name(text: str) -> str:
    """Casefolded, without accents: 'Économie' and 'economie' match."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def matching(choices: Sequence[tuple[str, int, str]], text: str, exclude=(),
             limit: int = MATCHES_SHOWN) -> tuple[list[tuple[str, int]], int]:
    """(label, id) of the choices whose folded name holds every word of ``text``, in the
    choices' order, at most ``limit``, and how many match in all. ``choices`` hold
    (label, id, folded name); ``exclude`` ids are left out (the lists chosen already)."""
    words = fold_name(text).split()
    skip = set(exclude)
    found = [(label, value) for label, value, folded in choices
             if value not in skip and all(word in folded for word in words)]
    return found[:limit], len(found)


def chosen_label(name: str, limit: int = 40) -> str:
    """The text of a chosen list's button (plain text: a Button shows it as text)."""
    short = name if len(name) <= limit else name[:limit - 1] + "…"
    return f"✕ {short}"


class ListPicker:
    """Search → matching lists → chosen lists. ``value`` is the tuple of chosen list ids (in
    the order chosen); ``on_change()`` is called when it changes."""

    def __init__(self, on_change: Callable[[], None], description: str = "And lists") -> None:
        self.on_change = on_change
        self.value: tuple[int, ...] = ()
        self._choices: list[tuple[str, int, str]] = []
        self._names: dict[int, str] = {}
        self._quiet = False
        self.search = w.Text(placeholder="find lists by name, then click one to add it",
                             continuous_update=True, description=description,
                             layout=w.Layout(width="420px"),
                             style={"description_width": "80px"})
        self.hint = w.HTML("")
        self.matches = w.Select(options=[], rows=5, layout=w.Layout(width="420px",
                                                                    margin="0 0 0 84px"))
        self.matches.add_class("optdesk-list-matches")
        self.chosen = w.HBox([], layout=w.Layout(flex_flow="row wrap", margin="0 0 0 84px"))
        self.chosen.add_class("optdesk-chosen-lists")
        self.search.observe(lambda _c: self.show_matches(), names="value")
        self.matches.observe(self._picked, names="value")
        self.widget = w.VBox([w.HBox([self.search, self.hint],
                                     layout=w.Layout(align_items="center")),
                              self.matches, self.chosen])

    def set_choices(self, named: Sequence[tuple[str, int]], names: dict[int, str]) -> None:
        """The lists to choose from: (label, id) in display order, and each id's name. The
        chosen lists that still exist stay chosen; no change is reported."""
        self._choices = [(label, int(v), fold_name(names.get(int(v), label)))
                         for label, v in named]
        self._names = {int(k): str(n) for k, n in names.items()}
        self.value = tuple(v for v in self.value if v in self._names)
        self._show_chosen()
        self.show_matches()

    def show_matches(self) -> None:
        found, total = matching(self._choices, self.search.value, exclude=self.value)
        self._quiet = True
        try:
            self.matches.index = None
            self.matches.options = found
        finally:
            self._quiet = False
        if not self._choices:
            text = "no list"
        elif total > len(found):
            text = f"{total:,} lists match; the first {len(found):,} shown: type to narrow"
        else:
            text = f"{total:,} list{'s' if total != 1 else ''} match"
        self.hint.value = f"<span class='optdesk-muted'>{text}</span>"

    def _picked(self, change) -> None:
        if self._quiet or change["new"] is None:
            return
        self.add(int(change["new"]))

    def add(self, list_id: int) -> None:
        if list_id in self.value or list_id not in self._names:
            return
        self.value = (*self.value, list_id)
        self._show_chosen()
        self.show_matches()
        self.on_change()

    def remove(self, list_id: int) -> None:
        if list_id not in self.value:
            return
        self.value = tuple(v for v in self.value if v != list_id)
        self._show_chosen()
        self.show_matches()
        self.on_change()

    def _show_chosen(self) -> None:
        kept = {b._list_id: b for b in self.chosen.children if b._list_id in self.value}
        for b in self.chosen.children:
            if b._list_id not in kept:
                b.close()
        buttons = []
        for list_id in self.value:
            if list_id in kept:
                buttons.append(kept[list_id])
                continue
            name = self._names[list_id]
            b = w.Button(description=chosen_label(name), tooltip=f"{name}: click to take it off",
                         layout=w.Layout(width="auto", margin="2px 4px 2px 0"))
            b._list_id = list_id
            b.add_class("optdesk-chip")
            b.on_click(lambda _b, i=list_id: self.remove(i))
            buttons.append(b)
        self.chosen.children = buttons
