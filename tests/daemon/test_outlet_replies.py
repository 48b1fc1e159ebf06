"""A reply from an outlet's own general address asking to be removed opts the outlet out, not
a contact (and not a bare address suppression)."""

from __future__ import annotations

import json

from fixtures.store import outlet_row, write_outlets_csv
from optdesk.daemon.ingest import Ingestor
from optdesk.testing import FakeMailbox, FakeSource

from .conftest import fake_classify, make_mail


def _poll(desk, box, settings):
    return Ingestor(desk, FakeSource(box, fetch_size=settings.fetch_size), fake_classify,
                    settings).poll()


def _with_outlet(desk, tmp_path):
    # the contacts' outlet "Outlet A" is outlet 1 (created by the contact import)
    desk.import_outlets(write_outlets_csv(tmp_path / "o.csv", [
        outlet_row(1, "newsdesk@example.org", name="Outlet A"),
        outlet_row(1, "bob.private@example.org", name="Outlet A")]), "demo")


def test_a_reply_from_the_outlet_address_opts_the_outlet_out(desk, tmp_path, settings):
    _with_outlet(desk, tmp_path)
    box = FakeMailbox()
    box.deliver(make_mail("Newsdesk@example.org", "opt_out"))
    res = _poll(desk, box, settings)
    assert (res.applied, res.review, res.errors) == (1, 0, 0)
    record = desk.outlet(1, "demo")
    assert record["optout"]["source"] == "reply"
    assert record["optout"]["with_contacts"] is False
    assert desk.db.scalar("SELECT count(*) FROM optouts") == 0
    assert desk.db.scalar("SELECT count(*) FROM address_suppressions") == 0
    assert desk.is_suppressed("newsdesk@example.org", "demo")
    assert desk.is_suppressed("bob.private@example.org", "demo")
    event = desk.events(kinds=["outlet_opt_out"]).row(0, named=True)
    assert event["outlet_id"] == 1 and event["message_hash"]
    assert json.loads(event["evidence"])["uid"] == 1
    assert "optdesk/opt_out" in box.folders


def test_the_outlet_wins_over_a_contact_sharing_the_address(desk, tmp_path, settings):
    _with_outlet(desk, tmp_path)  # bob.private@ is contact 2's private address and the outlet's
    box = FakeMailbox()
    box.deliver(make_mail("bob.private@example.org", "complaint"))
    _poll(desk, box, settings)
    assert desk.outlet(1, "demo")["optout"]["source"] == "complaint"
    assert desk.contact(2, "demo")["optout"] is None


def test_a_contact_reply_still_opts_the_contact_out(desk, tmp_path, settings):
    _with_outlet(desk, tmp_path)
    box = FakeMailbox()
    box.deliver(make_mail("alice@example.org", "opt_out"))
    _poll(desk, box, settings)
    assert desk.contact(1, "demo")["optout"]["source"] == "reply"
    assert desk.outlet(1, "demo")["optout"] is None
