"""04's list search: list names folded as the contact search folds (optdesk.store.search)."""

from __future__ import annotations

import polars as pl
import pytest

from optdesk.views.reports_view import pick_lists

LISTS = pl.DataFrame({
    "name": ["Søren's picks", "Müller Presse", "O'Brien desk", "Børsen #2", "Straße #10",
             "Süddeutsche Kultur", "Tech #1"],
    "new_opt_outs": [1, 2, 3, 4, 5, 6, 7], "opt_out_rate": [0.1] * 7, "members": [10] * 7,
})


@pytest.mark.parametrize(("typed", "found"), [
    ("soren", "Søren's picks"), ("mueller", "Müller Presse"), ("muller pre", "Müller Presse"),
    ("obrien", "O'Brien desk"), ("o'brien", "O'Brien desk"), ("obr", "O'Brien desk"),
    ("borsen", "Børsen #2"), ("strasse", "Straße #10"), ("sueddeutsche", "Süddeutsche Kultur"),
    ("SUDDEUTSCHE kul", "Süddeutsche Kultur"),
])
def test_every_spelling_finds_the_list(typed, found):
    assert pick_lists(LISTS, typed, "by name")["name"].to_list() == [found]


def test_nothing_typed_keeps_every_list_in_order():
    assert pick_lists(LISTS, "  ", "by name").height == LISTS.height
    assert pick_lists(LISTS, "tech", "most new opt-outs first")["name"].to_list() == ["Tech #1"]
    assert pick_lists(LISTS, "presse kultur", "by name").height == 0
