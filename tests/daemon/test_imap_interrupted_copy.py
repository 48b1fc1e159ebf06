"""A server without MOVE (Dovecot with MOVE left out of imap_capability, UIDPLUS kept), and the
daemon dying inside a move (issue 12, item 7). A move is then COPY, STORE \\Deleted, UID
EXPUNGE; a crash after the COPY used to make the next poll copy everything a second time
(20 messages in the target, 10 of them flagged \\Deleted). Now the next poll finds the copies
already there (Message-ID and size, confirmed by the ledger's SHA-256) and only finishes the
expunge."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest
from imapclient import IMAPClient

from optdesk.daemon.ingest import Ingestor
from optdesk.sources import open_source

from .conftest import fake_classify, make_mail

pytestmark = pytest.mark.imap

CAPS = ("IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE IDLE SORT NAMESPACE LITERAL+ UNSELECT "
        "CHILDREN UIDPLUS MULTIAPPEND")
TARGET = "optdesk.auto_reply"


class Crash(BaseException):
    """kill -9 in the middle of a command sequence (nothing after it runs)."""


@pytest.fixture
def no_move(private_dovecot):
    server = private_dovecot.server
    private_dovecot.close()
    server.stop()
    server.config.write_text(server.config.read_text() + f"imap_capability = {CAPS}\n")
    server.start()
    return private_dovecot


def _mail() -> list[bytes]:
    mail = [make_mail(f"away{i}@example.net", "auto_reply") for i in range(9)]
    without_id = make_mail("noid@example.net", "auto_reply")
    mail.append(b"\r\n".join(line for line in without_id.split(b"\r\n")
                             if not line.startswith(b"Message-ID:")))
    return mail


def _crash_in(monkeypatch, method: str) -> None:
    def crash(self, *args, **kwargs):
        raise Crash(method)

    monkeypatch.setattr(IMAPClient, method, crash)


@pytest.mark.parametrize("crash_at", ["uid_expunge", "add_flags"])
def test_a_move_interrupted_after_the_copy_is_finished_without_copying_again(
        no_move, desk, settings, monkeypatch, crash_at):
    settings = dataclasses.replace(settings, mailbox=no_move.url(), imap=no_move.imap_settings())
    mail = _mail()
    no_move.multiappend(mail)
    src = open_source(settings.mailbox, settings)
    with src:
        assert not src._client.has_capability("MOVE") and src._client.has_capability("UIDPLUS")
        _crash_in(monkeypatch, crash_at)  # after UID COPY, before UID EXPUNGE (or the STORE)
        with pytest.raises(Crash):
            Ingestor(desk, src, fake_classify, settings).poll()
        monkeypatch.undo()
        src._drop(src._client)  # the process is gone, and its connection with it
    assert len(no_move.contents(TARGET)) == 10  # the copies were made
    assert len(no_move.contents("INBOX")) == 10  # the originals are still there
    assert desk.ledger()["moved_at"].null_count() == 10  # committed, not marked moved

    src = open_source(settings.mailbox, settings)  # the daemon starts again
    with src:
        res = Ingestor(desk, src, fake_classify, settings).poll()
        commands = res.commands
    assert res.duplicates == 10 and res.applied == 0 and res.moved == 10
    target = no_move.contents(TARGET)
    assert len(target) == 10  # not 20
    assert all("\\Deleted" not in flags for flags, _ in target.values())
    assert sorted(hashlib.sha256(d).digest() for _, d in target.values()) == \
        sorted(hashlib.sha256(m).digest() for m in mail)
    assert no_move.contents("INBOX") == {}
    assert desk.ledger()["moved_at"].null_count() == 0
    assert commands < 40  # SELECT, FETCH sizes and bodies, the look (EXAMINE, SEARCH, FETCHes), STORE, EXPUNGE


def test_a_copy_someone_else_left_is_not_taken_for_ours(no_move, desk, settings, monkeypatch):
    """Same Message-ID in the target, different bytes: not our copy; copied as usual."""
    settings = dataclasses.replace(settings, mailbox=no_move.url(), imap=no_move.imap_settings())
    ours = make_mail("away@example.net", "auto_reply")
    no_move.append(ours)
    src = open_source(settings.mailbox, settings)
    with src:
        _crash_in(monkeypatch, "copy")  # the crash comes before anything was copied
        with pytest.raises(Crash):
            Ingestor(desk, src, fake_classify, settings).poll()
        monkeypatch.undo()
        src._drop(src._client)
    no_move.helper().create_folder(TARGET)
    no_move.append(ours.replace(b"\r\n\r\n", b"\r\nX-Edited: yes\r\n\r\n", 1), folder=TARGET)
    with open_source(settings.mailbox, settings) as src:
        assert Ingestor(desk, src, fake_classify, settings).poll().moved == 1
    assert sorted(d for _, d in no_move.contents(TARGET).values())[0] == ours
    assert len(no_move.contents(TARGET)) == 2 and no_move.contents("INBOX") == {}
