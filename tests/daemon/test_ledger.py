"""The ledger mixin: soft-bounce scoring and decay, auto-replies, the review queue API."""

from __future__ import annotations

import datetime as dt

import pytest

from optdesk.errors import NotFound
from optdesk.store.deliverability import BounceScoring


def _review_row(store, digest, sender, contact_id=None, kind="opt_out"):
    store.add_ledger_rows([{
        "message_hash": digest, "mailbox": "fake:INBOX", "folder": "INBOX", "uid": 7,
        "sender": sender, "subject": "remove me?", "kind": kind, "stage": "opt_out",
        "rule": "en-remove", "confidence": 0.6, "evidence": {"matched": "remove"},
        "new_text": "maybe remove me", "contact_id": contact_id, "data_group": "demo",
        "status": "review", "review": True, "review_reason": "low confidence (0.60)",
        "review_state": "open",
    }])


def test_one_soft_bounce_never_makes_an_address_undeliverable(desk):
    harsh = BounceScoring(weight=10.0, half_life_days=7, threshold=1.0)
    first = desk.record_soft_bounce("alice@example.org", harsh)
    assert first["undeliverable"] is False and first["score"] == 10.0
    second = desk.record_soft_bounce("alice@example.org", harsh)
    assert second["undeliverable"] is True and second["changed"] is True
    assert desk.contact(1, "demo")["optout"] is None
    assert desk.events(kinds=["bounce_soft"]).height == 2


def test_scores_decay_and_soft_suppression_lifts(desk):
    scoring = BounceScoring(weight=1.0, half_life_days=7, threshold=1.5)
    t0 = dt.datetime(2026, 1, 1)
    desk.record_soft_bounce("bob@example.org", scoring, at=t0)
    state = desk.record_soft_bounce("bob@example.org", scoring, at=t0 + dt.timedelta(days=7))
    assert state["score"] == 1.5 and state["undeliverable"] is True  # 0.5 left + 1.0
    counts = desk.decay_bounce_scores(scoring, now=t0 + dt.timedelta(days=21))
    row = desk.deliverability("bob@example.org")
    assert counts == {"decayed": 1, "lifted": 1}
    assert row["bounce_score"] == pytest.approx(0.375) and row["undeliverable"] is False


def test_hard_bounce_stays_through_decay(desk):
    desk.mark_undeliverable("alice@example.org", reason="5.1.1 user unknown")
    assert desk.decay_bounce_scores(now=dt.datetime(2030, 1, 1))["lifted"] == 0
    assert desk.deliverability("alice@example.org")["undeliverable"] is True
    assert desk.mark_undeliverable("alice@example.org") is False


def test_auto_reply_recorded_with_return_date(desk):
    desk.record_auto_reply("Alice@example.org", return_date=dt.date(2026, 12, 1), contact_id=1,
                           data_group="demo", message_hash="h1")
    assert desk.deliverability("alice@example.org")["away_until"] == dt.datetime(2026, 12, 1)
    event = desk.events(kinds=["auto_reply"]).row(0, named=True)
    assert event["reason"] == "away until 2026-12-01" and event["message_hash"] == "h1"


def test_review_opt_out_applies_to_the_contact_with_the_analyst_as_actor(desk):
    _review_row(desk, "h-known", "bob@example.org", contact_id=2)
    queue = desk.review_queue("demo")
    assert queue.height == 1 and queue["contact_name"][0] == "First2 Last2"
    assert {"message_hash", "received_at", "sender", "subject", "kind", "stage", "rule",
            "confidence", "evidence", "new_text", "contact_id", "contact_name",
            "review_reason", "error"} <= set(queue.columns)
    assert desk.resolve_review("h-known", "opt_out", "ana@team") is True
    optout = desk.contact(2, "demo")["optout"]
    assert optout["source"] == "reply" and optout["actor"] == "ana@team"
    resolved = desk.events(kinds=["review_resolved"]).row(0, named=True)
    assert resolved["actor"] == "ana@team" and resolved["message_hash"] == "h-known"
    assert desk.review_queue("demo").height == 0
    assert desk.review_queue("demo", state="resolved")["resolution"].to_list() == ["opt_out"]
    assert desk.resolve_review("h-known", "dismiss", "ana@team") is False


def test_review_opt_out_of_an_unknown_sender_suppresses_the_address(desk):
    _review_row(desk, "h-unknown", "nobody@example.net")
    desk.resolve_review("h-unknown", "opt_out", "ana@team")
    assert desk.is_suppressed("nobody@example.net", "demo")


@pytest.mark.parametrize("action", ["human", "dismiss"])
def test_review_human_and_dismiss_change_no_opt_out(desk, action):
    _review_row(desk, "h", "bob@example.org", contact_id=2)
    assert desk.resolve_review("h", action, "ana@team")
    assert desk.contact(2, "demo")["optout"] is None
    assert desk.events(kinds=["review_resolved"])["source"].to_list() == [action]


def test_review_errors(desk):
    with pytest.raises(NotFound):
        desk.resolve_review("nope", "human", "ana")
    _review_row(desk, "h", "bob@example.org")
    with pytest.raises(ValueError):
        desk.resolve_review("h", "delete", "ana")
    with pytest.raises(ValueError):
        desk.review_queue(state="weird")
