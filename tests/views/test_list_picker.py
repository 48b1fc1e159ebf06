"""02's "And lists" picker without a browser: search, add, take off, thousands of lists."""

from __future__ import annotations

import time

from optdesk.views.list_picker import ListPicker, chosen_label, fold_name, matching


def picker_of(n: int = 12):
    changes = []
    picker = ListPicker(lambda: changes.append(picker.value))
    names = {i: f"Tech #{i}" if i % 2 else f"Économie — FR #{i}" for i in range(1, n + 1)}
    picker.set_choices([(f"{names[i]} — {i} opted out", i) for i in names], names)
    return picker, changes


def test_matching_folds_case_and_accents_and_needs_every_word():
    choices = [(n, i, fold_name(n)) for i, n in enumerate(["Économie FR", "Tech DE", "tech fr"])]
    assert matching(choices, "economie") == ([("Économie FR", 0)], 1)
    assert matching(choices, "TECH fr") == ([("tech fr", 2)], 1)
    assert matching(choices, "") == ([(n, i) for n, i, _ in choices], 3)
    assert matching(choices, "", exclude={1}, limit=1) == ([("Économie FR", 0)], 2)
    assert matching(choices, "nothing") == ([], 0)


def test_search_narrows_a_click_adds_a_chip_click_takes_it_off():
    picker, changes = picker_of()
    assert len(picker.matches.options) == 12 and "12 lists match" in picker.hint.value
    picker.search.value = "econ"
    assert [v for _, v in picker.matches.options] == [2, 4, 6, 8, 10, 12]
    picker.matches.value = 4
    assert picker.value == (4,) and changes == [(4,)]
    assert 4 not in [v for _, v in picker.matches.options], "a chosen list is not offered again"
    assert picker.search.value == "econ", "the search stays for the next pick"
    picker.search.value = "tech #1"
    picker.matches.value = 11
    assert picker.value == (4, 11)
    assert [b.description for b in picker.chosen.children] == ["✕ Économie — FR #4",
                                                               "✕ Tech #11"]
    picker.chosen.children[0].click()
    assert picker.value == (11,) and changes[-1] == (11,)
    assert len(picker.chosen.children) == 1


def test_choices_reloaded_keep_the_chosen_that_still_exist():
    picker, changes = picker_of()
    picker.add(3)
    picker.add(5)
    picker.set_choices([("Tech #3", 3)], {3: "Tech #3"})
    assert picker.value == (3,) and len(changes) == 2, "a reload reports no change"
    assert [b.description for b in picker.chosen.children] == ["✕ Tech #3"]


def test_ten_thousand_lists_show_fifty_and_say_how_many():
    picker, _ = picker_of(10_000)
    assert len(picker.matches.options) == 50
    assert "10,000 lists match; the first 50 shown" in picker.hint.value
    started = time.perf_counter()
    picker.search.value = "tech #99"
    took = time.perf_counter() - started
    assert [v for _, v in picker.matches.options][:3] == [99, 991, 993]
    assert "56 lists match; the first 50 shown" in picker.hint.value  # 99, 991…999, 9901…9999
    assert took < 0.5


def test_long_names_are_cut_on_the_chip():
    assert chosen_label("x" * 60) == "✕ " + "x" * 39 + "…"
    assert chosen_label("<b>short</b>") == "✕ <b>short</b>", "plain text: a Button shows text"
