"""Who may be invited: opted out, never after a complaint, once per cool-off; the batch send."""

from __future__ import annotations

import datetime as dt
import time

import pytest

from optdesk.errors import HeaderInjection
from optdesk.outgoing import invitations as inv
from optdesk.store import utcnow
from optdesk.store.invitations import Reservation

from .conftest import GROUP, KEY

FIELDS = inv.InvitationFields("Acme Press", "press@acme.example", "", "", "en")


def reserve(store, contact_id, now=None, cooloff=90):
    return store.reserve_invitation(
        contact_id, GROUP, sender_name="A", sender_email="a@acme.example", subject="s",
        comments="", language="en", actor="t", ttl_days=30, cooloff_days=cooloff, now=now)


class Recorder:
    """A stand-in SMTP session for logic tests (the real server is in test_cli_smtp)."""

    def __init__(self, fail_for=()):
        self.sent, self.closed, self.fail_for = [], 0, set(fail_for)

    def __call__(self):
        return self

    def refusal(self, msg):
        return None  # takes every message, SMTPUTF8 included

    def send(self, msg):
        if msg["To"].addresses[0].addr_spec in self.fail_for:
            raise OSError("550 mailbox unavailable")
        self.sent.append(msg)

    def close(self):
        self.closed += 1


def test_refusal_reasons(inv_store):
    reasons = {cid: reason for (row, reason) in inv.plan(
        inv_store, GROUP, [1, 2, 3, 4, 5, 6, 99, 1], cooloff_days=90) for cid in [row["contact_id"]]}
    assert list(reasons) == [1, 2, 3, 4, 5, 6, 99]  # order kept, duplicates dropped
    assert reasons[1] is None and reasons[6] is None
    assert reasons[2] == "opted out by a spam complaint: never invited"
    assert reasons[3] == "not opted out in data group 'g'"
    assert reasons[4].startswith("sent a spam complaint on ")
    assert reasons[5] == "primary address a5@news.example is undeliverable"
    assert reasons[99] == "no such contact"


def test_other_data_group_is_not_opted_out(inv_store):
    (row, reason), = inv.plan(inv_store, "other", [1], cooloff_days=90)
    assert reason == "not opted out in data group 'other'"


def test_cooloff(inv_store):
    t0 = utcnow()
    first = reserve(inv_store, 1, now=t0)
    assert isinstance(first, Reservation) and first.email == "a1@news.example"
    assert reserve(inv_store, 1, now=t0).startswith("already invited on")  # pending counts
    inv_store.mark_invitation_sent(first.invitation_id, message_id="<x@y>", actor="t", at=t0)
    assert "cool-off until" in reserve(inv_store, 1, now=t0 + dt.timedelta(days=89))
    assert isinstance(reserve(inv_store, 1, now=t0 + dt.timedelta(days=91)), Reservation)
    # configurable
    assert isinstance(reserve(inv_store, 6, now=t0, cooloff=0), Reservation)
    assert isinstance(reserve(inv_store, 6, now=t0 + dt.timedelta(seconds=1), cooloff=0),
                      Reservation)


def test_a_failed_send_starts_no_cooloff(inv_store):
    first = reserve(inv_store, 1)
    inv_store.mark_invitation_failed(first.invitation_id, "connection refused")
    assert isinstance(reserve(inv_store, 1), Reservation)


