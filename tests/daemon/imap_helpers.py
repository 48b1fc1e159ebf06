"""Shared by the Dovecot tests of the daemon: a demo store template and daemon settings."""

from __future__ import annotations

import dataclasses
import pathlib
import shutil
import time

from optdesk.settings import Settings, signing_key
from optdesk.store import Store

_TEMPLATE: dict[str, pathlib.Path] = {}


def demo_store(tmp_path: pathlib.Path, tmp_factory) -> Store:
    """A copy of a 300-contact demo store (made once per session)."""
    if "path" not in _TEMPLATE:
        path = tmp_factory.mktemp("demo-template") / "demo.duckdb"
        store = Store(path)
        store.init_demo(300)
        store.release()
        _TEMPLATE["path"] = path
    target = tmp_path / "optdesk.duckdb"
    shutil.copy(_TEMPLATE["path"], target)
    return Store(target)


def daemon_settings(account, tmp_path: pathlib.Path, **changes) -> Settings:
    base = account.settings()
    return dataclasses.replace(base, db=str(tmp_path / "optdesk.duckdb"), data_group="demo",
                               secret_file=str(tmp_path / "secret.key"), poll_interval=1,
                               **changes)


def key(settings: Settings) -> bytes:
    return signing_key(settings)


def wait_for_progress(db, before: int, timeout: float) -> bool:
    """True once the ledger holds more than ``before`` messages (the daemon committed a chunk)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        store = Store(db)
        height = store.ledger().height
        store.release()
        if height > before:
            return True
        time.sleep(0.05)
    return False
