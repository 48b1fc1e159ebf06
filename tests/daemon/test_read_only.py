"""Read-only commands create nothing: no store file, no key file, no folders — in whatever
directory they run. Pointed at a store that does not exist they say so."""

from __future__ import annotations

import os

import pytest

from optdesk.cli import main
from optdesk.settings import REPO_ROOT


@pytest.fixture
def empty(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPTDESK_CONFIG", raising=False)
    monkeypatch.delenv("OPTDESK_SECRET", raising=False)
    monkeypatch.setenv("OPTDESK_RULES_DIR", str(REPO_ROOT / "rules"))
    (tmp_path / "box" / "new").mkdir(parents=True)
    (tmp_path / "box" / "cur").mkdir()
    (tmp_path / "box" / "tmp").mkdir()
    return tmp_path


READ_ONLY = [
    ["status", "--no-mailbox"],
    ["contact", "1", "--data-group", "demo"],
    ["suppressions", "--data-group", "demo"],
    ["export", "opted-out", "--data-group", "demo"],
    ["invitations", "--data-group", "demo"],
    ["report", "--data-group", "demo", "--out", "reports"],
    ["list-unsubscribe", "--contact", "1", "--data-group", "demo"],
    ["run", "--once", "--dry-run"],
]


@pytest.mark.parametrize("command", READ_ONLY, ids=lambda c: " ".join(c[:2]))
def test_a_read_only_command_on_a_missing_store_creates_nothing(empty, command, capsys):
    before = sorted(os.listdir(empty))
    code = main(["--db", "data/optdesk.duckdb", "--mailbox", "maildir:box", *command])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("optdesk: error: ")
    assert "no store at data/optdesk.duckdb" in err or "no token signing key" in err
    assert sorted(os.listdir(empty)) == before
    assert sorted(os.listdir(empty / "box")) == ["cur", "new", "tmp"]


def test_init_creates_the_store(empty, capsys):
    assert main(["--db", "data/optdesk.duckdb", "init"]) == 0
    assert (empty / "data" / "optdesk.duckdb").exists()
    assert main(["--db", "data/optdesk.duckdb", "status", "--no-mailbox"]) == 0
    assert "last poll: never" in capsys.readouterr().out
    assert not (empty / "data" / "secret.key").exists()
