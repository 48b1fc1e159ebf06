"""notebooks/03-opt-in-invitations.ipynb: committed clean, and run headless (nbclient) end to end."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import sys

import nbformat
import pytest

from optdesk.views.selection import set_selection

from .conftest import GROUP, KEY

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "notebooks" / "03-opt-in-invitations.ipynb"


def test_committed_without_outputs():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert 1 <= len(code) <= 4
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "widgets" not in nb.metadata


def execute(tmp_path, monkeypatch, env: dict, extra: str = "") -> nbformat.NotebookNode:
    from nbclient import NotebookClient

    work = tmp_path / "nb"
    work.mkdir(exist_ok=True)
    shutil.copy(NOTEBOOK, work / NOTEBOOK.name)
    nb = nbformat.read(work / NOTEBOOK.name, as_version=4)
    if extra:
        nb.cells.append(nbformat.v4.new_code_cell(extra))
    monkeypatch.setenv("PATH", f"{pathlib.Path(sys.executable).parent}{os.pathsep}"
                               f"{os.environ['PATH']}")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    NotebookClient(nb, timeout=120, kernel_name="python3", store_widget_state=True,
                   resources={"metadata": {"path": str(work)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert not errors, errors
    return nb


def text_of(cell) -> str:
    return "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                   + o.get("data", {}).get("text/html", "") for o in cell.outputs)


@pytest.mark.slow
def test_runs_on_the_demo_store_without_a_selection(demo_store, tmp_path, monkeypatch):
    demo_store.release()
    nb = execute(tmp_path, monkeypatch, {
        "OPTDESK_DB": str(demo_store.path), "OPTDESK_DATA_GROUP": "demo",
        "OPTDESK_SELECTION": str(tmp_path / "none.json"), "OPTDESK_SECRET": KEY.decode()})
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert "application/vnd.jupyter.widget-view+json" in code[0].outputs[0]["data"]
    assert len(code) == 1, "the view only: no raw frame printed under it"
    assert "No selection yet" in json.dumps(nb.metadata["widgets"])


@pytest.mark.slow
def test_sends_the_selection_from_the_kernel(inv_store, smtp_sink, tmp_path, monkeypatch):
    sink, url = smtp_sink
    selection = tmp_path / "selection.json"
    set_selection(GROUP, [1, 2, 6], origin="02-opted-out-contacts", path=selection)
    config = tmp_path / "optdesk.toml"
    config.write_text('[invitations]\nreply_domain = "reply.example"\n'
                      'organisation = "Acme PR"\n', encoding="utf-8")
    inv_store.release()
    extra = (
        "view.load_button.click()\n"
        "view.language.value = 'it'\n"
        "view.comments.value = 'Dal notebook.'\n"
        "view.preview_button.click()\n"
        "print('PREVIEW', 'Gentile Ann One' in view.preview_html.value)\n"
        "view.send_button.click()\n"
        "view.confirm_button.click()\n"
        "view._sending.join(60)  # the app sends in a thread, so that Stop stays clickable\n"
        "print('STATUS', view.status.text)\n"
        "print('PROGRESS', view.progress.value, view.progress.max)\n"
    )
    nb = execute(tmp_path, monkeypatch, {
        "OPTDESK_DB": str(inv_store.path), "OPTDESK_DATA_GROUP": GROUP,
        "OPTDESK_SELECTION": str(selection), "OPTDESK_SECRET": KEY.decode(),
        "OPTDESK_SMTP_URL": url, "OPTDESK_CONFIG": str(config), "OPTDESK_ACTOR": "nb-analyst"},
        extra)
    out = text_of(nb.cells[-1])
    assert "2 sent, 1 skipped" in out and "PROGRESS 3 3" in out
    assert [m["rcpt_tos"][0] for m in sink.messages] == ["a1@news.example", "a6@news.example"]
    body = sink.messages[0]["msg"].get_content()
    assert "Dal notebook." in body and "«SÌ»" in body
    assert inv_store.events(kinds=["invitation_sent"])["actor"].to_list() == ["nb-analyst"] * 2
    assert "PREVIEW True" in out  # the preview, rendered in the kernel before the send
    assert "a6@news.example" in json.dumps(nb.metadata["widgets"])  # the results table
