"""A handled message that staff move back to the inbox stays there (issue 12, item 9): it was
decided, and people have the last word. It is in the ledger *and* marked moved; only a message
whose move never finished (a crash between commit and move) is moved by a later poll."""

from __future__ import annotations

import dataclasses
import logging
import os

import pytest

from optdesk.daemon.ingest import Ingestor
from optdesk.sources import open_source
from optdesk.sources.maildir import MaildirSource

from .conftest import fake_classify, make_mail


@pytest.mark.imap
def test_a_message_staff_put_back_in_the_inbox_stays_there(dovecot, desk, settings, caplog):
    caplog.set_level(logging.INFO)
    settings = dataclasses.replace(settings, mailbox=dovecot.url(), imap=dovecot.imap_settings())
    dovecot.append(make_mail("alice@example.org", "opt_out"))
    dovecot.append(make_mail("away@example.net", "auto_reply"))
    src = open_source(settings.mailbox, settings)
    ingest = Ingestor(desk, src, fake_classify, settings)
    with src:
        assert ingest.poll().moved == 2
        staff = dovecot.client()  # a person disagrees and drags the opt-out back
        staff.select_folder("optdesk.opt_out")
        staff.move(staff.search("ALL"), "INBOX")
        staff.logout()
        again = ingest.poll()
        later = ingest.poll()
    assert again.seen == 1 and again.duplicates == 1 and again.moved == 0 and again.applied == 0
    assert later.seen == 0
    assert len(dovecot.contents("INBOX")) == 1 and dovecot.contents("optdesk.opt_out") == {}
    events = desk.events(data_group="demo", kinds=["opt_out"])
    assert events.height == 1  # applied once, never again
    assert desk.ledger().height == 2
    assert any("back in INBOX, so someone put it there: left where it is" in r.getMessage()
               for r in caplog.records)


def test_a_maildir_message_put_back_stays_too(tmp_path, desk, settings):
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    (root / "new" / "1790000000.M1P1.test").write_bytes(make_mail("bob@example.org", "opt_out"))
    with MaildirSource(root) as src:
        ingest = Ingestor(desk, src, fake_classify, settings)
        assert ingest.poll().moved == 1
        os.rename(root / ".optdesk.opt_out" / "new" / "1790000000.M1P1.test",
                  root / "cur" / "1790000000.M1P1.test:2,S")  # staff read it and put it back
        assert ingest.poll().moved == 0
    assert os.listdir(root / "cur") == ["1790000000.M1P1.test:2,S"]


def test_a_move_a_crash_interrupted_is_still_finished(desk, settings):
    """The other side of the rule: committed but never moved (moved_at empty) → moved."""
    from optdesk.testing import FakeMailbox, FakeSource

    box = FakeMailbox()
    box.deliver(make_mail("away@example.net", "auto_reply"))
    src = FakeSource(box)
    calls = {"n": 0}
    real_move = src.move

    def die_once(uids, folder):
        calls["n"] += 1
        if calls["n"] == 1:
            raise KeyboardInterrupt  # the process stops after the commit, before the move
        real_move(uids, folder)

    src.move = die_once
    with src:
        with pytest.raises(KeyboardInterrupt):
            Ingestor(desk, src, fake_classify, settings).poll()
        res = Ingestor(desk, src, fake_classify, settings).poll()
    assert res.duplicates == 1 and res.moved == 1 and not box.folders["INBOX"]
