"""Opt-in invitations: guardrail facts, the invitation rows, verified acceptance and expiry.

An invitation's life: ``pending`` (reserved, about to be sent) → ``sent`` or ``failed``; a sent
one ends ``accepted``, ``declined`` or ``expired``. Guardrails are decided by ``refusal()``, one
pure function used both for previews and, inside the reserving transaction, for the send.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from optdesk.errors import NotFound
from optdesk.store.base import PRIMARY_EMAIL, normalise_email, utcnow

STATUSES = ("pending", "sent", "failed", "accepted", "declined", "expired")
# a failed send does not start a cool-off; anything that may have reached the contact does
_COUNTS_FOR_COOLOFF = ("pending", "sent", "accepted", "declined", "expired")

_CANDIDATES = f"""
WITH ids AS (SELECT DISTINCT unnest(?::BIGINT[]) AS contact_id),
complaints AS (
    SELECT e.contact_id, max(e.occurred_at) AS complained_at FROM events e
    WHERE e.data_group = ? AND e.source = 'complaint'
      AND e.contact_id IN (SELECT contact_id FROM ids) GROUP BY e.contact_id),
invited AS (
    SELECT v.contact_id, max(coalesce(v.sent_at, v.created_at)) AS last_invited_at
    FROM invitations v
    WHERE v.data_group = ? AND v.status IN ({", ".join(repr(s) for s in _COUNTS_FOR_COOLOFF)})
      AND v.contact_id IN (SELECT contact_id FROM ids) GROUP BY v.contact_id),
prim AS (
    SELECT contact_id, {PRIMARY_EMAIL} AS email
    FROM visible_addresses(?) WHERE contact_id IN (SELECT contact_id FROM ids)
    GROUP BY contact_id)
SELECT ids.contact_id, NULL::BIGINT AS outlet_id, c.contact_id IS NOT NULL AS found, c.name,
       c.language,
       o.source AS optout_source, o.opted_out_at, complaints.complained_at,
       invited.last_invited_at, prim.email, coalesce(d.undeliverable, false) AS undeliverable
FROM ids
LEFT JOIN contacts c ON c.contact_id = ids.contact_id
LEFT JOIN optouts o ON o.contact_id = ids.contact_id AND o.data_group = ?
LEFT JOIN complaints ON complaints.contact_id = ids.contact_id
LEFT JOIN invited ON invited.contact_id = ids.contact_id
LEFT JOIN prim ON prim.contact_id = ids.contact_id
LEFT JOIN deliverability d ON d.email = prim.email
"""

# The same facts for outlets: its opt-out, a complaint from one of its own addresses (an event
# of the outlet with no contact), its last invitation, and the address it is invited at: its
# first own address that is not undeliverable (else its first, then refused as undeliverable).
_OUTLET_CANDIDATES = f"""
WITH ids AS (SELECT DISTINCT unnest(?::BIGINT[]) AS outlet_id),
complaints AS (
    SELECT e.outlet_id, max(e.occurred_at) AS complained_at FROM events e
    WHERE e.data_group = ? AND e.source = 'complaint' AND e.contact_id IS NULL
      AND e.outlet_id IN (SELECT outlet_id FROM ids) GROUP BY e.outlet_id),
invited AS (
    SELECT v.outlet_id, max(coalesce(v.sent_at, v.created_at)) AS last_invited_at
    FROM invitations v
    WHERE v.data_group = ? AND v.status IN ({", ".join(repr(s) for s in _COUNTS_FOR_COOLOFF)})
      AND v.outlet_id IN (SELECT outlet_id FROM ids) GROUP BY v.outlet_id),
prim AS (
    SELECT a.outlet_id,
           arg_min(a.email, (coalesce(d.undeliverable, false), a.added_at, a.email)) AS email
    FROM outlet_addresses a LEFT JOIN deliverability d USING (email)
    WHERE a.outlet_id IN (SELECT outlet_id FROM ids) GROUP BY a.outlet_id)
SELECT NULL::BIGINT AS contact_id, ids.outlet_id, ot.outlet_id IS NOT NULL AS found, ot.name,
       ot.language, o.source AS optout_source, o.opted_out_at, complaints.complained_at,
       invited.last_invited_at, prim.email, coalesce(d.undeliverable, false) AS undeliverable
