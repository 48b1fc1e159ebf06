"""The store's writes of opt-outs, address suppressions, bounces and automatic replies: one
implementation, set-based, for one message or a whole poll (one statement per message costs
3–10 ms in DuckDB, so hundreds of messages go in a handful of statements).

``Writes`` collects what is to be written; ``store.apply_writes(writes)`` writes it in one
transaction (joining the caller's, ``store.transaction()``) and says what changed. The
one-at-a-time methods (``opt_out``, ``suppress_address``, ``mark_undeliverable``,
``record_soft_bounce``, ``record_auto_reply``, ``opt_out_outlet``) are thin calls of it, so both
leave the same rows. An opt-out of a contact (or outlet) already opted out in that data group
changes nothing and adds no event; every bounce and auto-reply adds one event.

An outlet opt-out suppresses the outlet's own addresses (``suppressed(g)``); ``with_contacts``
opts out every contact at the outlet as well, each with its own ``opt_out`` event (reason
"outlet opt-out", the outlet opt-out's event id in the evidence, ``outlet_event_id``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from optdesk.bounce_scoring import BounceScoring
from optdesk.store.base import StoreBase, check_source, evidence_json, normalise_email, utcnow
from optdesk.store.incidents import incident_row, insert_incidents

EVENT_SCHEMA = pa.schema([
    ("occurred_at", pa.timestamp("us")), ("kind", pa.string()), ("contact_id", pa.int64()),
    ("data_group", pa.string()), ("email", pa.string()), ("source", pa.string()),
    ("actor", pa.string()), ("reason", pa.string()), ("evidence", pa.string()),
    ("message_hash", pa.string()), ("outlet_id", pa.int64()),
])
OUTLET_CONTACT_REASON = "outlet opt-out"


@dataclass
class Writes:
    """What is to be written; each item is a dict (see the ``add_*`` methods)."""

    opt_outs: list[dict] = field(default_factory=list)
    hard: list[dict] = field(default_factory=list)
    soft: list[dict] = field(default_factory=list)
    auto: list[dict] = field(default_factory=list)
    suppress: list[dict] = field(default_factory=list)
    incidents: list[dict] = field(default_factory=list)
    outlet_opt_outs: list[dict] = field(default_factory=list)

    def add_opt_out(self, contact_id: int, data_group: str, *, source: str, reason: str | None,
                    evidence: Any, message_hash: str | None, actor: str = "daemon") -> None:
        check_source(source)
        self.opt_outs.append({"contact_id": int(contact_id), "data_group": data_group,
                              "source": source, "reason": reason, "evidence": evidence,
                              "message_hash": message_hash, "actor": actor})

    def add_outlet_opt_out(self, outlet_id: int, data_group: str, *, source: str,
                           reason: str | None, evidence: Any, message_hash: str | None,
                           actor: str = "daemon", with_contacts: bool = False) -> None:
        check_source(source)
        self.outlet_opt_outs.append({
            "outlet_id": int(outlet_id), "data_group": data_group, "source": source,
            "reason": reason, "evidence": evidence, "message_hash": message_hash, "actor": actor,
            "with_contacts": bool(with_contacts)})

    def add_bounce(self, hard: bool, email: str, *, reason: str | None, evidence: Any,
                   message_hash: str | None, contact_id: int | None, data_group: str | None,
                   actor: str = "daemon") -> None:
        (self.hard if hard else self.soft).append({
            "email": normalise_email(email), "reason": reason, "evidence": evidence,
            "message_hash": message_hash, "contact_id": contact_id, "data_group": data_group,
            "actor": actor})

    def add_auto_reply(self, email: str, *, return_date: dt.date | None, evidence: Any,
                       message_hash: str | None, contact_id: int | None, data_group: str | None,
                       actor: str = "daemon") -> None:
        until = return_date
        if isinstance(until, dt.date) and not isinstance(until, dt.datetime):
            until = dt.datetime(until.year, until.month, until.day)
        self.auto.append({"email": normalise_email(email), "until": until, "evidence": evidence,
                          "message_hash": message_hash, "contact_id": contact_id,
                          "data_group": data_group, "actor": actor})

    def add_suppression(self, email: str, data_group: str, *, source: str, reason: str | None,
                        evidence: Any, message_hash: str | None, actor: str = "daemon") -> None:
        check_source(source)
        self.suppress.append({"email": normalise_email(email), "data_group": data_group,
                              "source": source, "reason": reason, "evidence": evidence,
                              "message_hash": message_hash, "actor": actor})

    def add_incident(self, incident: dict, *, message_hash: str, data_group: str | None,
                     message_id: str | None = None, received_at: dt.datetime | None = None) -> None:
        """A sending incident of a classified notice (``Decision.incidents`` item): recorded,
        never counted against its recipients."""
        self.incidents.append({"incident": incident, "message_hash": message_hash,
                               "data_group": data_group, "message_id": message_id,
                               "received_at": received_at})

    def __len__(self) -> int:
        return (len(self.opt_outs) + len(self.hard) + len(self.soft) + len(self.auto)
                + len(self.suppress) + len(self.incidents) + len(self.outlet_opt_outs))


def opt_out_target(address: str, owners: dict[str, list[int]],
                   outlets: dict[str, int]) -> tuple[str, int | str]:
    """Whom a request to be removed that names only an address opts out: ("outlet", id) for an
    outlet's own address, ("contact", id) for the one contact owning it, else ("address",
    address): suppressed as an address (it belongs to no contact, or to several). The one
    rule of the daemon (replies) and of the engagement import (a sending tool's unsubscribes)."""
    address = normalise_email(address)
    if address in outlets:
        return "outlet", outlets[address]
    ids = owners.get(address, [])
    if len(ids) == 1:
        return "contact", ids[0]
    return "address", address


@dataclass
class _OutletRows:
    """The outlet opt-outs to write: their events (ids given) and their ``outlet_optouts`` rows."""

    events: list[dict]
    table: pa.Table


@dataclass
class WriteResult:
    """What ``apply_writes`` changed."""

    missing: set[str] = field(default_factory=set)  # message hashes whose opt-out names no
    #                                                  contact (or outlet)
    missing_contacts: set[int] = field(default_factory=set)
    missing_outlets: set[int] = field(default_factory=set)
    opted_out: set[tuple[int, str]] = field(default_factory=set)  # (contact, group) newly out
    opt_out_events: dict[tuple[int, str], int] = field(default_factory=dict)  # their event ids
    outlets_opted_out: set[tuple[int, str]] = field(default_factory=set)  # (outlet, group) newly
    suppressed: set[tuple[str, str]] = field(default_factory=set)  # (address, group) newly
    undeliverable: set[str] = field(default_factory=set)  # addresses a hard bounce made so
    soft: list[dict] = field(default_factory=list)  # per soft bounce, in order: score, soft_bounces,
    #                                                 undeliverable, changed


def _event_rows(kind: str, items: list[dict], at: dt.datetime, reason=None, source=None) -> list:
    return [{"occurred_at": at, "kind": kind, "contact_id": i.get("contact_id"),
             "data_group": i.get("data_group"), "email": i.get("email"),
             "source": source or i.get("source"), "actor": i["actor"],
             "reason": reason(i) if reason else i.get("reason"),
             "evidence": evidence_json(i.get("evidence")), "message_hash": i["message_hash"],
             "outlet_id": i.get("outlet_id")}
            for i in items]


class WriteOps:
    """Mixin: ``apply_writes(writes, scoring)``."""

    def apply_writes(self, ops: Writes, scoring: BounceScoring | None = None,
                     at: dt.datetime | None = None) -> WriteResult:
        """Write ``ops`` in one transaction; nothing is written for an opt-out that names a
        contact the store does not have (``WriteResult.missing``)."""
        at, scoring = at or utcnow(), scoring or BounceScoring()
        result = WriteResult()
        if not len(ops):
            return result
        with self.db.transaction() as con:
            events: list[dict] = []
            ensured: set[str] = set()  # data groups made sure of in this transaction
            opt_outs, outlet_rows = ops.opt_outs, None
            if ops.outlet_opt_outs:
                outlet_rows, staff = self._write_outlet_opt_outs(con, ops.outlet_opt_outs, at,
                                                                 result, ensured)
                opt_outs = opt_outs + staff
            if opt_outs or outlet_rows:
                self._write_opt_outs(con, opt_outs, at, result, ensured, outlet_rows)
            if ops.suppress:
                self._write_suppressions(con, ops.suppress, at, result, ensured)
            if ops.hard:
                result.undeliverable = self._write_hard(con, ops.hard, at)
                events += _event_rows("bounce_hard", ops.hard, at)
            if ops.soft:
                events += self._write_soft(con, ops.soft, scoring, at, result)
            if ops.auto:
                self._write_auto(con, ops.auto, at)
                events += _event_rows("auto_reply", ops.auto, at, reason=lambda i: (
                    f"away until {i['until']:%Y-%m-%d}" if i["until"] else "automatic reply"))
            _insert(con, "events", EVENT_SCHEMA, events)
            if ops.incidents:
                insert_incidents(con, [incident_row(
                    i["incident"], at=at, received_at=i["received_at"], data_group=i["data_group"],
                    message_id=i["message_id"], message_hash=i["message_hash"])
                    for i in ops.incidents])
        return result

    def _write_opt_outs(self, con: duckdb.DuckDBPyConnection, items: list[dict],
                        at: dt.datetime, result: WriteResult,
                        ensured: set[str] | None = None,
                        outlet_rows: _OutletRows | None = None) -> None:
        """The first opt-out per (contact, group) adds a row and an ``opt_out`` event. Items
        marked ``checked`` (an outlet's contacts, read with their opt-out state in the outlet's
        lookup) are not looked up again. ``outlet_rows``: the outlet opt-outs of the same
        ``Writes``, whose events go in with these and whose rows are written here too."""
        groups = {i["data_group"] for i in items}
        unsure = {i["contact_id"] for i in items if not i.get("known")}
        ids = sorted({i["contact_id"] for i in items if not i.get("checked")})
        known, done, existing = set(), set(), set(groups)
        if ids or groups - (ensured or set()):
            known, done, existing = _lookups(con, "optouts", "contact_id", ids, groups,
                                             table="contacts" if unsure else None)
        known |= {i["contact_id"] for i in items if i.get("known")}
        result.missing |= {i["message_hash"] for i in items if i["contact_id"] not in known}
        result.missing_contacts |= {i["contact_id"] for i in items if i["contact_id"] not in known}
        fresh: dict[tuple[int, str], dict] = {}
        for item in items:
            key = (item["contact_id"], item["data_group"])
            if item["contact_id"] in known and key not in done and key not in fresh:
                fresh[key] = item
        result.opted_out |= set(fresh)
        if fresh:
            _ensure_groups(con, {g for _, g in fresh} - existing, ensured)
        rows = (outlet_rows.events if outlet_rows else []) + _event_rows(
            "opt_out", list(fresh.values()), at)
        returned = _insert_events(con, rows, returning="event_id, kind, contact_id, data_group")
        if outlet_rows:
            _insert_table(con, "outlet_optouts", outlet_rows.table)
        if not fresh:
            return
        event_of = {(r[2], r[3]): r[0] for r in returned if r[1] == "opt_out"}
        result.opt_out_events.update(event_of)
        optouts = pa.table({
            "contact_id": [k[0] for k in fresh], "data_group": [k[1] for k in fresh],
            "source": [i["source"] for i in fresh.values()],
            "actor": [i["actor"] for i in fresh.values()],
            "reason": [i["reason"] for i in fresh.values()],
            "opted_out_at": pa.array([at] * len(fresh), pa.timestamp("us")),
            "event_id": [event_of[k] for k in fresh],
        })
        _insert_table(con, "optouts", optouts)

    def _write_outlet_opt_outs(self, con: duckdb.DuckDBPyConnection, items: list[dict],
                               at: dt.datetime, result: WriteResult,
                               ensured: set[str] | None = None
                               ) -> tuple[_OutletRows | None, list[dict]]:
        """The first opt-out per (outlet, group) adds a row and an ``outlet_opt_out`` event; an
        outlet already opted out there changes nothing. One statement reads what is needed
        (the outlets, their opt-outs, the groups, and with ``with_contacts`` the outlets'
        contacts with their opt-out state); the outlet events get their ids now. Returns the
        rows to write (``_write_opt_outs`` writes them with the contact opt-outs, in one
        insert of events) and the contact opt-outs ``with_contacts`` asks for, already checked."""
        ids = sorted({i["outlet_id"] for i in items})
        groups = sorted({i["data_group"] for i in items})
        staff_wanted = sorted({i["outlet_id"] for i in items if i["with_contacts"]})
        # constant lists (IN (?, ?)), not unnest(?): DuckDB then filters the scans of outlets
        # and contacts directly instead of joining them (a third of the cost, cold)
        o, g = _marks(ids), _marks(groups)
        staff = (" UNION ALL SELECT 'staff', c.outlet_id, p.data_group, c.contact_id"
                 " FROM contacts c LEFT JOIN optouts p ON p.contact_id = c.contact_id"
                 f" AND p.data_group IN ({g}) WHERE c.outlet_id IN ({_marks(staff_wanted)})"
                 if staff_wanted else "")
        rows = con.execute(
            f"SELECT 'done', outlet_id, data_group, NULL FROM outlet_optouts WHERE outlet_id IN ({o})"
            f" UNION ALL SELECT 'group', NULL, data_group, NULL FROM data_groups"
            f" WHERE data_group IN ({g})"
            f" UNION ALL SELECT 'known', outlet_id, NULL, NULL FROM outlets WHERE outlet_id IN ({o})"
            + staff,
            [*ids, *groups, *ids, *(groups + staff_wanted if staff_wanted else [])]).fetchall()
        known = {r[1] for r in rows if r[0] == "known"}
        done = {(r[1], r[2]) for r in rows if r[0] == "done"}
        existing = {r[2] for r in rows if r[0] == "group"}
        result.missing |= {i["message_hash"] for i in items if i["outlet_id"] not in known}
        result.missing_outlets |= {i["outlet_id"] for i in items if i["outlet_id"] not in known}
        fresh: dict[tuple[int, str], dict] = {}
        for item in items:
            key = (item["outlet_id"], item["data_group"])
            if item["outlet_id"] in known and key not in done and key not in fresh:
                fresh[key] = item
        result.outlets_opted_out = set(fresh)
        if not fresh:
            return None, []
        _ensure_groups(con, {g for _, g in fresh} - existing, ensured)
        if ensured is not None:
            ensured |= existing
        new_ids = [r[0] for r in con.execute(
            "SELECT nextval('event_ids') FROM range(?)", [len(fresh)]).fetchall()]
        event_of = dict(zip(fresh, sorted(new_ids), strict=True))
        events = _event_rows("outlet_opt_out", list(fresh.values()), at)
        for row, key in zip(events, fresh, strict=True):
            row["event_id"] = event_of[key]
        table = pa.table({
            "outlet_id": [k[0] for k in fresh], "data_group": [k[1] for k in fresh],
            "source": [i["source"] for i in fresh.values()],
            "actor": [i["actor"] for i in fresh.values()],
            "reason": [i["reason"] for i in fresh.values()],
            "with_contacts": [i["with_contacts"] for i in fresh.values()],
            "opted_out_at": pa.array([at] * len(fresh), pa.timestamp("us")),
            "event_id": [event_of[k] for k in fresh],
        })
        out_rows = _OutletRows(events, table)
        opted = {(r[3], r[2]) for r in rows if r[0] == "staff" and r[2] is not None}
        staff = sorted({(r[3], r[1]) for r in rows if r[0] == "staff"})
        out = []
        for contact_id, outlet_id in staff:
            for (oid, group), item in fresh.items():
                if oid == outlet_id and item["with_contacts"] and (contact_id, group) not in opted:
                    out.append({
                        "contact_id": int(contact_id), "data_group": group, "known": True,
                        "checked": True,
                        "source": item["source"], "reason": OUTLET_CONTACT_REASON,
                        "evidence": {"outlet_id": outlet_id,
                                     "outlet_event_id": event_of[(oid, group)],
                                     "outlet_reason": item["reason"]},
                        "message_hash": item["message_hash"], "actor": item["actor"],
                        "outlet_id": outlet_id})
        return out_rows, out

    def _write_suppressions(self, con: duckdb.DuckDBPyConnection, items: list[dict],
                            at: dt.datetime, result: WriteResult,
                            ensured: set[str] | None = None) -> None:
        """Like ``suppress_address``: the first request per (address, group) adds a row and an
        ``address_suppressed`` event; an address already suppressed changes nothing."""
        emails = sorted({i["email"] for i in items})
        done = {(r[0], r[1]) for r in con.execute(
            "SELECT email, data_group FROM address_suppressions"
            " WHERE email IN (SELECT unnest(?::VARCHAR[]))", [emails]).fetchall()}
        fresh: dict[tuple[str, str], dict] = {}
        for item in items:
            key = (item["email"], item["data_group"])
            if key not in done and key not in fresh:
                fresh[key] = item
        result.suppressed = set(fresh)
        if not fresh:
            return
        _ensure_groups(con, {g for _, g in fresh}, ensured)
        returned = _insert(con, "events", EVENT_SCHEMA,
                           _event_rows("address_suppressed", list(fresh.values()), at),
                           returning="event_id, email, data_group")
        event_of = {(r[1], r[2]): r[0] for r in returned}
        _insert_table(con, "address_suppressions", pa.table({
            "email": [k[0] for k in fresh], "data_group": [k[1] for k in fresh],
            "source": [i["source"] for i in fresh.values()],
            "reason": [i["reason"] for i in fresh.values()],
            "created_at": pa.array([at] * len(fresh), pa.timestamp("us")),
            "event_id": [event_of[k] for k in fresh],
        }))

    @staticmethod
    def _write_hard(con: duckdb.DuckDBPyConnection, items: list[dict], at: dt.datetime) -> set[str]:
        last = {i["email"]: i for i in items}
        already = {r[0] for r in con.execute(
            "SELECT email FROM deliverability WHERE undeliverable"
            " AND email IN (SELECT unnest(?::VARCHAR[]))", [list(last)]).fetchall()}
        table = pa.table({"email": list(last), "reason": [i["reason"] for i in last.values()],
                          "ts": pa.array([at] * len(last), pa.timestamp("us"))})
        _upsert(con, table,
                "INSERT INTO deliverability (email, undeliverable, hard_bounced_at, last_bounce_at,"
                " last_reason) SELECT email, true, ts, ts, reason FROM batch_rows"
                " ON CONFLICT (email) DO UPDATE SET undeliverable = true,"
                " hard_bounced_at = coalesce(deliverability.hard_bounced_at,"
                " excluded.hard_bounced_at), last_bounce_at = excluded.last_bounce_at,"
                " last_reason = excluded.last_reason")
        return set(last) - already

    @staticmethod
    def _write_soft(con: duckdb.DuckDBPyConnection, items: list[dict], scoring: BounceScoring,
                    at: dt.datetime, result: WriteResult) -> list[dict]:
        emails = sorted({i["email"] for i in items})
        state = {r[0]: list(r[1:]) for r in con.execute(
            "SELECT email, bounce_score, score_at, soft_bounces, undeliverable FROM deliverability"
            " WHERE email IN (SELECT unnest(?::VARCHAR[]))", [emails]).fetchall()}
        events = []
        for item in items:  # in message order, so two bounces in one Writes count twice
            score, since, count, was = state.get(item["email"], [0.0, None, 0, False])
            score, count, now_bad = scoring.after_soft_bounce(score, since, count, was, at)
            state[item["email"]] = [score, at, count, now_bad]
            outcome = {"score": round(score, 4), "soft_bounces": count, "undeliverable": now_bad,
                       "changed": now_bad and not was}
            result.soft.append(outcome)
            events.append({**item, "evidence": {"bounce": item["evidence"], "score": outcome}})
        last = {i["email"]: i["reason"] for i in items}
        table = pa.table({
            "email": list(last), "reason": list(last.values()),
            "score": [float(state[e][0]) for e in last], "n": [int(state[e][2]) for e in last],
            "bad": [bool(state[e][3]) for e in last],
            "ts": pa.array([at] * len(last), pa.timestamp("us")),
        })
        _upsert(con, table,
                "INSERT INTO deliverability (email, undeliverable, bounce_score, score_at,"
                " soft_bounces, last_bounce_at, last_reason) SELECT email, bad, score, ts, n, ts,"
                " reason FROM batch_rows ON CONFLICT (email) DO UPDATE SET"
                " undeliverable = excluded.undeliverable, bounce_score = excluded.bounce_score,"
                " score_at = excluded.score_at, soft_bounces = excluded.soft_bounces,"
                " last_bounce_at = excluded.last_bounce_at, last_reason = excluded.last_reason")
        return _event_rows("bounce_soft", events, at)

    @staticmethod
    def _write_auto(con: duckdb.DuckDBPyConnection, items: list[dict], at: dt.datetime) -> None:
        last = {i["email"]: i["until"] for i in items}
        table = pa.table({"email": list(last),
                          "until": pa.array(list(last.values()), pa.timestamp("us")),
                          "ts": pa.array([at] * len(last), pa.timestamp("us"))})
        _upsert(con, table,
                "INSERT INTO deliverability (email, away_until, last_auto_reply_at)"
                " SELECT email, until, ts FROM batch_rows ON CONFLICT (email) DO UPDATE SET"
                " away_until = excluded.away_until,"
                " last_auto_reply_at = excluded.last_auto_reply_at")


def _lookups(con: duckdb.DuckDBPyConnection, optouts: str, key: str, ids: list[int],
             groups: set[str], table: str | None = None
             ) -> tuple[set[int], set[tuple[int, str]], set[str]]:
    """In one statement: (the ids ``table`` has — none asked when it is None —, the (id, group)
    pairs opted out already in ``optouts``, which of ``groups`` exist)."""
    known = (f" UNION ALL SELECT 'known', {key}, NULL FROM {table}"
             f" WHERE {key} IN (SELECT unnest($1::BIGINT[]))") if table else ""
    rows = con.execute(
        f"SELECT 'done', {key}, data_group FROM {optouts}"
        f" WHERE {key} IN (SELECT unnest($1::BIGINT[]))"
        " UNION ALL SELECT 'group', NULL, data_group FROM data_groups"
        f" WHERE data_group IN (SELECT unnest($2::VARCHAR[])){known}",
        [ids, sorted(groups)]).fetchall()
    return ({r[1] for r in rows if r[0] == "known"},
            {(r[1], r[2]) for r in rows if r[0] == "done"},
            {r[2] for r in rows if r[0] == "group"})


def _marks(values: list) -> str:
    """``?, ?, ?``: one placeholder per value (a constant list DuckDB can filter a scan by)."""
    return ", ".join("?" for _ in values)


def _ensure_groups(con: duckdb.DuckDBPyConnection, groups: set[str],
                   ensured: set[str] | None) -> None:
    """``StoreBase._ensure_group`` for the groups not yet made sure of in this transaction
    (``ensured``, kept by ``apply_writes``; None: every group)."""
    for group in sorted(groups - (ensured or set())):
        StoreBase._ensure_group(con, group)
        if ensured is not None:
            ensured.add(group)


def _upsert(con: duckdb.DuckDBPyConnection, table: pa.Table, sql: str) -> None:
    con.register("batch_rows", table)
    try:
        con.execute(sql)
    finally:
        con.unregister("batch_rows")


def _insert_table(con: duckdb.DuckDBPyConnection, name: str, table: pa.Table,
                  returning: str | None = None) -> list[tuple]:
    cols = ", ".join(table.column_names)
    con.register("batch_rows", table)
    try:
        tail = f" RETURNING {returning}" if returning else ""
        cur = con.execute(f"INSERT INTO {name} ({cols}) SELECT {cols} FROM batch_rows{tail}")
        return cur.fetchall() if returning else []
    finally:
        con.unregister("batch_rows")


def _insert_events(con: duckdb.DuckDBPyConnection, rows: list[dict],
                   returning: str | None = None) -> list[tuple]:
    """Insert events in one statement; a row's ``event_id`` when it has one, else the next."""
    if not rows:
        return []
    table = pa.table({"event_id": pa.array([r.get("event_id") for r in rows], pa.int64()),
                      **{c: [r[c] for r in rows] for c in EVENT_SCHEMA.names}},
                     schema=pa.schema([("event_id", pa.int64()), *EVENT_SCHEMA]))
    cols = ", ".join(EVENT_SCHEMA.names)
    con.register("batch_rows", table)
    try:
        tail = f" RETURNING {returning}" if returning else ""
        cur = con.execute(
            f"INSERT INTO events (event_id, {cols}) SELECT"
            f" coalesce(event_id, nextval('event_ids')), {cols} FROM batch_rows{tail}")
        return cur.fetchall() if returning else []
    finally:
        con.unregister("batch_rows")


def _insert(con: duckdb.DuckDBPyConnection, name: str, schema: pa.Schema, rows: list[dict],
            returning: str | None = None) -> list[tuple]:
    if not rows:
        return []
    table = pa.table({c: [r[c] for r in rows] for c in schema.names}, schema=schema)
    return _insert_table(con, name, table, returning)
