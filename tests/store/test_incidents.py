"""Sending incidents in the store: the migration, batch writes from the daemon's plans, the summary
per provider and reason, and that an incident never touches the address it names."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from optdesk.classify import Classifier, load_rules
from optdesk.daemon.actions import apply_plan, plan_message
from optdesk.sources import RawMessage
from optdesk.store import Store
from optdesk.store.migrations import MIGRATIONS
from optdesk.store.writes import Writes

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOUNCES = ROOT / "tests" / "classify" / "corpus" / "bounces"
AT = dt.datetime(2026, 11, 20, 9, 0)


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "s.duckdb")


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_rules(ROOT / "rules"), signing_key=b"k")


def _apply(store: Store, clf: Classifier, names: list[str], group: str = "press") -> list:
    ops, plans = Writes(), []
    for uid, name in enumerate(names, 1):
        raw = RawMessage(uid, (BOUNCES / name).read_bytes(), internaldate=AT)
        plan = plan_message(raw, clf.classify(raw.data), {}, group, {})
        apply_plan(store, plan, ops)
        plans.append(plan)
    with store.transaction():
        store.apply_writes(ops, at=AT + dt.timedelta(minutes=1))
    return plans


def test_migration_is_recorded(store):
    assert "0003_sending_incidents" in [n for n, _ in MIGRATIONS]
    assert store.db.rows("SELECT count(*) FROM schema_migrations"
                         " WHERE name = '0003_sending_incidents'") == [(1,)]


def test_record_and_list(store):
    store.record_incident({"reason": "blocked", "family": "sending", "provider": "outlook.com",
                           "remote": "mx1.mail.protection.outlook.com", "status": "5.7.1",
                           "code": "550", "diagnostic": "blocked using zen.spamhaus.org",
                           "recipients": ["a@x.example", "b@x.example"], "count": 2},
                          data_group="press", message_id="<n1@mx>", message_hash="h1",
                          received_at=AT)
    rows = store.incidents()
    assert rows.height == 1
    row = rows.row(0, named=True)
    assert (row["reason"], row["provider"], row["recipients"], row["reply_code"]) == \
        ("blocked", "outlook.com", 2, "550")
    assert row["addresses"] == ["a@x.example", "b@x.example"]
    assert row["received_at"] == AT and row["message_id"] == "<n1@mx>"


def test_daemon_batch_records_incidents_and_never_the_address(store, clf):
    plans = _apply(store, clf, ["sending-blocked-spamhaus.eml", "sending-authfailure-dmarc.eml",
                                "gone-userunknown-postfix.eml"])
    assert any("sending incident: blocked" in step for p in plans for step in p.steps)
    incidents = store.incidents()
    assert sorted(incidents["reason"].to_list()) == ["authfailure", "blocked"]
    for address in [a for lst in incidents["addresses"].to_list() for a in lst]:
        assert store.deliverability(address) is None  # never touched
    bounced = store.events(kinds=["bounce_hard", "bounce_soft"])
    assert bounced["email"].to_list() == ["nobody.here@newsroom.example"]
    assert store.deliverability("nobody.here@newsroom.example")["undeliverable"]
    assert set(incidents["data_group"]) == {"press"}
    assert all(h for h in incidents["message_hash"])


def test_mixed_notice_counts_only_the_address_reasons(store, clf):
    _apply(store, clf, ["mixed-gone-full-blocked.eml"])
    gone = store.deliverability("left.the.paper@daily.example")
    full = store.deliverability("full.inbox@weekly.example")
    assert gone["undeliverable"] and gone["hard_bounced_at"] is not None
    assert not full["undeliverable"] and full["soft_bounces"] == 1
    assert store.deliverability("editor@blocked.example") is None
    assert store.incidents()["addresses"].to_list() == [["editor@blocked.example"]]


def test_summary_per_provider_and_reason(store):
    for i, (provider, reason) in enumerate([("outlook.com", "blocked")] * 3
                                           + [("google.com", "authfailure")]):
        store.record_incident({"reason": reason, "family": "sending", "provider": provider,
                               "recipients": [f"r{i}@x.example"], "count": 1, "status": "5.7.1"},
                              data_group="press", message_hash=f"h{i}",
                              received_at=AT + dt.timedelta(hours=i))
    store.record_incident({"reason": "blocked", "family": "sending", "provider": "old.example",
                           "recipients": ["x@y.example"], "count": 1}, data_group="press",
                          message_hash="old", received_at=AT - dt.timedelta(days=30))
    frame = store.incident_summary(AT - dt.timedelta(days=7), AT + dt.timedelta(days=1))
    rows = frame.rows(named=True)
    assert [(r["provider"], r["reason"], r["messages"]) for r in rows] == \
        [("outlook.com", "blocked", 3), ("google.com", "authfailure", 1)]
    assert rows[0]["last_at"] == AT + dt.timedelta(hours=2)
    other = store.incident_summary(AT - dt.timedelta(days=7), AT + dt.timedelta(days=1),
                                   data_group="another-group")
    assert other.height == 0


def test_sql_is_parameterised(store):
    """A provider name with quotes is data, not SQL."""
    store.record_incident({"reason": "blocked", "family": "sending",
                           "provider": "x'); DROP TABLE sending_incidents; --",
                           "recipients": [], "count": 0}, received_at=AT)
    assert store.incidents().height == 1
