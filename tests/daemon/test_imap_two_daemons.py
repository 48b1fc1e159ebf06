"""Two daemons on one mailbox, or another client expunging under the daemon (issue 12, item 4):
Dovecot answers ``BODY[] NIL`` for a message expunged after the daemon's SEARCH; the poll skips
it, says so once and goes on. Real Dovecot; the fake classifier (X-Fake-* headers)."""

from __future__ import annotations

import dataclasses
import logging
import re
import shutil
import threading
import time

import pytest

from optdesk.daemon.ingest import Ingestor
from optdesk.sources import open_source
from optdesk.store import Store

from .conftest import fake_classify, make_mail

pytestmark = pytest.mark.imap

TARGET = "optdesk.auto_reply"
MID = re.compile(rb"^Message-ID: (<[^>]+>)", re.M)


def _settings(settings, account):
    return dataclasses.replace(settings, mailbox=account.url(), imap=account.imap_settings())


def _second_store(desk: Store, tmp_path) -> Store:
    desk.release()
    shutil.copy(tmp_path / "desk.duckdb", tmp_path / "other.duckdb")
    return Store(tmp_path / "other.duckdb")


def _ids(account, folder: str) -> list[bytes]:
    return sorted(MID.search(data).group(1) for _, data in account.contents(folder).values())


def _mail(n: int) -> list[bytes]:
    return [make_mail(f"away{i}@example.net", "auto_reply") for i in range(n)]


def test_another_daemon_moves_everything_between_search_and_fetch(dovecot, desk, settings,
                                                                   tmp_path, caplog):
    caplog.set_level(logging.INFO)
    settings = _settings(settings, dovecot)
    mail = _mail(12)
    dovecot.multiappend(mail)
    other_store = _second_store(desk, tmp_path)
    mine = open_source(settings.mailbox, settings)
    theirs = open_source(settings.mailbox, settings)
    other = Ingestor(other_store, theirs, fake_classify, settings)
    real_new_uids = mine.new_uids

    def new_uids_then_the_other_daemon_polls(after):
        uids = real_new_uids(after)
        assert other.poll().moved == 12  # it takes them all before this daemon fetches
        return uids

    mine.new_uids = new_uids_then_the_other_daemon_polls
    with mine, theirs:
        res = Ingestor(desk, mine, fake_classify, settings).poll()
    assert res.seen == 0 and res.errors == 0 and not res.stopped
    assert desk.mailbox_state(mine.url, "INBOX")["last_uid"] == 12  # read past them, not again
    said = [r.getMessage() for r in caplog.records if "vanished" in r.getMessage()]
    assert len(said) == 1 and "UID 1:12 vanished from INBOX" in said[0]
    assert dovecot.contents("INBOX") == {}
    assert _ids(dovecot, TARGET) == sorted(MID.search(m).group(1) for m in mail)
    assert other_store.ledger().height == 12 and desk.ledger().height == 0


def test_another_daemon_moves_them_after_this_one_fetched(dovecot, desk, settings, tmp_path):
    settings = _settings(settings, dovecot)
    mail = _mail(6)
    dovecot.multiappend(mail)
    other_store = _second_store(desk, tmp_path)
    mine = open_source(settings.mailbox, settings)
    theirs = open_source(settings.mailbox, settings)
    other = Ingestor(other_store, theirs, fake_classify, settings)
    real_move = mine.move

    def the_other_daemon_moves_first(uids, folder):
        assert other.poll().moved == 6
        return real_move(uids, folder)  # MOVE of UIDs that are gone: nothing happens

    mine.move = the_other_daemon_moves_first
    with mine, theirs:
        res = Ingestor(desk, mine, fake_classify, settings).poll()
    assert res.seen == 6 and res.errors == 0
    assert dovecot.contents("INBOX") == {}
    assert len(dovecot.contents(TARGET)) == 6  # each message once


def test_two_daemons_sharing_one_store_record_each_message_once(dovecot, desk, settings, tmp_path):
    """The other daemon commits the same messages between this one's ledger look-up and its
    commit: their ledger rows would collide; this poll counts them as done and goes on."""
    settings = _settings(settings, dovecot)
    dovecot.multiappend(_mail(5))
    desk.release()
    shared = Store(tmp_path / "desk.duckdb")  # the second daemon's handle on the same file
    mine = open_source(settings.mailbox, settings)
    theirs = open_source(settings.mailbox, settings)
    other = Ingestor(shared, theirs, fake_classify, settings)
    real_known = desk.known_messages
    raced = []

    def known_then_the_other_daemon_commits(hashes):
        found = real_known(hashes)
        if not raced:
            raced.append(other.poll())
        return found

    desk.known_messages = known_then_the_other_daemon_commits
    with mine, theirs:
        res = Ingestor(desk, mine, fake_classify, settings).poll()
    assert raced[0].applied == 5
    assert res.applied == 0 and res.duplicates == 5 and res.errors == 0
    assert desk.ledger().height == 5 and desk.ledger()["status"].to_list() == ["applied"] * 5
    assert dovecot.contents("INBOX") == {} and len(dovecot.contents(TARGET)) == 5


def test_two_daemons_polling_the_same_mailbox_at_once(dovecot, desk, settings, tmp_path):
    """Free-running: both poll in loops while mail arrives; neither fails, nothing is lost."""
    settings = _settings(settings, dovecot)
    stores = [desk, _second_store(desk, tmp_path)]
    mail = _mail(60)
    failures: list[BaseException] = []
    done = threading.Event()

    def daemon(store: Store) -> None:
        src = open_source(settings.mailbox, settings, fetch_size=7)
        ingest = Ingestor(store, src, fake_classify, settings, fetch_size=7)
        try:
            with src:
                deadline = time.monotonic() + 60
                while time.monotonic() < deadline:
                    finished = done.is_set()
                    ingest.poll()
                    if finished:
                        return
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=daemon, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for i in range(0, len(mail), 5):
        dovecot.multiappend(mail[i:i + 5])
        time.sleep(0.05)
    done.set()
    for t in threads:
        t.join(90)
    assert not failures, failures
    assert dovecot.contents("INBOX") == {}
    # nothing lost. Not "each once": Dovecot's MOVE (copy + expunge on Maildir) is not atomic
    # between sessions, so two daemons moving the same message at the same instant both file
    # a copy (docs/daemon.md: one daemon per mailbox).
    assert set(_ids(dovecot, TARGET)) == {MID.search(m).group(1) for m in mail}
    for store in stores:  # neither applied anything twice
        ledger = store.ledger()
        assert ledger.height == ledger["message_hash"].n_unique() <= len(mail)
