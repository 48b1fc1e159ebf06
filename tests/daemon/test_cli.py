"""`make run`'s three commands on a fresh folder, with the real classifier and Maildir source:
every kind in the demo mailbox is handled, a dry run changes nothing, status reports it."""

from __future__ import annotations

import os
import pathlib

import pytest

from optdesk.cli import main
from optdesk.settings import REPO_ROOT
from optdesk.store import Store


@pytest.fixture
def demo_dir(tmp_path, monkeypatch) -> pathlib.Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPTDESK_RULES_DIR", str(REPO_ROOT / "rules"))
    monkeypatch.delenv("OPTDESK_CONFIG", raising=False)
    assert main(["--db", "data/optdesk.duckdb", "init", "--demo", "--contacts", "300",
                 "--if-absent"]) == 0
    assert main(["--db", "data/optdesk.duckdb", "demo-mailbox", "--if-absent",
                 "data/demo-mailbox"]) == 0
    return tmp_path


def _files(folder: pathlib.Path) -> list[pathlib.Path]:
    return [f for sub in ("new", "cur") if (folder / sub).is_dir() for f in (folder / sub).iterdir()]


RUN = ["--db", "data/optdesk.duckdb", "--mailbox", "maildir:data/demo-mailbox",
       "--data-group", "demo", "run", "--once"]


def test_make_run_handles_every_kind(demo_dir, capsys):
    box = demo_dir / "data" / "demo-mailbox"
    before = sorted(f.name for f in _files(box))
    assert len(before) == 18
    assert main(RUN + ["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "dry run:" in out and "opt out contact" in out and "moved 0" in out
    assert sorted(f.name for f in _files(box)) == before
    store = Store("data/optdesk.duckdb")
    assert store.ledger().height == 0
    store.release()

    assert main(RUN) == 0
    store = Store("data/optdesk.duckdb")
    ledger = store.ledger()
    assert ledger.height == 18
    assert set(ledger["kind"]) == {"opt_out", "complaint", "bounce_hard", "bounce_soft",
                                   "auto_reply", "human"}
    sources = store.events(data_group="demo", kinds=["opt_out"])
    sources = sources.filter(sources["message_hash"].is_not_null())["source"]
    # the demo's spam complaint comes from fbl@isp.example.net, not a configured feedback loop:
    # a complaint pending review, nothing applied, left in the inbox (issue 12, item 1)
    assert sorted(sources) == ["list_unsubscribe"] + ["reply"] * 7
    held = ledger.filter(kind="complaint")
    assert held["status"].to_list() == ["review"] and held["moved_to"].to_list() == [None]
    hard = ledger.filter(kind="bounce_hard", status="applied")["evidence"][0]
    assert ledger.filter(kind="bounce_hard", status="applied")["rule"][0].startswith("bounce-") and hard
    assert store.review_queue("demo").height == 3
    # the policy refusal is a sending incident: recorded and filed, nothing against the address
    incidents = store.incidents()
    assert incidents.height == 1 and incidents["reason"][0] == "blocked"
    refused = incidents["addresses"][0].to_list()
    assert not store.deliverability(refused[0])
    assert len(_files(box)) == 4  # the human replies and the complaint held for review stay
    for kind, n in {"opt_out": 9, "complaint": 0, "bounce_hard": 2, "bounce_soft": 1,
                    "auto_reply": 2}.items():
        assert len(_files(box / f".optdesk.{kind}")) == n, kind
    store.release()

    assert main(RUN) == 0  # nothing new, nothing applied twice
    assert "0 messages" in capsys.readouterr().out
    assert main(["--db", "data/optdesk.duckdb", "--mailbox", "maildir:data/demo-mailbox",
                 "status"]) == 0
    status = capsys.readouterr().out
    assert "last poll:" in status and "open reviews: 3" in status and "backlog: 0 new" in status
    assert "sending incidents (last 7 days)" in status
    assert "refused 1 message: our IP or domain is on a block list or was refused [blocked]" in status


def test_demo_mailbox_if_absent_leaves_it(demo_dir, capsys):
    assert main(["--db", "data/optdesk.duckdb", "demo-mailbox", "--if-absent",
                 "data/demo-mailbox"]) == 0
    assert "left as it is" in capsys.readouterr().out
    assert len(os.listdir(demo_dir / "data" / "demo-mailbox" / "new")) == 18


def test_a_failed_poll_shows_in_status(demo_dir, capsys):
    bad = ["--db", "data/optdesk.duckdb", "--mailbox", "maildir:data/no-such-box"]
    assert main(bad + ["run", "--once"]) == 2
    assert "no-such-box does not exist" in capsys.readouterr().err
    assert main(bad + ["status"]) == 0
    out = capsys.readouterr().out
    assert "FAILED: MailboxUnavailable" in out and "backlog: unknown" in out
    assert main(bad + ["status", "--no-mailbox"]) == 0
    assert "not counted" in capsys.readouterr().out
