"""The notebooks run top to bottom, headless (nbclient), against a demo store; committed clean."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import sys

import nbformat
import pytest

NOTEBOOKS = pathlib.Path(__file__).resolve().parents[2] / "notebooks"
OURS = ["01-opt-out-a-contact.ipynb", "02-opted-out-contacts.ipynb", "03-opt-in-invitations.ipynb",
        "04-reports.ipynb", "05-review-queue.ipynb", "06-engagement.ipynb",
        "07-import-contacts.ipynb"]


@pytest.mark.parametrize("name", OURS)
def test_notebook_is_committed_without_outputs(name):
    nb = nbformat.read(NOTEBOOKS / name, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert len(code) == 1, "one cell: the view (no raw frames or dicts printed under it)"
    assert code[0].source.strip().endswith("view")
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "widgets" not in nb.metadata


def run(name: str, store, tmp_path, monkeypatch, extra: str = "") -> nbformat.NotebookNode:
    """Execute a copy of the notebook (plus ``extra`` code) in a fresh python3 kernel."""
    from nbclient import NotebookClient

    store.release()
    work = tmp_path / "nb"
    work.mkdir(exist_ok=True)
    shutil.copy(NOTEBOOKS / name, work / name)
    nb = nbformat.read(work / name, as_version=4)
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    monkeypatch.setenv("PATH", f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("OPTDESK_DB", str(store.path))
    monkeypatch.setenv("OPTDESK_DATA_GROUP", "demo")
    monkeypatch.setenv("OPTDESK_ACTOR", "nb-analyst")
    monkeypatch.delenv("OPTDESK_CONFIG", raising=False)
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(work)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors
    return nb


def text_of(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                   + o.get("data", {}).get("text/html", "") for o in cell.outputs)


def test_01_runs_and_opts_out_from_the_kernel(demo_store, tmp_path, monkeypatch):
    from .conftest import mailable_contact

    row = mailable_contact(demo_store, "dup")
    extra = (
        f"view.search.value = {row['name']!r}\n"
        "import asyncio\n"
        "await asyncio.sleep(0.5)  # the debounced search runs on the kernel's loop\n"
        f"view.results.value = {row['contact_id']}\n"
        "view.optout_button.click()\n"
        "view.reason.value = 'from nbclient'\n"
        "view.confirm_button.click()\n"
        "print('STATUS', view.panel.status.text)\n"
    )
    nb = run("01-opt-out-a-contact.ipynb", demo_store, tmp_path, monkeypatch, extra)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "application/vnd.jupyter.widget-view+json" in code[0].outputs[0]["data"]
    assert "is opted out of demo" in text_of(code[-1])
    optout = demo_store.contact(row["contact_id"], "demo")["optout"]
    assert optout["actor"] == "nb-analyst" and optout["reason"] == "from nbclient"
    state = json.dumps(nb.metadata["widgets"])
    assert "from nbclient" in state and "Acting as <b>nb-analyst</b>" in state


def test_02_runs_and_filters_sorts_in_the_kernel(demo_store, tmp_path, monkeypatch):
    list_id = int(demo_store.lists("demo")["list_id"][2])
    extra = (
        f"view.filters.lists.value = {list_id}\n"
        "view.view_mode.value = 'grid'\n"
        "view.sort_buttons['reach'].click()\n"
        "print('IDS', view.frame['contact_id'].to_list(), 'TOTAL', view.total)\n"
    )
    nb = run("02-opted-out-contacts.ipynb", demo_store, tmp_path, monkeypatch, extra)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "application/vnd.jupyter.widget-view+json" in code[0].outputs[0]["data"]
    want = demo_store.opted_out("demo", lists=[list_id], sort_by="reach", descending=True, limit=24)
    assert f"IDS {want['contact_id'].to_list()} TOTAL {want['total'][0]}" in text_of(code[-1])
    state = json.dumps(nb.metadata["widgets"])
    assert "Reach \\u25bc" in state or "Reach ▼" in state


def test_05_runs_and_resolves_in_the_kernel(demo_store, tmp_path, monkeypatch):
    from .test_review_queue import add_review

    row = demo_store.find_contacts("ma", "demo", 50).filter(
        ~demo_store.find_contacts("ma", "demo", 50)["opted_out"]).row(0, named=True)
    add_review(demo_store, "nb-h1", "someone@example.org", row["contact_id"], minutes=1)
    add_review(demo_store, "nb-h2", "stranger@example.net", None, minutes=2)
    extra = "view.optout_button.click()\nprint('STATUS', view.status.text, view.current['message_hash'])\n"
    nb = run("05-review-queue.ipynb", demo_store, tmp_path, monkeypatch, extra)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "application/vnd.jupyter.widget-view+json" in code[0].outputs[0]["data"]
    assert "opt-out applied" in text_of(code[-1]) and "nb-h2" in text_of(code[-1])
    optout = demo_store.contact(row["contact_id"], "demo")["optout"]
    assert optout["actor"] == "nb-analyst" and optout["source"] == "reply"
    resolved = demo_store.review_queue("demo", state="resolved")
    assert resolved["message_hash"].to_list() == ["nb-h1"]
    assert resolved["resolved_by"].to_list() == ["nb-analyst"]
