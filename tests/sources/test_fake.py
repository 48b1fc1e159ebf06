"""The fake's extras that the poller's unit tests rely on: failure injection, UIDVALIDITY reset."""

from __future__ import annotations

import pytest

from optdesk.errors import MailboxAuthError, MailboxUnavailable
from optdesk.testing import FakeMailbox, FakeSource

from .conftest import make_message


def test_injected_failure_raises_once_then_reconnects():
    box = FakeMailbox()
    box.deliver(make_message())
    src = FakeSource(box)
    box.fail("new_uids", MailboxUnavailable("dropped"))
    with pytest.raises(MailboxUnavailable, match="dropped"):
        src.new_uids(0)
    assert not src.connected
    assert src.new_uids(0) == [1] and src.connected


def test_injected_connect_failure():
    box = FakeMailbox()
    box.fail("connect", MailboxAuthError("bad password"), times=2)
    src = FakeSource(box)
    for _ in range(2):
        with pytest.raises(MailboxAuthError):
            src.connect()
    src.connect()
    assert src.connected


def test_reset_uidvalidity_renumbers():
    box = FakeMailbox()
    for _ in range(3):
        box.deliver(make_message())
    src = FakeSource(box)
    src.move([1], "x")
    before = src.folder_state()
    box.reset_uidvalidity()
    after = src.folder_state()
    assert after.uidvalidity != before.uidvalidity
    assert src.new_uids(0) == [1, 2] and after.uidnext == 3
