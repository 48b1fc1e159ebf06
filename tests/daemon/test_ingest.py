"""One poll over the fake source with the fake classifier: every kind, idempotence, crashes
between commit and move, UIDVALIDITY changes, dry runs, stop requests, failures."""

from __future__ import annotations

import pytest

from optdesk.daemon.ingest import Ingestor
from optdesk.errors import MailboxUnavailable
from optdesk.testing import FakeMailbox, FakeSource

from .conftest import fake_classify, make_mail


@pytest.fixture
def box() -> FakeMailbox:
    return FakeMailbox()


def poller(desk, box, settings, **kw) -> Ingestor:
    return Ingestor(desk, FakeSource(box, fetch_size=settings.fetch_size), fake_classify,
                    settings, **kw)


def events(desk, kind):
    return desk.events(kinds=[kind])


def inbox(box):
    return box.folders["INBOX"]


def test_opt_out_applied_once_moved_and_flags_untouched(desk, box, settings):
    box.deliver(make_mail("Alice@Example.org", "opt_out"))
    seen = box.deliver(make_mail("bob@example.org", "opt_out"), flags=["\\Seen"])
    res = poller(desk, box, settings).poll()
    assert (res.applied, res.moved, res.errors) == (2, 2, 0)
    assert desk.contact(1, "demo")["optout"]["source"] == "reply"
    assert desk.contact(2, "demo")["optout"] is not None
    assert events(desk, "opt_out").height == 2
    moved = box.folders["optdesk/opt_out"]
    assert not inbox(box) and len(moved) == 2
    assert sorted(sorted(m.flags) for m in moved.values()) == [[], ["\\Seen"]]
    assert seen == 2
    again = poller(desk, box, settings).poll()
    assert again.seen == 0 and events(desk, "opt_out").height == 2
    row = desk.ledger().filter(status="applied").row(0, named=True)
    assert row["moved_at"] is not None and row["moved_to"] == "optdesk/opt_out"


def test_unknown_and_shared_addresses_are_suppressed_and_reviewed(desk, box, settings):
    box.deliver(make_mail("stranger@example.net", "opt_out"))
    box.deliver(make_mail("shared@example.org", "opt_out"))
    res = poller(desk, box, settings).poll()
    assert res.applied == 2 and res.review == 2
    assert desk.is_suppressed("stranger@example.net", "demo")
    assert desk.is_suppressed("shared@example.org", "demo")
    assert desk.contact(3, "demo")["optout"] is None and desk.contact(4, "demo")["optout"] is None
    queue = desk.review_queue("demo")
    assert queue.height == 2
    reasons = " ".join(queue["review_reason"])
    assert "belongs to no contact" in reasons and "shared by contacts 3, 4" in reasons


def test_token_complaint_bounces_and_auto_reply(desk, box, settings):
    box.deliver(make_mail("whoever@elsewhere.example", "opt_out", token="2/demo"))
    box.deliver(make_mail("fbl@isp.example", "complaint", address="alice@example.org"))
    box.deliver(make_mail("mailer-daemon@mx.example", "bounce_hard", address="bob@example.org"))
    box.deliver(make_mail("mailer-daemon@mx.example", "bounce_soft",
                          address="bob.private@example.org"))
    box.deliver(make_mail("shared@example.org", "auto_reply", **{"return": "2026-12-03"}))
    res = poller(desk, box, settings).poll()
    assert res.applied == 5 and res.errors == 0
    assert desk.contact(2, "demo")["optout"]["source"] == "list_unsubscribe"
    assert desk.contact(1, "demo")["optout"]["source"] == "complaint"
    assert desk.deliverability("bob@example.org")["undeliverable"] is True
    soft = desk.deliverability("bob.private@example.org")
    assert soft["undeliverable"] is False and soft["soft_bounces"] == 1
    away = desk.deliverability("shared@example.org")
    assert away["away_until"].date().isoformat() == "2026-12-03"
    for kind in ("complaint", "bounce_hard", "bounce_soft", "auto_reply"):
        assert len(box.folders[f"optdesk/{kind}"]) == 1
    assert events(desk, "opt_out").height == 2


def test_bounces_never_opt_a_contact_out(desk, box, settings):
    for _ in range(3):
        box.deliver(make_mail("mailer-daemon@mx.example", "bounce_hard", address="alice@example.org"))
    poller(desk, box, settings).poll()
    assert desk.contact(1, "demo")["optout"] is None
    assert desk.is_suppressed("alice@example.org", "demo")  # undeliverable, not opted out


def test_human_and_low_confidence_are_left_unread(desk, box, settings):
    human = box.deliver(make_mail("alice@example.org", "human"))
    unsure = box.deliver(make_mail("bob@example.org", "opt_out", confidence="0.5"))
    res = poller(desk, box, settings).poll()
    assert (res.left, res.review, res.moved) == (1, 1, 0)
    assert set(inbox(box)) == {human, unsure}
    assert all(not m.flags for m in inbox(box).values())
    assert desk.contact(2, "demo")["optout"] is None
    queue = desk.review_queue("demo")
    assert queue["kind"].to_list() == ["opt_out"] and "low confidence" in queue["review_reason"][0]
    assert poller(desk, box, settings).poll().seen == 0  # not looked at again


