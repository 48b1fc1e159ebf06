"""A server without MOVE, UIDPLUS and IDLE (Dovecot with a reduced imap_capability): the source
falls back to COPY + \\Deleted without any EXPUNGE, and to NOOP polling."""

from __future__ import annotations

import logging
import threading

import pytest

from optdesk.sources import open_source

from .conftest import make_message

pytestmark = pytest.mark.imap

CAPS = "IMAP4rev1 SASL-IR LOGIN-REFERRALS ID ENABLE SORT NAMESPACE LITERAL+ UNSELECT CHILDREN"


@pytest.fixture
def minimal(private_dovecot):
    server = private_dovecot.server
    private_dovecot.close()
    server.stop()
    server.config.write_text(server.config.read_text() + f"imap_capability = {CAPS}\n")
    server.start()
    return private_dovecot


def test_without_move_or_uidplus_nothing_is_expunged(minimal, caplog):
    caplog.set_level(logging.WARNING)
    ours, theirs = make_message(), make_message()
    minimal.append(ours)
    minimal.append(theirs, flags=("\\Deleted",))
    with open_source(minimal.url(), minimal.settings()) as src:
        assert not src._client.has_capability("MOVE") and not src._client.has_capability("UIDPLUS")
        uids = src.new_uids(0)
        src.move(uids[:1], "optdesk/opt_out")
        src.move(uids[:1], "optdesk/opt_out")  # warned once only; a second COPY duplicates
    inbox = minimal.contents("INBOX")
    assert sorted(data for _, data in inbox.values()) == sorted([ours, theirs])
    assert all("\\Deleted" in flags for flags, _ in inbox.values())
    assert [data for _, data in minimal.contents("optdesk.opt_out").values()] == [ours, ours]
    warnings = [r for r in caplog.records if "neither MOVE nor UIDPLUS" in r.getMessage()]
    assert len(warnings) == 1


def test_without_idle_wait_for_new_polls_with_noop(minimal):
    with open_source(minimal.url(), minimal.settings()) as src:
        src.noop_every = 0.1
        src.new_uids(0)
        before = src.commands
        assert src.wait_for_new(0.35) is False
        assert src.commands - before >= 3  # NOOPs, no IDLE
        timer = threading.Timer(0.3, minimal.append, args=(make_message(),))
        timer.start()
        assert src.wait_for_new(10) is True
        timer.join()
        assert len(src.new_uids(0)) == 1
