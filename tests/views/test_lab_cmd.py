"""`optdesk lab` starts a real JupyterLab on the notebooks, creating the demo store when absent."""

from __future__ import annotations

import json
import pathlib

import pytest

from fixtures.jupyter import NOTEBOOKS, start_lab
from optdesk.cli import build_parser
from optdesk.cli.lab_cmds import lab_command
from optdesk.store import Store


def test_lab_command_line():
    args = build_parser().parse_args(["lab", "--port", "9999", "--token", "t", "--no-browser"])
    cmd = lab_command(args, pathlib.Path("/x/notebooks"))
    assert cmd[1:3] == ["-m", "jupyterlab"]
    for part in ("--ServerApp.root_dir=/x/notebooks", "--ServerApp.port=9999",
                 "--ServerApp.port_retries=0", "--IdentityProvider.token=t", "--no-browser",
                 "--ServerApp.ip=127.0.0.1"):
        assert part in cmd


@pytest.mark.slow
def test_lab_creates_the_demo_store_and_serves_the_notebooks(tmp_path):
    db = tmp_path / "fresh" / "optdesk.duckdb"
    root = tmp_path / "notebooks"
    root.mkdir()
    for nb in NOTEBOOKS.glob("0[125]-*.ipynb"):
        (root / nb.name).write_bytes(nb.read_bytes())
    lab = start_lab(db, root)
    try:
        listing = json.loads(lab.get("/api/contents"))
        names = {item["name"] for item in listing["content"]}
        assert {"01-opt-out-a-contact.ipynb", "02-opted-out-contacts.ipynb"} <= names
        environ = pathlib.Path(f"/proc/{lab.proc.pid}/environ").read_bytes().split(b"\0")
        assert f"OPTDESK_DB={db}".encode() in environ, "the kernels get the store's absolute path"
        assert b"OPTDESK_DATA_GROUP=demo" in environ
    finally:
        lab.stop()
    store = Store(db)
    assert store.data_groups() == ["demo"] and not store.is_empty()
    assert store.opted_out("demo", limit=1)["total"][0] > 0
    store.release()
