"""Dovecot stopped and restarted, a connection kicked: MailboxUnavailable, then reconnect works."""

from __future__ import annotations

import threading
import time

import pytest

from optdesk.errors import MailboxUnavailable
from optdesk.sources import open_source

from .conftest import make_message

pytestmark = pytest.mark.imap


def test_restart_raises_unavailable_then_reconnects(private_dovecot):
    acct = private_dovecot
    for _ in range(3):
        acct.append(make_message())
    src = open_source(acct.url(), acct.settings())
    src.connect()
    state, uids = src.folder_state(), src.new_uids(0)
    acct.stop()
    with pytest.raises(MailboxUnavailable, match="connection lost") as err:
        src.new_uids(0)
    assert acct.url() in str(err.value) and not src.connected
    with pytest.raises(MailboxUnavailable, match="cannot connect"):
        src.connect()
    acct.start()
    src.connect()
    assert src.folder_state() == state and src.new_uids(0) == uids
    src.close()


def test_kicked_connection_reconnects_on_next_call(private_dovecot):
    acct = private_dovecot
    acct.append(make_message())
    with open_source(acct.url(), acct.settings()) as src:
        uids = src.new_uids(0)
        acct.kick()
        with pytest.raises(MailboxUnavailable):
            src.folder_state()
        assert src.new_uids(0) == uids  # reconnected by itself
        assert src.commands > 0


def test_drop_between_fetch_batches_raises_from_the_iterator(private_dovecot):
    acct = private_dovecot
    acct.multiappend([make_message() for _ in range(6)])
    with open_source(acct.url(), acct.settings(), fetch_size=2) as src:
        messages = src.fetch(src.new_uids(0))
        got = [next(messages), next(messages)]
        acct.kick()
        with pytest.raises(MailboxUnavailable, match="UID FETCH"):
            got.extend(messages)
        assert len(got) == 2


def test_wait_for_new_reports_a_drop(private_dovecot):
    acct = private_dovecot
    with open_source(acct.url(), acct.settings()) as src:
        src.new_uids(0)
        timer = threading.Timer(0.3, acct.kick)
        timer.start()
        start = time.monotonic()
        with pytest.raises(MailboxUnavailable):
            src.wait_for_new(20)
        timer.join()
        assert time.monotonic() - start < 5


def test_hung_server_times_out_as_unavailable(private_dovecot):
    import os
    import signal

    from fixtures.dovecot import _user_processes

    acct = private_dovecot
    with open_source(acct.url(), acct.settings(timeout=1.0)) as src:
        src.new_uids(0)
        (pid,) = _user_processes(acct.user)
        os.kill(pid, signal.SIGSTOP)
        try:
            start = time.monotonic()
            with pytest.raises(MailboxUnavailable, match="timed out"):
                src.folder_state()
            assert time.monotonic() - start < 3 and not src.connected
        finally:
            os.kill(pid, signal.SIGCONT)
        assert src.new_uids(0) == []  # a new connection
