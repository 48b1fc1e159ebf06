"""Address deliverability: hard bounces, a decaying soft-bounce score, automatic replies.

A bounce concerns an address, never the person: nothing here opts a contact out. One soft bounce
never makes an address undeliverable (two at least, and the score over the threshold), and an
address made undeliverable by soft bounces alone becomes deliverable again once its score has
decayed below half the threshold. A hard bounce stays until someone clears it.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from optdesk.bounce_scoring import BounceScoring
from optdesk.store.base import normalise_email, utcnow
from optdesk.store.writes import Writes


class DeliverabilityOps:
    """Mixin: ``mark_undeliverable``, ``record_soft_bounce``, ``decay_bounce_scores``,
    ``record_auto_reply``, ``deliverability(email)``. The writes are thin calls of
    ``apply_writes`` (``writes.py``): one implementation of each."""

    def deliverability(self, email: str) -> dict | None:
        rows = self.db.rows(
            "SELECT email, undeliverable, bounce_score, score_at, soft_bounces, hard_bounced_at,"
            " last_bounce_at, last_reason, away_until, last_auto_reply_at FROM deliverability"
            " WHERE email = ?", [normalise_email(email)],
        )
        keys = ("email", "undeliverable", "bounce_score", "score_at", "soft_bounces",
                "hard_bounced_at", "last_bounce_at", "last_reason", "away_until",
                "last_auto_reply_at")
        return dict(zip(keys, rows[0], strict=True)) if rows else None

    def mark_undeliverable(
        self, email: str, *, reason: str | None = None, actor: str = "daemon",
        evidence: Any = None, message_hash: str | None = None, contact_id: int | None = None,
        data_group: str | None = None, at: dt.datetime | None = None,
    ) -> bool:
        """A hard bounce: the address is undeliverable. True when it was not already."""
        writes = Writes()
        writes.add_bounce(True, email, reason=reason, evidence=evidence, message_hash=message_hash,
                          contact_id=contact_id, data_group=data_group, actor=actor)
        return bool(self.apply_writes(writes, at=at).undeliverable)

    def record_soft_bounce(
        self, email: str, scoring: BounceScoring | None = None, *, reason: str | None = None,
        actor: str = "daemon", evidence: Any = None, message_hash: str | None = None,
        contact_id: int | None = None, data_group: str | None = None,
        at: dt.datetime | None = None,
    ) -> dict:
        """Add one soft bounce to the address's decaying score; returns score, soft_bounces,
        undeliverable and ``changed`` (True when this bounce made the address undeliverable)."""
        writes = Writes()
        writes.add_bounce(False, email, reason=reason, evidence=evidence,
                          message_hash=message_hash, contact_id=contact_id,
                          data_group=data_group, actor=actor)
        return self.apply_writes(writes, scoring, at=at).soft[0]

    def decay_bounce_scores(self, scoring: BounceScoring | None = None,
                            now: dt.datetime | None = None) -> dict:
        """Decay every soft-bounce score to ``now``; lift soft-only suppressions that fell below
        half the threshold. Returns counts: decayed, lifted."""
        scoring, now = scoring or BounceScoring(), now or utcnow()
        with self.db.transaction() as con:
            decayed = con.execute(
                "UPDATE deliverability SET bounce_score = CASE WHEN s < 0.001 THEN 0 ELSE s END,"
                " score_at = ? FROM (SELECT email AS e, bounce_score * pow(0.5,"
                "   greatest(epoch(?::TIMESTAMP) - epoch(score_at), 0) / 86400.0 / ?) AS s"
                "   FROM deliverability WHERE bounce_score > 0 AND score_at IS NOT NULL) d"
                " WHERE deliverability.email = d.e RETURNING email",
                [now, now, scoring.half_life_days],
            ).fetchall()
            lifted = con.execute(
                "UPDATE deliverability SET undeliverable = false WHERE undeliverable"
                " AND hard_bounced_at IS NULL AND bounce_score < ? RETURNING email",
                [scoring.threshold / 2],
            ).fetchall()
        return {"decayed": len(decayed), "lifted": len(lifted)}

    def record_auto_reply(
        self, email: str, *, return_date: dt.date | dt.datetime | None = None,
        contact_id: int | None = None, data_group: str | None = None, actor: str = "daemon",
        evidence: Any = None, message_hash: str | None = None, at: dt.datetime | None = None,
    ) -> None:
        """An out-of-office or other automatic reply: remembered with the return date if stated."""
        writes = Writes()
        writes.add_auto_reply(email, return_date=return_date, evidence=evidence,
                              message_hash=message_hash, contact_id=contact_id,
                              data_group=data_group, actor=actor)
        self.apply_writes(writes, at=at)