FROM ids
LEFT JOIN outlets ot ON ot.outlet_id = ids.outlet_id
LEFT JOIN outlet_optouts o ON o.outlet_id = ids.outlet_id AND o.data_group = ?
LEFT JOIN complaints ON complaints.outlet_id = ids.outlet_id
LEFT JOIN invited ON invited.outlet_id = ids.outlet_id
LEFT JOIN prim ON prim.outlet_id = ids.outlet_id
LEFT JOIN deliverability d ON d.email = prim.email
"""

_LIST = """
SELECT v.invitation_id, v.contact_id, coalesce(c.name, ot.name) AS name, v.email,
       CASE WHEN v.status = 'sent' AND v.expires_at < ? THEN 'expired' ELSE v.status END AS status,
       v.language, v.subject, v.sender_name, v.sender_email, v.actor, v.created_at, v.sent_at,
       v.expires_at, v.answered_at, v.error, v.outlet_id
FROM invitations v LEFT JOIN contacts c ON c.contact_id = v.contact_id
LEFT JOIN outlets ot ON ot.outlet_id = v.outlet_id
"""


@dataclass(frozen=True)
class Reservation:
    """A pending invitation row: the send may go ahead with this nonce, address and id."""

    invitation_id: int
    contact_id: int | None
    data_group: str
    email: str
    name: str
    nonce: int
    expires_at: dt.datetime
    outlet_id: int | None = None  # an invitation to an outlet's own address: contact_id None

    @property
    def subject(self) -> int | str:
        """What its token names: the contact's key, or ``outlet:KEY`` (``token_subject``)."""
        return token_subject(self.contact_id, self.outlet_id)


@dataclass(frozen=True)
class AcceptResult:
    """What became of a reply to an invitation. ``reason`` is for people (and the review queue)."""

    accepted: bool
    reason: str
    invitation_id: int | None = None
    contact_id: int | None = None
    data_group: str | None = None
    status: str | None = None  # the invitation's status afterwards
    outlet_id: int | None = None  # an outlet's invitation: the outlet (contact_id None)


def token_subject(contact_id: int | None, outlet_id: int | None = None) -> int | str:
    """What an invitation's token carries in its contact id field: the contact's internal key
    (an int), or for an outlet's invitation the text ``outlet:KEY`` (a contact's token is never
    text, so one cannot stand for the other)."""
    if contact_id is None:
        return f"outlet:{int(outlet_id)}"
    return int(contact_id)


def refusal(row: dict, data_group: str, now: dt.datetime, cooloff_days: int) -> str | None:
    """Why this candidate row (from ``invitation_candidates``) must not be invited, or None."""
    if not row["found"]:
        return "no such outlet" if row.get("outlet_id") is not None else "no such contact"
    if row["optout_source"] is None:
        return f"not opted out in data group {data_group!r}"
    if row["optout_source"] == "complaint":
        return "opted out by a spam complaint: never invited"
    if row["complained_at"] is not None:
        return f"sent a spam complaint on {row['complained_at']:%Y-%m-%d}: never invited"
    last = row["last_invited_at"]
    if last is not None and now - last < dt.timedelta(days=cooloff_days):
        until = last + dt.timedelta(days=cooloff_days)
        return f"already invited on {last:%Y-%m-%d}; cool-off until {until:%Y-%m-%d}"
    if row["email"] is None:
        return "no email address"
    if row["undeliverable"]:
        which = "the outlet's address" if row.get("outlet_id") is not None else "primary address"
        return f"{which} {row['email']} is undeliverable"
    return None


def _norm_msgid(value: str) -> str:
    value = value.strip()
    return value if value.startswith("<") else f"<{value}>"


