"""The review queue: messages the daemon could not decide alone, and their resolution.

A ledger row with ``review = true`` is in the queue; ``review_state`` is ``open`` until an
analyst resolves it with one of ACTIONS, recorded as a ``review_resolved`` event.
"""

from __future__ import annotations

import polars as pl

from optdesk.errors import NotFound
from optdesk.store.base import utcnow

ACTIONS = ("opt_out", "human", "dismiss")
STATES = ("open", "resolved")

_COLUMNS = (
    "m.message_hash, m.received_at, m.sender, m.subject, m.kind, m.stage, m.rule, m.confidence,"
    " m.evidence, m.new_text, m.contact_id, c.name AS contact_name,"
    " c.external_id AS contact_external_id, m.review_reason, m.error, m.data_group, m.uid, m.mailbox, m.processed_at, m.review_state, m.resolution,"
    " m.resolved_by, m.resolved_at"
)


class ReviewQueue:
    """Mixin: ``review_queue`` and ``resolve_review`` (used by notebooks/05-review-queue)."""

    def review_queue(self, data_group: str | None = None, state: str | None = "open") -> pl.DataFrame:
        """Messages flagged for review, oldest first. ``state``: "open", "resolved" or None (all).

        Columns: message_hash, received_at, sender, subject, kind, stage, rule, confidence,
        evidence (JSON text), new_text, contact_id, contact_name, contact_external_id (the
        team's id), review_reason, error,
        data_group, uid, mailbox, processed_at, review_state, resolution, resolved_by, resolved_at.
        """
        if state is not None and state not in STATES:
            raise ValueError(f"unknown review state {state!r}; one of {', '.join(STATES)}")
        where, params = ["m.review"], []
        if data_group is not None:
            where.append("m.data_group = ?")
            params.append(data_group)
        if state is not None:
            where.append("m.review_state = ?")
            params.append(state)
        return self.db.frame(
            f"SELECT {_COLUMNS} FROM messages m LEFT JOIN contacts c ON c.contact_id = m.contact_id"
            f" WHERE {' AND '.join(where)} ORDER BY m.processed_at, m.uid",
            params,
        )

    def resolve_review(self, message_hash: str, action: str, actor: str,
                       reason: str | None = None) -> bool:
        """Resolve one queued message. ``action``:

        * ``opt_out`` — opt the resolved contact out (source ``reply``, or ``complaint`` for a
          complaint); with no contact, suppress the sender's address instead;
        * ``human`` — a person's reply, nothing to apply;
        * ``dismiss`` — nothing to do.

        Recorded as a ``review_resolved`` event with ``actor``. Returns False when the message
        was already resolved (nothing changes); raises NotFound for an unknown hash.
        """
        if action not in ACTIONS:
            raise ValueError(f"unknown review action {action!r}; one of {', '.join(ACTIONS)}")
        with self.db.transaction() as con:
            rows = con.execute(
                "SELECT review_state, contact_id, data_group, sender, kind, evidence FROM messages"
                " WHERE message_hash = ? AND review", [message_hash],
            ).fetchall()
            if not rows:
                raise NotFound(f"no message {message_hash} in the review queue")
            state, contact_id, group, sender, kind, evidence = rows[0]
            if state == "resolved":
                return False
            why = reason or f"review: {action}"
            if action == "opt_out":
                self._review_opt_out(contact_id, group, sender, kind, actor, why, message_hash)
            now = utcnow()
            con.execute(
                "UPDATE messages SET review_state = 'resolved', resolution = ?, resolved_by = ?,"
                " resolved_at = ? WHERE message_hash = ?",
                [action, actor, now, message_hash],
            )
            self._event(con, "review_resolved", actor=actor, at=now, contact_id=contact_id,
                        data_group=group, email=sender, source=action, reason=why,
                        evidence={"kind": kind, "evidence": evidence},
                        message_hash=message_hash)
        return True

    def _review_opt_out(self, contact_id, group, sender, kind, actor, why, message_hash) -> None:
        source = "complaint" if kind == "complaint" else "reply"
        if contact_id is not None:
            self.opt_out(int(contact_id), group, source=source, actor=actor, reason=why,
                         message_hash=message_hash)
        elif sender:
            self.suppress_address(sender, group, source=source, actor=actor, reason=why,
                                  message_hash=message_hash)
        else:
            raise NotFound(f"message {message_hash}: no contact and no sender address to opt out")
