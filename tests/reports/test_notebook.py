"""Notebook 04 runs headless (nbclient) over a generated store, and the view's controls work."""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import pathlib
import shutil
import sys

import nbformat
import pytest

from optdesk.reports.report import Period, utcnow
from optdesk.settings import load_settings

from . import expected, gen

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "04-reports.ipynb"


def test_notebook_is_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 1, "the view only; no raw frames printed under it"
    assert all(not c.outputs and c.execution_count is None for c in code)


def test_notebook_executes(small_generated, tmp_path, monkeypatch):
    from nbclient import NotebookClient

    store, rows = small_generated
    store.record_incident({"reason": "blocked", "family": "sending", "provider": "outlook.com",
                           "status": "5.7.1", "code": "550", "count": 2,
                           "recipients": ["a@x.example", "b@x.example"]},
                          data_group=gen.G, message_hash="nb-incident",
                          received_at=utcnow() - dt.timedelta(days=1))
    store.release()
    work = tmp_path / "nb"
    work.mkdir()
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    nb = nbformat.read(work / NOTEBOOK.name, as_version=4)
    monkeypatch.setenv("PATH", f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OPTDESK_DB", str(store.path))
    monkeypatch.setenv("OPTDESK_DATA_GROUP", gen.G)
    monkeypatch.delenv("OPTDESK_CONFIG", raising=False)
    period = Period.last(7, utcnow().date())
    NotebookClient(nb, timeout=120, kernel_name="python3", resources={"metadata": {"path": str(work)}},
                   store_widget_state=True).execute()
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert not [o for c in code for o in c.outputs if o.output_type == "error"]
    assert "application/vnd.jupyter.widget-view+json" in code[0].outputs[0]["data"]
    state = json.dumps(nb.metadata["widgets"])
    want = expected.summary(rows, gen.G, period.start, period.end)
    assert f"<b>{want['new_opt_outs']:,}</b>" in state
    assert "New opt-outs per list" in state or "No new opt-outs" in state
    assert "Opt-outs per source and opt-ins" in state
    names = [r["name"] for r in expected.lists(rows, gen.G, period.start, period.end).values()]
    assert sum(html.escape(name) in state for name in names) >= min(5, len(names))
    assert "outlook.com refused 1 message (2 recipients)" in state  # the incidents section
    assert "class='tablewrap'" in state


@pytest.fixture
def view(small_generated, tmp_path):
    from optdesk.views.reports_view import ReportsView

    store, _ = small_generated
    settings = load_settings(env={}, overrides={
        "db": str(store.path), "data_group": gen.G, "reports": {"out_dir": str(tmp_path / "out")}})
    return ReportsView(store, settings, today=gen.END.date())


def test_view_controls_rebuild_the_report(view, small_generated):
    _, rows = small_generated
    assert view.report.period == Period(gen.START, gen.END)
    view.since.value = dt.date(2026, 11, 2)
    assert view.report.period == Period(dt.datetime(2026, 11, 2), gen.END)
    want = expected.summary(rows, gen.G, dt.datetime(2026, 11, 2), gen.END)
    assert f"<b>{want['new_opt_outs']:,}</b>" in view.sections["summary"].value
    view.group.value = gen.H
    assert view.report.data_group == gen.H
    want_h = expected.lists(rows, gen.H, dt.datetime(2026, 11, 2), gen.END)
    assert view.report.tables["lists"].height == len(want_h)
    view.trend.value = 3
    assert view.report.tables["trend"].height == 3


def test_view_shows_errors_not_tracebacks(view):
    before = view.report
    view.until.value = dt.date(2026, 1, 1)  # before the first day
    assert "before it starts" in view.status.text
    assert view.report is before


def test_view_writes_files(view, tmp_path):
    view.save_button.click()
    assert "wrote" in view.status.text
    assert list((tmp_path / "out").glob("*/alpha_*_report.html"))


def test_lists_are_found_and_sorted_and_the_clock_is_words(view):
    from optdesk.views.reports_view import pick_lists

    lists = view.report.tables["lists"]
    name = str(lists["name"][0])
    view.list_text.value = name[:4].upper()
    shown = view.sections["lists"].value
    assert html.escape(name) in shown and "match)" in shown
    view.list_text.value = ""
    view.list_order.value = "by name"
    by_name = pick_lists(lists, "", "by name")["name"].to_list()
    assert shown != view.sections["lists"].value and "by name;" in view.sections["lists"].value
    first = view.sections["lists"].value.index(html.escape(str(by_name[0])))
    assert first < view.sections["lists"].value.index(html.escape(str(by_name[-1])))
    summary = view.sections["summary"].value
    assert "– / – / –" not in summary and "median / 95th pct" not in summary
    assert ("were applied within this" in summary or "no reply asked to be removed" in summary)
    trend = view.sections["trend_chart"].value
    assert str(view.report.tables["trend"]["period_start"][0].year) in trend
