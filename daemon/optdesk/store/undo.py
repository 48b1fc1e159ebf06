"""Corrections by an analyst: undo a manual opt-out or a list removal within a grace period,
reopen a review decision. Each is its own event (actor, reason, ``evidence["undoes"]`` = the
event it corrects); nothing is deleted from the log.

Only opt-outs with source ``manual`` can be undone here: an opt-out the journalist asked for
(reply, list-unsubscribe, complaint) is lifted only by the journalist's own opt-in.
"""

from __future__ import annotations

import datetime as dt

import polars as pl

from optdesk.errors import NotFound, Refused
from optdesk.store.base import utcnow

DEFAULT_GRACE = dt.timedelta(hours=24)


def _hours(delta: dt.timedelta) -> str:
    hours = delta.total_seconds() / 3600
    return f"{hours:g} h" if hours < 48 else f"{hours / 24:g} days"


class UndoOps:
    """Mixin: ``undo_opt_out``, ``undoable_opt_out`` (and their outlet versions),
    ``undo_list_removal``, ``reopen_review``. Needs OutletOps' ``_lift_outlet_contacts``."""

    def undoable_opt_out(self, contact_id: int, data_group: str, *,
                         grace: dt.timedelta = DEFAULT_GRACE,
                         now: dt.datetime | None = None) -> tuple[bool, str]:
        """(can it be undone, why or until when), for the contact's opt-out in the data group."""
        rows = self.db.rows(
            "SELECT source, opted_out_at FROM optouts WHERE contact_id = ? AND data_group = ?",
            [int(contact_id), data_group])
        if not rows:
            return False, f"contact #{contact_id} is not opted out of {data_group}"
        return _judge(rows[0][0], rows[0][1], grace, now or utcnow())

    def undo_opt_out(self, contact_id: int, data_group: str, *, actor: str, reason: str,
                     grace: dt.timedelta = DEFAULT_GRACE, now: dt.datetime | None = None) -> int:
        """Lift a manual opt-out made within ``grace``; return the new event's id.

        Raises Refused (with the reason) for any other source or an older opt-out, NotFound when
        the contact is not opted out of the group.
        """
        now = now or utcnow()
        with self.db.transaction() as con:
            source, at, event_id, by, why, _ = _lift(con, "optouts", "contact_id", contact_id,
                                                     data_group, reason, grace, now)
            return self._event(
                con, "opt_out_undone", actor=actor, at=now, contact_id=int(contact_id),
                data_group=data_group, source=source, reason=reason.strip(),
                evidence={"undoes": event_id, "opted_out_at": at, "opted_out_by": by,
                          "opt_out_reason": why},
            )

    def undoable_outlet_opt_out(self, outlet_id: int, data_group: str, *,
                                grace: dt.timedelta = DEFAULT_GRACE,
                                now: dt.datetime | None = None) -> tuple[bool, str]:
        """As ``undoable_opt_out``, for an outlet's opt-out (the same rule, ``_judge``)."""
        rows = self.db.rows(
            "SELECT source, opted_out_at FROM outlet_optouts WHERE outlet_id = ?"
            " AND data_group = ?", [int(outlet_id), data_group])
        if not rows:
            with self.db.connection() as con:
                who = _named(con, "outlet_id", outlet_id)
            return False, f"{who} is not opted out of {data_group}"
        return _judge(rows[0][0], rows[0][1], grace, now or utcnow())

    def undo_outlet_opt_out(self, outlet_id: int, data_group: str, *, actor: str, reason: str,
                            grace: dt.timedelta = DEFAULT_GRACE,
                            now: dt.datetime | None = None) -> dict:
        """Lift a manual outlet opt-out made within ``grace`` and the contact opt-outs it made
        with it (each its own ``opt_out_undone`` event); refused as ``undo_opt_out`` refuses.
        Returns {"event_id": the outlet's undo event, "contacts": n lifted}."""
        now = now or utcnow()
        with self.db.transaction() as con:
            source, at, event_id, by, why, with_contacts = _lift(
                con, "outlet_optouts", "outlet_id", outlet_id, data_group, reason, grace, now)
            undone = self._event(
                con, "opt_out_undone", actor=actor, at=now, outlet_id=int(outlet_id),
                data_group=data_group, source=source, reason=reason.strip(),
                evidence={"undoes": event_id, "opted_out_at": at, "opted_out_by": by,
                          "opt_out_reason": why, "with_contacts": with_contacts})
            contacts = self._lift_outlet_contacts(
                con, outlet_id, data_group, event_id, kind="opt_out_undone", source=source,
                actor=actor, reason=reason.strip(), evidence={"outlet_undo_event_id": undone})
        return {"event_id": undone, "contacts": contacts}

    def list_removals(self, data_group: str, contact_ids=None, *,
                      grace: dt.timedelta = DEFAULT_GRACE,
                      now: dt.datetime | None = None) -> pl.DataFrame:
        """List removals of the group that can still be undone, newest first.

        Columns: event_id, occurred_at, contact_id, name, list_id, list, actor, reason.
        """
        since = (now or utcnow()) - grace
        where, params = "", [data_group, since, data_group]
        if contact_ids is not None:
            where = " AND e.contact_id IN (SELECT unnest(?::BIGINT[]))"
            params.append(sorted({int(i) for i in contact_ids}))
        return self.db.frame(
            "SELECT e.event_id, e.occurred_at, e.contact_id, c.name,"
            " json_extract(e.evidence, '$.list_id')::BIGINT AS list_id,"
            " json_extract_string(e.evidence, '$.list') AS list, e.actor, e.reason"
            " FROM events e LEFT JOIN contacts c ON c.contact_id = e.contact_id"
            " WHERE e.kind = 'list_member_removed' AND e.data_group = ? AND e.occurred_at >= ?"
            " AND e.event_id NOT IN (SELECT json_extract(u.evidence, '$.undoes')::BIGINT"
            "   FROM events u WHERE u.kind = 'list_member_restored' AND u.data_group = ?)"
            f"{where} ORDER BY e.occurred_at DESC, e.event_id DESC",
            params,
        )

    def undo_list_removal(self, event_id: int, *, actor: str, reason: str,
                          grace: dt.timedelta = DEFAULT_GRACE,
                          now: dt.datetime | None = None) -> int:
        """Put a contact back on the list a ``list_member_removed`` event took it off."""
        if not (reason or "").strip():
            raise ValueError("a reason is required to undo a list removal")
        now = now or utcnow()
        with self.db.transaction() as con:
            rows = con.execute(
                "SELECT occurred_at, contact_id, data_group,"
                " json_extract(evidence, '$.list_id')::BIGINT, json_extract_string(evidence, '$.list')"
                " FROM events WHERE event_id = ? AND kind = 'list_member_removed'", [int(event_id)],
            ).fetchall()
            if not rows:
                raise NotFound(f"no list removal with event id {event_id}")
            at, contact_id, group, list_id, name = rows[0]
            if con.execute(
                "SELECT 1 FROM events WHERE kind = 'list_member_restored' AND data_group = ?"
                " AND json_extract(evidence, '$.undoes')::BIGINT = ?", [group, int(event_id)],
            ).fetchall():
                raise Refused(f"list removal {event_id} was undone already")
            if at < now - grace:
                raise Refused(f"list removal {event_id} was made {_hours(now - at)} ago; it can be "
                              f"undone for {_hours(grace)}")
            if not con.execute("SELECT 1 FROM media_lists WHERE list_id = ?", [list_id]).fetchall():
                raise NotFound(f"media list {name!r} no longer exists")
            con.execute(
                "INSERT INTO list_members SELECT ?, ? WHERE NOT EXISTS (SELECT 1 FROM list_members"
                " WHERE list_id = ? AND contact_id = ?)", [list_id, contact_id, list_id, contact_id])
            return self._event(con, "list_member_restored", actor=actor, at=now,
                               contact_id=contact_id, data_group=group, reason=reason.strip(),
                               evidence={"undoes": int(event_id), "list_id": list_id, "list": name})

    def reopen_review(self, message_hash: str, *, actor: str, reason: str | None = None) -> bool:
        """Put a resolved message back in the open queue. Its opt-out, if one was applied, stays
        (a manual one can be undone in 01; one the journalist asked for is theirs). Returns False
        when the message is open already."""
        with self.db.transaction() as con:
            rows = con.execute(
                "SELECT review_state, resolution, contact_id, data_group, sender FROM messages"
                " WHERE message_hash = ? AND review", [message_hash]).fetchall()
            if not rows:
                raise NotFound(f"no message {message_hash} in the review queue")
            state, resolution, contact_id, group, sender = rows[0]
            if state != "resolved":
                return False
            undoes = con.execute(
                "SELECT max(event_id) FROM events WHERE kind = 'review_resolved'"
                " AND message_hash = ?", [message_hash]).fetchall()[0][0]
            con.execute(
                "UPDATE messages SET review_state = 'open', resolution = NULL, resolved_by = NULL,"
                " resolved_at = NULL WHERE message_hash = ?", [message_hash])
            self._event(con, "review_reopened", actor=actor, contact_id=contact_id,
                        data_group=group, email=sender, source=resolution,
                        reason=(reason or "").strip() or "reopened",
                        evidence={"undoes": undoes, "resolution": resolution},
                        message_hash=message_hash)
        return True

    def review_notes(self, message_hashes) -> dict[str, str]:
        """The reviewer's note (the reason of the latest resolution) of each resolved message."""
        hashes = sorted(set(message_hashes))
        if not hashes:
            return {}
        rows = self.db.rows(
            "SELECT message_hash, arg_max(reason, event_id) FROM events"
            " WHERE kind = 'review_resolved' AND message_hash IN (SELECT unnest(?::VARCHAR[]))"
            " GROUP BY message_hash", [hashes])
        return {r[0]: r[1] for r in rows}


