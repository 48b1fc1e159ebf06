"""The soft-bounce score of an address: one definition for the rules, the daemon and the store.

Each soft bounce adds ``weight``; the score halves every ``half_life_days``; an address with two
soft bounces or more becomes undeliverable when the score reaches ``threshold``. The values come
from the ``bounce_scoring`` rule in ``rules/`` (``RuleSet.bounce_scoring``); the defaults here are
the ones that rule ships with.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class BounceScoring:
    weight: float = 1.0
    half_life_days: float = 14.0
    threshold: float = 3.0
    rule: str | None = None  # the id of the rule the values come from

    def decayed(self, score: float, since: dt.datetime | None, now: dt.datetime) -> float:
        """``score`` as it stands at ``now`` after decaying since ``since``."""
        if not score or since is None:
            return float(score or 0.0)
        days = max(0.0, (now - since).total_seconds() / 86400.0)
        return float(score) * 0.5 ** (days / self.half_life_days)

    def after_soft_bounce(self, score: float, since: dt.datetime | None, count: int,
                          undeliverable: bool, at: dt.datetime) -> tuple[float, int, bool]:
        """Score, soft-bounce count and undeliverable state once one more soft bounce arrives
        at ``at``. One soft bounce never makes an address undeliverable."""
        score = self.decayed(score, since, at) + self.weight
        count += 1
        return score, count, bool(undeliverable) or (count >= 2 and score >= self.threshold)
