"""The MailboxSource contract, run against every implementation (fake, Maildir, Dovecot IMAP with
MOVE and with the COPY + UID EXPUNGE fallback). Flags are checked through the backend's own view
(a second IMAP client, the Maildir file names, the fake's state), never through the source."""

from __future__ import annotations

import datetime as dt
import threading
import time

from optdesk.sources import FolderState, MailboxSource, RawMessage

from .conftest import make_message, message_id

SEEN = "\\Seen"
FLAGGED = "\\Flagged"


def test_is_a_mailbox_source(backend):
    src = backend.source()
    assert isinstance(src, MailboxSource)
    assert isinstance(src.url, str) and src.url


def test_new_uids_ascending_read_and_unread_alike(backend):
    backend.deliver(make_message())
    backend.deliver(make_message(), flags=(SEEN,))
    backend.deliver(make_message())
    with backend.source() as src:
        uids = src.new_uids(0)
        assert len(uids) == 3
        assert uids == sorted(uids) and len(set(uids)) == 3 and uids[0] > 0
        assert src.new_uids(uids[0]) == uids[1:]
        assert src.new_uids(uids[-1]) == []
        assert src.new_uids(uids[-1] + 100) == []


def test_folder_state_tracks_uidnext(backend):
    with backend.source() as src:
        before = src.folder_state()
        assert isinstance(before, FolderState)
        assert before.folder.upper() == "INBOX" and before.uidvalidity > 0
        backend.deliver(make_message())
        backend.deliver(make_message())
        after = src.folder_state()
        uids = src.new_uids(0)
        assert after.uidvalidity == before.uidvalidity
        assert after.uidnext >= before.uidnext + 2
        assert uids[-1] < after.uidnext and uids[0] >= before.uidnext


def test_fetch_returns_exact_bytes_in_uid_order(backend):
    sent = [make_message(body="x" * n) for n in (10, 5000, 70000)]
    for data in sent:
        backend.deliver(data)
    with backend.source(fetch_size=2) as src:
        uids = src.new_uids(0)
        got = list(src.fetch(list(reversed(uids))))
    assert [m.uid for m in got] == uids
    assert [m.data for m in got] == sent
    for m in got:
        assert isinstance(m, RawMessage)
        assert m.internaldate is None or m.internaldate.tzinfo is not None
        if m.internaldate:
            assert abs(m.internaldate - dt.datetime.now(dt.UTC)) < dt.timedelta(hours=1)


def test_fetch_skips_missing_uids(backend):
    backend.deliver(make_message())
    with backend.source() as src:
        (uid,) = src.new_uids(0)
        assert [m.uid for m in src.fetch([uid, uid + 50])] == [uid]
        assert list(src.fetch([])) == []


def test_fetch_never_sets_seen(backend):
    unread, read = make_message(), make_message()
    backend.deliver(unread)
    backend.deliver(read, flags=(SEEN, FLAGGED))
    with backend.source() as src:
        assert len(list(src.fetch(src.new_uids(0)))) == 2
    flags = backend.contents("INBOX")
    assert SEEN not in flags[message_id(unread)]
    assert flags[message_id(read)] >= {SEEN, FLAGGED}


def test_fetch_is_batched(backend):
    if not backend.counts_commands:
        return
    for _ in range(7):
        backend.deliver(make_message())
    with backend.source(fetch_size=3) as src:
        uids = src.new_uids(0)
        before = src.commands
        assert len(list(src.fetch(uids))) == 7
        assert src.commands - before == 3


def test_empty_poll_costs_at_most_three_commands(backend):
    backend.deliver(make_message())
    with backend.source() as src:
        last = src.new_uids(0)[-1]
        before = src.commands
        src.folder_state()
        assert src.new_uids(last) == []
        assert src.commands - before <= 3


def test_move_to_new_folder_preserves_flags_and_removes_from_inbox(backend):
    msgs = [make_message() for _ in range(4)]
    backend.deliver(msgs[0])
    backend.deliver(msgs[1], flags=(SEEN,))
    backend.deliver(msgs[2], flags=(FLAGGED,))
    backend.deliver(msgs[3])
    with backend.source() as src:
        uids = src.new_uids(0)
        src.move(uids[:3], "optdesk/opt_out")
        assert src.new_uids(0) == uids[3:]
    moved = backend.contents("optdesk/opt_out")
    assert set(moved) == {message_id(m) for m in msgs[:3]}
    assert SEEN not in moved[message_id(msgs[0])]
    assert SEEN in moved[message_id(msgs[1])]
    assert FLAGGED in moved[message_id(msgs[2])] and SEEN not in moved[message_id(msgs[2])]
    assert set(backend.contents("INBOX")) == {message_id(msgs[3])}


def test_move_is_of_exactly_the_given_uids(backend):
    ours, others_deleted, other = make_message(), make_message(), make_message()
    backend.deliver(ours)
    backend.deliver(others_deleted, flags=("\\Deleted",))
    backend.deliver(other)
    with backend.source() as src:
        uids = src.new_uids(0)
        src.move([uids[0]], "optdesk/bounce_hard")
        src.move([uids[0]], "optdesk/bounce_hard")  # already gone: nothing else is touched
        assert src.new_uids(0) == uids[1:]
    inbox = backend.contents("INBOX")
    assert set(inbox) == {message_id(others_deleted), message_id(other)}
    assert "\\Deleted" in inbox[message_id(others_deleted)]
    assert "\\Deleted" not in inbox[message_id(other)]
    assert set(backend.contents("optdesk/bounce_hard")) == {message_id(ours)}


def test_move_into_existing_folder_and_uids_never_reused(backend):
    for _ in range(2):
        backend.deliver(make_message())
    with backend.source() as src:
        first = src.new_uids(0)
        src.move(first[:1], "optdesk/auto_reply")
        src.move(first[1:], "optdesk/auto_reply")
        backend.deliver(make_message())
        (fresh,) = src.new_uids(0)
        assert fresh > max(first)
    assert len(backend.contents("optdesk/auto_reply")) == 2


def test_uids_and_uidvalidity_stable_across_reconnects(backend):
    for _ in range(3):
        backend.deliver(make_message())
    src = backend.source()
    src.connect()
    src.connect()  # idempotent
    state, uids = src.folder_state(), src.new_uids(0)
    src.close()
    src.close()  # safe twice
    src.connect()
    assert src.folder_state() == state and src.new_uids(0) == uids
    src.close()
    with backend.source() as other:
        assert other.folder_state().uidvalidity == state.uidvalidity
        assert other.new_uids(0) == uids
        assert [m.data for m in other.fetch(uids)] == [m.data for m in src.fetch(uids)]


def test_wait_for_new_wakes_on_new_message(backend):
    with backend.source() as src:
        src.new_uids(0)
        start = time.monotonic()
        assert src.wait_for_new(0.3) is False
        assert time.monotonic() - start >= 0.25
        timer = threading.Timer(0.3, backend.deliver, args=(make_message(),))
        timer.start()
        start = time.monotonic()
        try:
            assert src.wait_for_new(10.0) is True
        finally:
            timer.join()
        assert time.monotonic() - start < 5.0
        assert len(src.new_uids(0)) == 1