def test_a_message_that_fails_is_recorded_with_its_uid_and_left(desk, box, settings):
    bad = box.deliver(make_mail("alice@example.org", "opt_out", raise_="1"))
    box.deliver(make_mail("bob@example.org", "opt_out"))
    missing = box.deliver(make_mail("x@y.example", "opt_out", token="999/demo"))
    res = poller(desk, box, settings).poll()
    assert res.errors == 2 and res.applied == 1
    assert set(inbox(box)) == {bad, missing}
    errors = desk.ledger().filter(status="error").sort("uid")
    assert errors["uid"].to_list() == [bad, missing]
    assert [e.split()[:2] for e in errors["error"]] == [["UID", f"{bad}:"], ["UID", f"{missing}:"]]
    assert "no contact with id 999" in errors["error"][1]
    assert desk.contact(2, "demo")["optout"] is not None
    assert desk.review_queue("demo").height == 2


def test_crash_between_commit_and_move_moves_without_reapplying(desk, box, settings):
    box.deliver(make_mail("alice@example.org", "opt_out"))
    box.fail("move", MailboxUnavailable("connection dropped"))
    with pytest.raises(MailboxUnavailable):
        poller(desk, box, settings).poll()
    assert desk.contact(1, "demo")["optout"] is not None and len(inbox(box)) == 1
    res = poller(desk, box, settings).poll()
    assert (res.duplicates, res.applied, res.moved) == (1, 0, 1)
    assert not inbox(box) and events(desk, "opt_out").height == 1
    assert desk.ledger().height == 1


def test_uidvalidity_change_rescans_without_double_application(desk, box, settings):
    box.deliver(make_mail("alice@example.org", "opt_out"))
    box.deliver(make_mail("bob@example.org", "human"))
    poller(desk, box, settings).poll()
    box.deliver(make_mail("alice@example.org", "opt_out"), folder="INBOX")
    box.reset_uidvalidity()
    res = poller(desk, box, settings).poll()
    assert res.rescan and res.seen == 2 and res.duplicates == 1 and res.applied == 1
    assert events(desk, "opt_out").height == 1  # alice already opted out: no second event
    assert desk.ledger().height == 3


def test_dry_run_changes_nothing(desk, box, settings):
    box.deliver(make_mail("alice@example.org", "opt_out"))
    box.deliver(make_mail("stranger@example.net", "opt_out"))
    res = poller(desk, box, settings, dry_run=True).poll()
    assert res.applied == 2 and res.moved == 0
    assert any("opt out contact 1" in p for p in res.plans)
    assert any("suppress address stranger@example.net" in p for p in res.plans)
    assert len(inbox(box)) == 2 and desk.ledger().height == 0
    assert desk.events().height == 0 and desk.mailbox_state("fake:INBOX", "INBOX") is None


def test_stop_finishes_the_current_message(desk, box, settings):
    for _ in range(10):
        box.deliver(make_mail("stranger@example.net", "auto_reply"))
    calls = {"n": 0}

    def stop_after_four():
        calls["n"] += 1
        return calls["n"] > 5  # one check before the batch, then one per message

    res = poller(desk, box, settings, should_stop=stop_after_four).poll()
    assert res.stopped and res.applied == 4 and res.moved == 4
    assert len(inbox(box)) == 6
    assert desk.mailbox_state("fake:INBOX", "INBOX")["last_uid"] == 4
    assert poller(desk, box, settings).poll().applied == 6 and not inbox(box)


def test_batches_and_command_counts(desk, box, settings):
    for i in range(120):
        box.deliver(make_mail(f"s{i}@example.net", "auto_reply"))
    src = FakeSource(box, fetch_size=50)
    ing = Ingestor(desk, src, fake_classify, settings)
    with src:
        res = ing.poll()
        assert res.applied == 120 and res.moved == 120
        # folder_state + new_uids + 3 fetches + 1 move
        assert res.commands == 6
        empty = ing.poll()
        assert empty.seen == 0 and empty.commands <= 3


def test_same_contact_twice_in_one_batch_gives_one_opt_out_event(desk, box, settings):
    box.deliver(make_mail("bob@example.org", "opt_out"))
    box.deliver(make_mail("bob.private@example.org", "opt_out"))
    box.deliver(make_mail("mailer-daemon@mx.example", "bounce_soft", address="alice@example.org"))
    box.deliver(make_mail("mailer-daemon@mx.example", "bounce_soft", address="alice@example.org"))
    res = poller(desk, box, settings).poll()
    assert res.applied == 4 and res.moved == 4
    assert events(desk, "opt_out").height == 1
    assert events(desk, "bounce_soft").height == 2
    assert desk.deliverability("alice@example.org")["soft_bounces"] == 2


def test_a_leaver_notice_marks_the_address_gone_and_opts_nobody_out(desk, box, settings):
    import pathlib

    from optdesk.classify import Classifier, load_rules

    rules = load_rules(pathlib.Path(__file__).resolve().parents[2] / "rules")
    box.deliver(b"From: Alice <alice@example.org>\r\nTo: press@example.org\r\n"
                b"Subject: Re: Launch of the new range\r\nMessage-ID: <leaver-1@test.example>\r\n\r\n"
                b"Alice Example no longer works at the Daily Planet.\r\n"
                b"Please send press releases to news@planet.example instead.\r\n")
    res = Ingestor(desk, FakeSource(box, fetch_size=settings.fetch_size), Classifier(rules).classify,
                   settings).poll()
    assert res.applied == 1 and res.errors == 0
    assert desk.deliverability("alice@example.org")["undeliverable"] is True
    assert desk.contact(1, "demo")["optout"] is None
    assert len(box.folders["optdesk/auto_reply"]) == 1
