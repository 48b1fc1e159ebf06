"""One-click unsubscribe (RFC 8058) requests: many in one transaction, and what a GET may show.

Each request names a verified token (``optdesk.tokens``) by the SHA-256 of its text; the token is
single-use in this sense: the first POST opts the contact out (source ``one_click``, the request's
time and the token's payload as evidence) and records the token; the same token again while the
contact is still opted out is answered as done (idempotent, nothing added); the same token after
the contact was opted back in (an invitation accepted, an analyst's opt-in) changes nothing
(``reused``): a later mail carries a fresh token. A token naming a contact the store no longer
has changes nothing (``unknown``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from optdesk.store.base import utcnow
from optdesk.store.writes import WriteResult, _insert_table

OUTCOMES = ("applied", "already", "reused", "unknown")
ACTOR = "one-click"


@dataclass(frozen=True)
class OneClickRequest:
    """One verified POST: the token's hash and payload, when it came, and the evidence to keep."""

    token_hash: str
    contact_id: int
    data_group: str
    nonce: int
    email_fp: str
    requested_at: dt.datetime  # naive UTC
    evidence: dict[str, Any]


def _unnest(kind: str) -> str:
    return f"(SELECT unnest(?::{kind}[]))"


class OneClickOps:
    """Mixin: ``apply_one_clicks`` and ``one_click_state``. Needs ``self.db`` and WriteOps."""

    def apply_one_clicks(self, requests: list[OneClickRequest],
                         at: dt.datetime | None = None) -> list[str]:
        """Apply a batch of one-click requests in one transaction; one outcome per request, in
        order (see OUTCOMES and the module docstring)."""
        if not requests:
            return []
        at = at or utcnow()
        hashes = sorted({r.token_hash for r in requests})
        ids = sorted({int(r.contact_id) for r in requests})
        with self.db.transaction() as con:
            used = {row[0] for row in con.execute(
                f"SELECT token_hash FROM one_click_requests WHERE token_hash IN {_unnest('VARCHAR')}",
                [hashes]).fetchall()}
            known = {row[0] for row in con.execute(
                f"SELECT contact_id FROM contacts WHERE contact_id IN {_unnest('BIGINT')}",
                [ids]).fetchall()}
            opted = {(row[0], row[1]) for row in con.execute(
                "SELECT contact_id, data_group FROM optouts"
                f" WHERE contact_id IN {_unnest('BIGINT')}", [ids]).fetchall()}
            outcomes, fresh, recorded = [], {}, {}
            for r in requests:
                key = (int(r.contact_id), r.data_group)
                if r.token_hash in used or r.token_hash in recorded:
                    outcomes.append("already" if key in opted or key in fresh else "reused")
                elif key[0] not in known:
                    outcomes.append("unknown")
                elif key in opted or key in fresh:
                    outcomes.append("already")
                    recorded[r.token_hash] = (r, "already")
                else:
                    outcomes.append("applied")
                    fresh[key] = r
                    recorded[r.token_hash] = (r, "applied")
            written = WriteResult()
            if fresh:
                self._write_opt_outs(con, [
                    {"contact_id": k[0], "data_group": k[1], "source": "one_click",
                     "actor": ACTOR, "reason": "one-click unsubscribe (RFC 8058)",
                     "evidence": r.evidence, "message_hash": None}
                    for k, r in fresh.items()], at, written)
            event_of = written.opt_out_events
            if recorded:
                rows = list(recorded.values())
                _insert_table(con, "one_click_requests", pa.table({
                    "token_hash": [r.token_hash for r, _ in rows],
                    "contact_id": pa.array([int(r.contact_id) for r, _ in rows], pa.int64()),
                    "data_group": [r.data_group for r, _ in rows],
                    "nonce": pa.array([int(r.nonce) for r, _ in rows], pa.int64()),
                    "email_fp": [r.email_fp for r, _ in rows],
                    "requested_at": pa.array([r.requested_at for r, _ in rows], pa.timestamp("us")),
                    "applied_at": pa.array([at] * len(rows), pa.timestamp("us")),
                    "outcome": [o for _, o in rows],
                    "event_id": pa.array([event_of.get((int(r.contact_id), r.data_group))
                                          if o == "applied" else None for r, o in rows],
                                         pa.int64()),
                }))
        return outcomes

    def one_click_state(self, token_hash: str, contact_id: int, data_group: str) -> dict:
        """What the confirmation page (a GET) may show, read only: ``known`` (the contact
        exists), ``language``, ``opted_out`` (in this data group now), ``used`` (this token was
        POSTed before)."""
        rows = self.db.rows(
            "SELECT c.language,"
            " EXISTS (SELECT 1 FROM optouts o WHERE o.contact_id = c.contact_id"
            "   AND o.data_group = ?),"
            " EXISTS (SELECT 1 FROM one_click_requests r WHERE r.token_hash = ?)"
            " FROM contacts c WHERE c.contact_id = ?",
            [data_group, token_hash, int(contact_id)])
        if not rows:
            return {"known": False, "language": None, "opted_out": False, "used": False}
        language, opted_out, used = rows[0]
        return {"known": True, "language": language, "opted_out": bool(opted_out),
                "used": bool(used)}
