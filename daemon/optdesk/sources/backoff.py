"""Back off after mailbox failures, and say what is wrong once per incident.

The poller keeps one ``Backoff`` per mailbox and uses it like this::

    if not backoff.ready():
        return                                   # skip this tick, still backing off
    try:
        poll(source)
    except MailboxError as exc:                  # MailboxAuthError, MailboxUnavailable, ...
        delay, first = backoff.failed(exc)
        if first:
            log.error("%s (retrying with backoff)", exc)   # once per incident, not every retry
        source.close()                           # next poll reconnects
        return
    if backoff.succeeded():
        log.info("%s: working again", source.url)

Delays grow ``initial * factor**n`` up to ``maximum``, with ± ``jitter`` (a fraction) so
several daemons do not retry in step. An *incident* runs from the first failure to the next
success; a different error message inside an incident counts as a new one (reported again).
``clock`` and ``rand`` are injectable so tests need not sleep.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable


class Backoff:
    def __init__(
        self,
        initial: float = 1.0,
        maximum: float = 300.0,
        factor: float = 2.0,
        jitter: float = 0.1,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.initial, self.maximum, self.factor, self.jitter = initial, maximum, factor, jitter
        self.clock, self.rand = clock, rand
        self.failures = 0
        self.last_error: str | None = None
        self.next_attempt = 0.0

    @property
    def in_incident(self) -> bool:
        return self.failures > 0

    def delay(self) -> float:
        """The wait after the current number of consecutive failures (0 when none)."""
        if self.failures == 0:
            return 0.0
        base = min(self.maximum, self.initial * self.factor ** (self.failures - 1))
        spread = base * self.jitter * (2 * self.rand() - 1)
        return max(0.0, min(self.maximum, base + spread))

    def failed(self, error: BaseException | str) -> tuple[float, bool]:
        """Record a failure; returns (seconds until the next attempt, whether to report it)."""
        message = str(error)
        report = self.failures == 0 or message != self.last_error
        self.failures += 1
        self.last_error = message
        wait = self.delay()
        self.next_attempt = self.clock() + wait
        return wait, report

    def succeeded(self) -> bool:
        """Record a success; True when it ends an incident (worth a 'working again' line)."""
        ended = self.failures > 0
        self.failures = 0
        self.last_error = None
        self.next_attempt = 0.0
        return ended

    def ready(self) -> bool:
        """Whether the next attempt may start now."""
        return self.clock() >= self.next_attempt

    def remaining(self) -> float:
        return max(0.0, self.next_attempt - self.clock())

    def wait(self, sleep: Callable[[float], None] = time.sleep) -> None:
        """Sleep until the next attempt may start (for simple loops; the scheduler uses ready())."""
        left = self.remaining()
        if left > 0:
            sleep(left)
