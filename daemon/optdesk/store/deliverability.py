"""Address deliverability: hard bounces, a decaying soft-bounce score, automatic replies.

A bounce concerns an address, never the person: nothing here opts a contact out. One soft bounce
never makes an address undeliverable (two at least, and the score over the threshold), and an
address made undeliverable by soft bounces alone becomes deliverable again once its score has
decayed below half the threshold. A hard bounce stays until someone clears it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from optdesk.store.base import normalise_email, utcnow


@dataclass(frozen=True)
class BounceScoring:
    """Soft-bounce scoring (from the ``bounce_scoring`` rule in ``rules/``)."""

    weight: float = 1.0
    half_life_days: float = 7.0
    threshold: float = 3.0

    @classmethod
    def from_rules(cls, rules: Any) -> BounceScoring:
        """Read ``rules.bounce_scoring`` (a rule or a mapping) when present, else the defaults."""
        rule = getattr(rules, "bounce_scoring", None) if rules is not None else None
        if rule is None:
            return cls()
        get = rule.get if isinstance(rule, dict) else (lambda k, d: getattr(rule, k, d))
        return cls(float(get("weight", 1.0)), float(get("half_life_days", 7.0)),
                   float(get("threshold", 3.0)))

    def decayed(self, score: float, since: dt.datetime | None, now: dt.datetime) -> float:
        if not score or since is None:
            return float(score or 0.0)
        days = max(0.0, (now - since).total_seconds() / 86400.0)
        return float(score) * 0.5 ** (days / self.half_life_days)


class DeliverabilityOps:
    """Mixin: ``mark_undeliverable``, ``record_soft_bounce``, ``decay_bounce_scores``,
    ``record_auto_reply``, ``deliverability(email)``."""

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
        email, at = normalise_email(email), at or utcnow()
        with self.db.transaction() as con:
            before = con.execute(
                "SELECT undeliverable FROM deliverability WHERE email = ?", [email]
            ).fetchall()
            con.execute(
                "INSERT INTO deliverability (email, undeliverable, hard_bounced_at, last_bounce_at,"
                " last_reason) VALUES (?, true, ?, ?, ?) ON CONFLICT (email) DO UPDATE SET"
                " undeliverable = true, hard_bounced_at = coalesce(deliverability.hard_bounced_at,"
                " excluded.hard_bounced_at), last_bounce_at = excluded.last_bounce_at,"
                " last_reason = excluded.last_reason",
                [email, at, at, reason],
            )
            self._event(con, "bounce_hard", actor=actor, at=at, contact_id=contact_id,
                        data_group=data_group, email=email, reason=reason, evidence=evidence,
                        message_hash=message_hash)
        return not (before and before[0][0])

    def record_soft_bounce(
        self, email: str, scoring: BounceScoring | None = None, *, reason: str | None = None,
        actor: str = "daemon", evidence: Any = None, message_hash: str | None = None,
        contact_id: int | None = None, data_group: str | None = None,
        at: dt.datetime | None = None,
    ) -> dict:
        """Add one soft bounce to the address's decaying score; returns score, soft_bounces,
        undeliverable and ``changed`` (True when this bounce made the address undeliverable)."""
        scoring, email, at = scoring or BounceScoring(), normalise_email(email), at or utcnow()
        with self.db.transaction() as con:
            row = con.execute(
                "SELECT bounce_score, score_at, soft_bounces, undeliverable FROM deliverability"
                " WHERE email = ?", [email],
            ).fetchall()
            score, since, count, was = row[0] if row else (0.0, None, 0, False)
            score = scoring.decayed(score, since, at) + scoring.weight
            count += 1
            now_undeliverable = bool(was) or (count >= 2 and score >= scoring.threshold)
            con.execute(
                "INSERT INTO deliverability (email, undeliverable, bounce_score, score_at,"
                " soft_bounces, last_bounce_at, last_reason) VALUES (?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (email) DO UPDATE SET undeliverable = excluded.undeliverable,"
                " bounce_score = excluded.bounce_score, score_at = excluded.score_at,"
                " soft_bounces = excluded.soft_bounces, last_bounce_at = excluded.last_bounce_at,"
                " last_reason = excluded.last_reason",
                [email, now_undeliverable, score, at, count, at, reason],
            )
            result = {"score": round(score, 4), "soft_bounces": count,
                      "undeliverable": now_undeliverable, "changed": now_undeliverable and not was}
            self._event(con, "bounce_soft", actor=actor, at=at, contact_id=contact_id,
                        data_group=data_group, email=email, reason=reason,
                        evidence={"bounce": evidence, "score": result}, message_hash=message_hash)
        return result

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
        email, at = normalise_email(email), at or utcnow()
        until = return_date
        if isinstance(until, dt.date) and not isinstance(until, dt.datetime):
            until = dt.datetime(until.year, until.month, until.day)
        with self.db.transaction() as con:
            con.execute(
                "INSERT INTO deliverability (email, away_until, last_auto_reply_at) VALUES (?, ?, ?)"
                " ON CONFLICT (email) DO UPDATE SET away_until = excluded.away_until,"
                " last_auto_reply_at = excluded.last_auto_reply_at",
                [email, until, at],
            )
            self._event(con, "auto_reply", actor=actor, at=at, contact_id=contact_id,
                        data_group=data_group, email=email,
                        reason=f"away until {until:%Y-%m-%d}" if until else "automatic reply",
                        evidence=evidence, message_hash=message_hash)