def test_batch_send_results_events_and_progress(inv_store, settings):
    smtp, seen = Recorder(), []
    results = inv.send_invitations(
        inv_store, settings, GROUP, [1, 2, 3, 6], FIELDS, actor="ana", connect=smtp, key=KEY,
        progress=lambda done, total, r: seen.append((done, total, r.contact_id, r.status)))
    assert [(r.contact_id, r.status) for r in results] == [
        (1, "sent"), (2, "skipped"), (3, "skipped"), (6, "sent")]
    assert seen == [(1, 4, 1, "sent"), (2, 4, 2, "skipped"), (3, 4, 3, "skipped"),
                    (4, 4, 6, "sent")]
    assert [m["To"].addresses[0].addr_spec for m in smtp.sent] == ["a1@news.example",
                                                                    "a6@news.example"]
    assert smtp.closed == 1
    events = inv_store.events(data_group=GROUP, kinds=["invitation_sent"])
    assert sorted(events["contact_id"].to_list()) == [1, 6]
    assert set(events["actor"]) == {"ana"}
    rows = inv_store.invitations(GROUP)
    assert set(rows["status"]) == {"sent"}
    for r in results:
        if r.status == "sent":
            row = inv_store.invitation(r.invitation_id)
            assert row["message_id"] == r.message_id and row["sent_at"] is not None
            assert inv_store.invitation_for_message_id(r.message_id.strip("<>"))["contact_id"] \
                == r.contact_id
    # a second batch at once: the cool-off skips them
    again = inv.send_invitations(inv_store, settings, GROUP, [1, 6], FIELDS, actor="ana",
                                 connect=smtp, key=KEY)
    assert {r.status for r in again} == {"skipped"} and len(smtp.sent) == 2


def test_failed_send_is_a_failed_result_and_row(inv_store, settings):
    smtp = Recorder(fail_for={"a1@news.example"})
    results = inv.send_invitations(inv_store, settings, GROUP, [1, 6], FIELDS, actor="t",
                                   connect=smtp, key=KEY)
    assert [(r.contact_id, r.status) for r in results] == [(1, "failed"), (6, "sent")]
    assert "550 mailbox unavailable" in results[0].reason
    assert inv_store.invitation(results[0].invitation_id)["status"] == "failed"
    assert inv_store.events(contact_id=1, kinds=["invitation_sent"]).height == 0


def test_unreachable_smtp_fails_every_eligible_contact_without_rows(inv_store, settings):
    def refuse():
        raise ConnectionRefusedError("connection refused")

    results = inv.send_invitations(inv_store, settings, GROUP, [1, 2, 6], FIELDS, actor="t",
                                   connect=refuse, key=KEY)
    assert [r.status for r in results] == ["failed", "skipped", "failed"]
    assert "cannot reach the SMTP server" in results[0].reason
    assert inv_store.invitations(GROUP).height == 0


def test_dry_run_touches_nothing(inv_store, settings):
    def never():
        raise AssertionError("dry run must not connect")

    results = inv.send_invitations(inv_store, settings, GROUP, [1, 2, 6], FIELDS, actor="t",
                                   connect=never, key=KEY, dry_run=True)
    assert [r.status for r in results] == ["would send", "skipped", "would send"]
    assert inv_store.invitations(GROUP).height == 0
    assert inv_store.events(kinds=["invitation_sent"]).height == 0


def test_header_injection_sends_and_writes_nothing(inv_store, settings):
    smtp = Recorder()
    bad = inv.InvitationFields("Acme", "press@acme.example", "Hi\r\nBcc: all@example.org")
    with pytest.raises(HeaderInjection, match="subject contains a carriage return"):
        inv.send_invitations(inv_store, settings, GROUP, [1, 6], bad, actor="t", connect=smtp,
                             key=KEY)
    assert smtp.sent == [] and inv_store.invitations(GROUP).height == 0


def test_rate_limit(inv_store, settings):
    inv_store.opt_out(3, GROUP, source="manual", actor="t")  # a third invitable contact
    smtp = Recorder()
    start = time.monotonic()
    results = inv.send_invitations(inv_store, settings, GROUP, [1, 3, 6], FIELDS, actor="t",
                                   connect=smtp, key=KEY, rate=10.0)
    elapsed = time.monotonic() - start
    assert [r.status for r in results] == ["sent"] * 3
    assert elapsed >= 0.2  # three sends at 10/s: at least two intervals of 0.1 s