_WHO = {"contact_id": ("contact", "contacts"), "outlet_id": ("outlet", "outlets")}


def _named(con, key: str, value: int) -> str:
    """``contact c-12`` / ``outlet OUT-7``: named by the team's id (the key when it has none)."""
    word, table = _WHO[key]
    rows = con.execute(f"SELECT external_id FROM {table} WHERE {key} = ?",
                       [int(value)]).fetchall()
    return f"{word} {rows[0][0]}" if rows else f"{word} #{value}"


def _lift(con, table: str, key: str, value: int, data_group: str, reason: str,
          grace: dt.timedelta, now: dt.datetime) -> tuple:
    """Delete the opt-out row of a contact (``optouts``) or an outlet (``outlet_optouts``) when
    ``_judge`` allows its undo; return (source, opted_out_at, event_id, actor, reason,
    with_contacts or None). Inside the caller's transaction."""
    if not (reason or "").strip():
        raise ValueError("a reason is required to undo an opt-out")
    extra = "with_contacts" if table == "outlet_optouts" else "NULL"
    rows = con.execute(
        f"SELECT source, opted_out_at, event_id, actor, reason, {extra} FROM {table}"
        f" WHERE {key} = ? AND data_group = ?", [int(value), data_group]).fetchall()
    who = _named(con, key, value)
    if not rows:
        raise NotFound(f"{who} is not opted out of {data_group}")
    ok, detail = _judge(rows[0][0], rows[0][1], grace, now)
    if not ok:
        raise Refused(f"{who} in {data_group}: {detail}")
    con.execute(f"DELETE FROM {table} WHERE {key} = ? AND data_group = ?",
                [int(value), data_group])
    return rows[0]


def _judge(source: str, at: dt.datetime, grace: dt.timedelta, now: dt.datetime) -> tuple[bool, str]:
    if source != "manual":
        return False, (f"the opt-out came from the journalist ({source}); only a manual opt-out "
                       "made by an analyst can be undone")
    if at < now - grace:
        return False, (f"the manual opt-out was made {_hours(now - at)} ago; it can be undone "
                       f"for {_hours(grace)}")
    until = (at + grace).strftime("%Y-%m-%d %H:%M")
    return True, f"can be undone until {until} UTC"
