"""Backoff with a fake clock: growing delays, a cap, jitter bounds, one report per incident."""

from __future__ import annotations

import pytest

from optdesk.errors import MailboxUnavailable
from optdesk.sources.backoff import Backoff


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_delays_double_up_to_the_cap_and_reset_on_success():
    clock = Clock()
    b = Backoff(initial=1, maximum=10, factor=2, jitter=0, clock=clock)
    assert b.ready() and b.delay() == 0
    delays = [b.failed(MailboxUnavailable("down"))[0] for _ in range(6)]
    assert delays == [1, 2, 4, 8, 10, 10]
    assert not b.ready() and b.remaining() == 10
    clock.now += 9.9
    assert not b.ready()
    clock.now += 0.1
    assert b.ready()
    assert b.succeeded() is True and b.succeeded() is False
    assert b.failed("down")[0] == 1


def test_reported_once_per_incident_unless_the_error_changes():
    b = Backoff(jitter=0, clock=Clock())
    reports = [b.failed(MailboxUnavailable("connection refused"))[1] for _ in range(4)]
    assert reports == [True, False, False, False]
    assert b.failed("login refused")[1] is True
    assert b.failed("login refused")[1] is False
    b.succeeded()
    assert b.failed("login refused")[1] is True


@pytest.mark.parametrize("r", [0.0, 0.5, 0.999])
def test_jitter_stays_within_bounds(r):
    b = Backoff(initial=4, maximum=100, jitter=0.25, clock=Clock(), rand=lambda: r)
    delay, _ = b.failed("x")
    assert 3.0 <= delay <= 5.0
    assert delay == pytest.approx(4 + 4 * 0.25 * (2 * r - 1))


def test_wait_sleeps_exactly_the_remaining_time():
    clock = Clock()
    b = Backoff(initial=3, jitter=0, clock=clock)
    b.failed("x")
    clock.now += 1
    b.wait(sleep=clock.sleep)
    assert b.ready() and clock.now == 1003
