"""Corrections: undo a manual opt-out or a list removal within the grace period, reopen a review."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest

from optdesk.errors import NotFound, Refused
from optdesk.store.base import utcnow

HOUR = dt.timedelta(hours=1)


def fresh_contact(store) -> int:
    return next(r["contact_id"] for r in store.search_contacts("ma", "demo", limit=50)
                .rows.iter_rows(named=True) if not r["opted_out"])


def test_undo_a_manual_opt_out_records_its_own_event(demo_store):
    cid = fresh_contact(demo_store)
    demo_store.opt_out(cid, "demo", source="manual", actor="ana", reason="by mistake?")
    ok, why = demo_store.undoable_opt_out(cid, "demo")
    assert ok and "until" in why
    opted = demo_store.contact(cid, "demo")["optout"]
    event_id = demo_store.undo_opt_out(cid, "demo", actor="bea", reason="wrong Amélie Dupont")
    record = demo_store.contact(cid, "demo")
    assert record["optout"] is None
    undone = record["history"].filter(record["history"]["kind"] == "opt_out_undone").row(0, named=True)
    assert undone["event_id"] == event_id and undone["actor"] == "bea"
    assert undone["reason"] == "wrong Amélie Dupont"
    assert json.loads(undone["evidence"])["undoes"] == opted["event_id"]
    assert "opt_out" in record["history"]["kind"].to_list(), "the opt-out stays in the log"
    with pytest.raises(NotFound, match="is not opted out"):
        demo_store.undo_opt_out(cid, "demo", actor="bea", reason="again")


def test_undo_refused_after_the_grace_period(demo_store):
    cid = fresh_contact(demo_store)
    demo_store.opt_out(cid, "demo", source="manual", actor="ana", at=utcnow() - 25 * HOUR)
    with pytest.raises(Refused, match=r"made 25 h ago; it can be undone for 24 h"):
        demo_store.undo_opt_out(cid, "demo", actor="bea", reason="late")
    demo_store.undo_opt_out(cid, "demo", actor="bea", reason="longer grace", grace=48 * HOUR)
    assert demo_store.contact(cid, "demo")["optout"] is None


@pytest.mark.parametrize("source", ["reply", "list_unsubscribe", "complaint"])
def test_the_journalists_own_opt_out_is_never_undone(demo_store, source):
    cid = fresh_contact(demo_store)
    demo_store.opt_out(cid, "demo", source=source, actor="daemon")
    assert demo_store.undoable_opt_out(cid, "demo")[0] is False
    with pytest.raises(Refused, match=f"came from the journalist \\({source}\\)"):
        demo_store.undo_opt_out(cid, "demo", actor="bea", reason="no")
    assert demo_store.contact(cid, "demo")["optout"]["source"] == source


def test_a_reason_is_required(demo_store):
    cid = fresh_contact(demo_store)
    demo_store.opt_out(cid, "demo", source="manual", actor="ana")
    with pytest.raises(ValueError, match="reason"):
        demo_store.undo_opt_out(cid, "demo", actor="bea", reason="  ")


def test_undo_a_list_removal_once(demo_store):
    lists = demo_store.lists("demo")
    first = lists.row(0, named=True)
    members = demo_store.opted_out("demo", lists=[first["list_id"]], limit=None)["contact_id"]
    cid = int(members[0])
    demo_store.remove_from_list(first["list_id"], [cid], "demo", actor="ana")
    removals = demo_store.list_removals("demo", [cid])
    assert removals.height == 1 and removals["list"][0] == first["name"]
    demo_store.undo_list_removal(removals["event_id"][0], actor="bea", reason="wrong list")
    assert first["name"] in demo_store.contact(cid, "demo")["lists"]["name"].to_list()
    assert demo_store.list_removals("demo", [cid]).height == 0
    with pytest.raises(Refused, match="undone already"):
        demo_store.undo_list_removal(removals["event_id"][0], actor="bea", reason="twice")


def test_undo_opt_out_command(tmp_path):
    db = str(tmp_path / "u.duckdb")
    cmd = [sys.executable, "-m", "optdesk", "--db", db]
    subprocess.run([*cmd, "init", "--demo", "--contacts", "300"], check=True, capture_output=True)
    subprocess.run([*cmd, "opt-out", "--contact", "7", "--data-group", "demo", "--reason", "x",
                    "--actor", "ana"], check=True, capture_output=True)
    ok = subprocess.run([*cmd, "undo-opt-out", "--contact", "7", "--data-group", "demo",
                         "--reason", "mistake"], capture_output=True, text=True)
    assert ok.returncode == 0 and "manual opt-out undone" in ok.stdout, ok.stderr
    from optdesk.store import Store

    s = Store(db)
    other = s.opted_out("demo", sources=["reply"], limit=1)["contact_id"][0]
    s.release()
    refused = subprocess.run([*cmd, "undo-opt-out", "--contact", str(other), "--data-group",
                              "demo", "--reason", "no"], capture_output=True, text=True)
    assert refused.returncode == 2
    assert refused.stderr.strip().count("\n") == 0 and "came from the journalist (reply)" in refused.stderr
    env_short = subprocess.run(
        [*cmd, "opt-out", "--contact", "8", "--data-group", "demo", "--reason", "x"],
        capture_output=True)
    assert env_short.returncode == 0
    late = subprocess.run([*cmd, "undo-opt-out", "--contact", "8", "--data-group", "demo",
                           "--reason", "late"], capture_output=True, text=True,
                          env={**__import__("os").environ, "OPTDESK_UNDO_GRACE_HOURS": "0"})
    assert late.returncode == 2 and "it can be undone for 0 h" in late.stderr