class InvitationOps:
    """Mixin: invitation rows. Needs ``self.db`` and StoreBase's ``_event``; uses ``opt_in``."""

    def invitation_candidates(self, data_group: str, contact_ids: Iterable[int]) -> pl.DataFrame:
        """One row per distinct contact id: the facts the guardrails decide on.

        Columns: contact_id, outlet_id (null), found, name, language, optout_source,
        opted_out_at, complained_at, last_invited_at, email (primary address visible to the
        group), undeliverable.
        """
        ids = [int(c) for c in contact_ids]
        return self.db.frame(
            _CANDIDATES + " ORDER BY ids.contact_id",
            [ids, data_group, data_group, data_group, data_group],
        )

    def outlet_invitation_candidates(self, data_group: str,
                                     outlet_ids: Iterable[int]) -> pl.DataFrame:
        """As ``invitation_candidates``, one row per distinct outlet (internal key): contact_id
        (null), outlet_id, found, name, language, optout_source (its outlet opt-out),
        opted_out_at, complained_at, last_invited_at, email (its own address it is invited at),
        undeliverable."""
        ids = [int(o) for o in outlet_ids]
        return self.db.frame(_OUTLET_CANDIDATES + " ORDER BY ids.outlet_id",
                             [ids, data_group, data_group, data_group])

    def reserve_invitation(
        self, contact_id: int | None, data_group: str, *, sender_name: str, sender_email: str,
        subject: str, comments: str, language: str, actor: str, ttl_days: int,
        cooloff_days: int, now: dt.datetime | None = None,
        build: Callable[[Reservation], object] | None = None, outlet_id: int | None = None,
    ) -> Reservation | str:
        """Check the guardrails and add a ``pending`` row, in one transaction.

        Returns the Reservation, or the reason the contact must not be invited. ``build``, when
        given, is called with the Reservation inside that transaction (the invitation builds its
        message there): when it raises, nothing is written and the exception propagates. With
        ``outlet_id`` (and contact_id None) the outlet is invited, at its own address.
        """
        now = now or utcnow()
        with self.db.transaction() as con:
            if contact_id is None:
                rows = con.sql(_OUTLET_CANDIDATES, params=[[int(outlet_id)], data_group,
                                                           data_group, data_group]).pl().to_dicts()
            else:
                outlet_id = None
                rows = con.sql(_CANDIDATES, params=[[int(contact_id)], data_group, data_group,
                                                    data_group, data_group]).pl().to_dicts()
            reason = refusal(rows[0], data_group, now, cooloff_days)
            if reason:
                return reason
            expires = now + dt.timedelta(days=ttl_days)
            for _ in range(20):
                nonce = int.from_bytes(os.urandom(4), "big")
                if not con.execute("SELECT 1 FROM invitations WHERE nonce = ?",
                                   [str(nonce)]).fetchall():
                    break
            contact = None if contact_id is None else int(contact_id)
            outlet = None if outlet_id is None else int(outlet_id)
            new = con.execute(
                "INSERT INTO invitations (contact_id, outlet_id, data_group, email, nonce,"
                " sender_name, sender_email, subject, comments, language, status, actor,"
                " created_at, expires_at) VALUES (?,?,?,?,?,?,?,?,?,?,'pending',?,?,?)"
                " RETURNING invitation_id",
                [contact, outlet, data_group, rows[0]["email"], str(nonce), sender_name,
                 sender_email, subject, comments, language, actor, now, expires],
            ).fetchall()
            reservation = Reservation(int(new[0][0]), contact, data_group,
                                      rows[0]["email"], rows[0]["name"], nonce, expires, outlet)
            if build is not None:
                build(reservation)
        return reservation

    def mark_invitation_sent(
        self, invitation_id: int, *, message_id: str, actor: str, evidence: Any = None,
        at: dt.datetime | None = None,
    ) -> None:
        """Record a successful send (status ``sent``) and its ``invitation_sent`` event."""
        at = at or utcnow()
        with self.db.transaction() as con:
            row = self._invitation_row(con, invitation_id)
            con.execute(
                "UPDATE invitations SET status = 'sent', sent_at = ?, message_id = ?"
                " WHERE invitation_id = ?", [at, _norm_msgid(message_id), int(invitation_id)],
            )
            self._event(
                con, "invitation_sent", actor=actor, at=at, contact_id=row["contact_id"],
                outlet_id=row["outlet_id"],
                data_group=row["data_group"], email=row["email"], invitation_id=int(invitation_id),
                evidence={"message_id": _norm_msgid(message_id), "subject": row["subject"],
                          "sender": row["sender_email"], "language": row["language"],
                          "expires_at": row["expires_at"], **(evidence or {})},
            )

    def mark_invitation_failed(self, invitation_id: int, error: str) -> None:
        """Record a send that did not go out (status ``failed``; it starts no cool-off)."""
        with self.db.transaction() as con:
            con.execute("UPDATE invitations SET status = 'failed', error = ? WHERE invitation_id = ?",
                        [error[:2000], int(invitation_id)])

    @staticmethod
    def _invitation_row(con, invitation_id: int) -> dict:
        rows = con.sql("SELECT * FROM invitations WHERE invitation_id = ?",
                       params=[int(invitation_id)]).pl().to_dicts()
        if not rows:
            raise NotFound(f"no invitation with id {invitation_id}")
        return rows[0]

    def invitation(self, invitation_id: int) -> dict:
        """One invitation row as a dict; NotFound when there is none."""
        with self.db.connection() as con:
            return self._invitation_row(con, invitation_id)

    def invitation_for_message_id(self, message_id: str) -> dict | None:
        """The invitation sent with this Message-ID (with or without angle brackets), or None.

        JSON-safe (the classifier's ``invitation_lookup``; the dict may come back to
        ``accept_invitation`` as its payload): invitation_id, contact_id (an outlet's
        invitation: ``outlet:KEY``, as in its token), data_group, email, nonce, status,
        message_id, expires_at (ISO text), outlet_id, via ("in_reply_to").
        """
        if not message_id or not message_id.strip():
            return None
        rows = self.db.rows(
            "SELECT invitation_id, contact_id, data_group, email, nonce, status, message_id,"
            " strftime(expires_at, '%Y-%m-%dT%H:%M:%S'), outlet_id FROM invitations"
            " WHERE message_id = ?", [_norm_msgid(message_id)])
        if not rows:
            return None
        keys = ("invitation_id", "contact_id", "data_group", "email", "nonce", "status",
                "message_id", "expires_at", "outlet_id")
        out = dict(zip(keys, rows[0], strict=True))
        if out["contact_id"] is None:  # an outlet's: named as its token names it
            out["contact_id"] = token_subject(None, out["outlet_id"])
        return {**out, "via": "in_reply_to"}

    def invitations(
        self, data_group: str, *, statuses: Sequence[str] | None = None,
        contact_ids: Sequence[int] | None = None, limit: int | None = 200,
        now: dt.datetime | None = None, outlet_ids: Sequence[int] | None = None,
    ) -> pl.DataFrame:
        """Invitations of a data group, newest first. A sent one past its expiry shows ``expired``.

        Columns: invitation_id, contact_id (null for an outlet's), name (the contact's or the
        outlet's), email, status, language, subject, sender_name, sender_email, actor,
        created_at, sent_at, expires_at, answered_at, error, outlet_id (null for a contact's).
        With ``contact_ids`` and/or ``outlet_ids``: the invitations of those.
        """
        params: list = [now or utcnow(), data_group]
        where = "v.data_group = ?"
        whose = []
        if contact_ids:
            whose.append("v.contact_id IN (SELECT unnest(?::BIGINT[]))")
            params.append([int(c) for c in contact_ids])
        if outlet_ids:
            whose.append("v.outlet_id IN (SELECT unnest(?::BIGINT[]))")
            params.append([int(o) for o in outlet_ids])
        if whose:
            where += f" AND ({' OR '.join(whose)})"
        sql = f"SELECT * FROM ({_LIST} WHERE {where})"
        if statuses:
            sql += " WHERE status IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(statuses))
        sql += " ORDER BY invitation_id DESC"
        if limit is not None:
            sql += " LIMIT ?"
            params.append(int(limit))
        return self.db.frame(sql, params)

    def invitation_counts(self, data_group: str, now: dt.datetime | None = None) -> dict[str, int]:
        """How many invitations of the data group are in each status (expiry applied)."""
        rows = self.db.rows(
            f"SELECT status, count(*) FROM ({_LIST} WHERE v.data_group = ?) GROUP BY status",
            [now or utcnow(), data_group],
        )
        counts = dict.fromkeys(STATUSES, 0)
        counts.update({r[0]: int(r[1]) for r in rows})
        return counts

    def expire_invitations(self, now: dt.datetime | None = None, actor: str = "scheduler") -> int:
        """Mark sent invitations past their expiry ``expired``, one event each; return the count."""
        now = now or utcnow()
        with self.db.transaction() as con:
            rows = con.execute(
                "UPDATE invitations SET status = 'expired' WHERE status = 'sent' AND expires_at < ?"
                " RETURNING invitation_id, contact_id, data_group, email, expires_at, outlet_id",
                [now],
            ).fetchall()
            for inv_id, contact_id, group, email, expires_at, outlet_id in rows:
                self._event(con, "invitation_expired", actor=actor, at=now, contact_id=contact_id,
                            outlet_id=outlet_id,
                            data_group=group, email=email, invitation_id=inv_id,
                            reason=f"no answer by {expires_at:%Y-%m-%d %H:%M} UTC")
        return len(rows)

    def addresses_of(self, contact_id: int, data_group: str) -> set[str]:
        """The contact's addresses the data group can see: every system one and its private ones."""
        rows = self.db.rows(
            "SELECT a.email FROM visible_addresses(?) a WHERE a.contact_id = ?",
            [data_group, int(contact_id)],
        )
        return {normalise_email(r[0]) for r in rows}

    # -- answers -----------------------------------------------------------------------------
    def accept_invitation(
        self, token_payload: dict | None, *, sender: str | None, message_hash: str,
        message_id: str | None = None, in_reply_to: str | Sequence[str] | None = None,
        affirmative: bool = True, received_at: dt.datetime | None = None,
        token_error: str | None = None, actor: str = "daemon", evidence: Any = None,
    ) -> AcceptResult:
        """Apply a reply to an invitation: opt the contact back in only when every check passes.

        ``token_payload`` is a verified optin token (``TokenPayload.to_dict()``) or None when the
        reply is matched by ``in_reply_to`` (the invitation's Message-ID) instead. Checks: the
        token names a known invitation of the same contact and data group, the invitation is
        ``sent`` (single use), not past its expiry at ``received_at``, and ``sender`` is one of
        the contact's own addresses (system or the group's private) — for an outlet's
        invitation, one of the outlet's own addresses, and the acceptance lifts the OUTLET's
        opt-out (``opt_in_outlet``, never a contact's). ``affirmative=False``
        records a decline. Every refusal adds an ``invitation_refused`` event with the reason.
        Calling again with the same ``message_hash`` changes nothing. Joins the caller's
        transaction when there is one.
        """
        at = received_at or utcnow()
        proof = {"sender": sender, "message_hash": message_hash, "message_id": message_id,
                 "received_at": at, "token_nonce": None, "matched_by": None,
                 "answer": "accept" if affirmative else "decline", **(evidence or {})}
        with self.db.transaction() as con:
            row, problem = self._locate_invitation(con, token_payload, in_reply_to, token_error,
                                                   proof)
            if row is not None and row["answer_message_hash"] == message_hash:
                ok = row["status"] == "accepted"
                return AcceptResult(ok, f"already applied ({row['status']})", row["invitation_id"],
                                    row["contact_id"], row["data_group"], row["status"],
                                    row["outlet_id"])
            problem = problem or self._answer_problem(row, sender, at)
            if problem:
                return self._refuse(con, row, problem, actor, message_hash, proof)
            return self._answer(con, row, affirmative, actor, message_hash, at, proof)

    def _locate_invitation(self, con, payload, in_reply_to, token_error, proof):
        """(row or None, refusal reason or None) for the token or the In-Reply-To ids."""
        if isinstance(in_reply_to, str):
            in_reply_to = in_reply_to.split()
        if payload:
            proof.update(token_nonce=payload.get("nonce"), matched_by=payload.get("via", "token"))
            rows = con.sql("SELECT * FROM invitations WHERE nonce = ?",
                           params=[str(payload.get("nonce"))]).pl().to_dicts()
            if not rows:
                return None, "token names no invitation of this store"
            row = rows[0]
            if (str(payload.get("contact_id"))
                    != str(token_subject(row["contact_id"], row["outlet_id"]))
                    or payload.get("data_group") != row["data_group"]):
                return row, ("token does not match its invitation (contact, outlet or data "
                             "group)")
            if payload.get("email") and normalise_email(payload["email"]) != row["email"]:
                return row, "token was issued to another address"
            return row, None
        for mid in in_reply_to or ():
            rows = con.sql("SELECT * FROM invitations WHERE message_id = ?",
                           params=[_norm_msgid(mid)]).pl().to_dicts()
            if rows:
                proof.update(matched_by="in_reply_to", in_reply_to=_norm_msgid(mid))
                return rows[0], (f"bad token: {token_error}" if token_error else None)
        if token_error:
            return None, f"bad token: {token_error}"
        return None, "no invitation token and no In-Reply-To of an invitation"

    def _answer_problem(self, row: dict, sender: str | None, at: dt.datetime) -> str | None:
        status = row["status"]
        if status == "accepted":
            return f"token already used: invitation accepted on {row['answered_at']:%Y-%m-%d}"
        if status == "declined":
            return f"invitation already answered: declined on {row['answered_at']:%Y-%m-%d}"
        if status == "expired" or (status == "sent" and row["expires_at"] < at):
            return f"invitation expired on {row['expires_at']:%Y-%m-%d}"
        if status != "sent":
            return f"invitation was never sent (status {status})"
        if row["contact_id"] is None:  # an outlet's invitation: one of the outlet's own addresses
            if not sender or normalise_email(sender) not in self.outlet_addresses_of(
                    row["outlet_id"]):
                return f"sender {sender or '(none)'} is not one of the outlet's own addresses"
            return None
        if not sender or normalise_email(sender) not in self.addresses_of(row["contact_id"],
                                                                         row["data_group"]):
            return f"sender {sender or '(none)'} is not one of the contact's addresses"
        return None

    def outlet_addresses_of(self, outlet_id: int) -> set[str]:
        """The outlet's own addresses (seen by every data group)."""
        rows = self.db.rows("SELECT email FROM outlet_addresses WHERE outlet_id = ?",
                            [int(outlet_id)])
        return {normalise_email(r[0]) for r in rows}

    def _refuse(self, con, row, reason, actor, message_hash, proof) -> AcceptResult:
        row = row or {}
        self._event(con, "invitation_refused", actor=actor, contact_id=row.get("contact_id"),
                    outlet_id=row.get("outlet_id"),
                    data_group=row.get("data_group"), email=proof["sender"], reason=reason,
                    evidence=proof, message_hash=message_hash,
                    invitation_id=row.get("invitation_id"))
        return AcceptResult(False, reason, row.get("invitation_id"), row.get("contact_id"),
                            row.get("data_group"), row.get("status"), row.get("outlet_id"))

    def _answer(self, con, row, affirmative, actor, message_hash, at, proof) -> AcceptResult:
        status = "accepted" if affirmative else "declined"
        inv_id, contact_id, group = row["invitation_id"], row["contact_id"], row["data_group"]
        outlet_id = row["outlet_id"]
        proof.update(invitation_id=inv_id, token_nonce=proof["token_nonce"] or row["nonce"])
        con.execute(
            "UPDATE invitations SET status = ?, answered_at = ?, answer_message_hash = ?"
            " WHERE invitation_id = ?", [status, at, message_hash, inv_id],
        )
        self._event(con, f"invitation_{status}", actor=actor, contact_id=contact_id,
                    outlet_id=outlet_id, data_group=group, email=proof["sender"],
                    evidence=proof, message_hash=message_hash, invitation_id=inv_id)
        if not affirmative:
            return AcceptResult(False, "declined", inv_id, contact_id, group, status, outlet_id)
        if contact_id is None:  # the outlet opts back in; its contacts stay as they are
            done = self.opt_in_outlet(outlet_id, group, source="invitation", actor=actor,
                                      reason=f"accepted invitation {inv_id}", evidence=proof,
                                      invitation_id=inv_id, message_hash=message_hash)
            reason = ("outlet opted in" if done["changed"]
                      else "accepted; the outlet was no longer opted out")
            return AcceptResult(True, reason, inv_id, None, group, status, outlet_id)
        changed = self.opt_in(contact_id, group, source="invitation", actor=actor,
                              reason=f"accepted invitation {inv_id}", evidence=proof,
                              invitation_id=inv_id, message_hash=message_hash)
        reason = "opted in" if changed else "accepted; the contact was no longer opted out"
        return AcceptResult(True, reason, inv_id, contact_id, group, status)
