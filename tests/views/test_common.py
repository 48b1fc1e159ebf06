"""Shared helpers of the views: escaping, error display, debouncing, the selection hand-off."""

from __future__ import annotations

import json
import threading
import time

from optdesk.errors import StoreBusy
from optdesk.views import selection
from optdesk.views.common import Debouncer, Status, esc, store_path


def test_esc_escapes_markup_and_quotes():
    assert esc("<img src=x onerror=alert(1)>") == "&lt;img src=x onerror=alert(1)&gt;"
    assert esc("a'b\"c&") == "a&#x27;b&quot;c&amp;"
    assert esc(None) == "—" and esc("") == "—" and esc(0) == "0"


def test_guard_turns_errors_into_a_message():
    status = Status()

    @status.guard
    def busy():
        raise StoreBusy("the store <x> stayed locked")

    assert busy() is None
    assert "stayed locked" in status.text and "&lt;x&gt;" in status.text
    status.guard(lambda: 1 / 0)()
    assert "ZeroDivisionError" in status.text
    status.guard(lambda: int("x"))()
    assert "Not accepted" in status.text


def test_debouncer_calls_once_after_the_last_trigger():
    calls = []
    done = threading.Event()

    def fn():
        calls.append(time.monotonic())
        done.set()

    d = Debouncer(fn, 0.05)
    started = time.monotonic()
    for _ in range(5):
        d.trigger()
        time.sleep(0.01)
    assert done.wait(2)
    time.sleep(0.1)
    assert len(calls) == 1 and calls[0] - started >= 0.09


def test_debouncer_with_no_delay_is_immediate():
    calls = []
    Debouncer(lambda: calls.append(1), 0).trigger()
    assert calls == [1]


def test_relative_store_path_is_taken_from_the_repository(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert store_path("data/x.duckdb", repo_root=tmp_path / "repo") == tmp_path / "repo/data/x.duckdb"
    (tmp_path / "here.duckdb").write_bytes(b"")
    assert store_path("here.duckdb").resolve() == (tmp_path / "here.duckdb").resolve()
    assert store_path(str(tmp_path / "abs.duckdb")) == tmp_path / "abs.duckdb"


def test_selection_round_trip_through_the_file(selection_file):
    assert selection.get_selection() is None
    stored = selection.set_selection("demo", [3, 1, 3, 2], origin="02")
    assert stored.contact_ids == (3, 1, 2)
    data = json.loads(selection_file.read_text())
    assert data["data_group"] == "demo" and data["contact_ids"] == [3, 1, 2]
    # another kernel wrote a newer selection: the file wins over this module's copy
    selection_file.write_text(json.dumps({"data_group": "g2", "contact_ids": [9]}))
    assert selection.get_selection().contact_ids == (9,)
    assert len(selection.get_selection()) == 1
    selection.clear_selection()
    assert selection.get_selection() is None and not selection_file.exists()


def test_selection_path_argument_and_unreadable_file(tmp_path):
    path = tmp_path / "sub" / "sel.json"
    selection.set_selection("demo", [5], path=path)
    assert selection.get_selection(path).contact_ids == (5,)
    path.write_text("{not json")
    # falls back to this kernel's copy
    assert selection.get_selection(path).contact_ids == (5,)
