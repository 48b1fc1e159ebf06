"""Outlets: their record, their own addresses, and their opt-out per data group.

An outlet opt-out suppresses the outlet's own addresses in the data group (the ``suppressed``
macro); with ``with_contacts`` it opts out every contact at the outlet too (store/writes.py,
one implementation with the daemon's). ``opt_in_outlet`` undoes it, with ``with_contacts`` also
the contact opt-outs it made (those whose evidence names its event).
"""

from __future__ import annotations

import datetime as dt
import pathlib
from collections.abc import Iterable
from typing import Any

import polars as pl

from optdesk.errors import ImportFailed, NotFound
from optdesk.store import contact_ids
from optdesk.store.base import evidence_json, normalise_email, utcnow
from optdesk.store.engagement_totals import refresh_engagers
from optdesk.store.outlet_import import read_outlets_file
from optdesk.store.search import (
    keys_condition,
    query_words,
    rebuild_outlet_keys,
    rebuild_search_tokens,
)
from optdesk.store.writes import Writes

OUTLET_SORTS = {"name": "ot.name", "reach": "ot.reach", "opted_out_at": "oo.opted_out_at"}


class OutletOps:
    """Mixin: outlets. Needs ``self.db``, ``apply_writes`` and StoreBase."""

    def import_outlets(self, path: str | pathlib.Path, data_group: str,
                       progress=None) -> dict:
        """Import an outlets file (all or nothing). Returns counts: rows, outlets, new_outlets,
        addresses."""
        say = progress or (lambda message: None)
        df = read_outlets_file(path)
        say(f"read and checked {df.height} rows from {path}")
        outlets = df.group_by("outlet_id", maintain_order=True).first().drop("email")
        emails = df.filter(pl.col("email").is_not_null()).unique("email", keep="last")
        now = utcnow()
        with self.db.transaction() as con:
            self._ensure_group(con, data_group)
            keys = contact_ids.assign(con, outlets["outlet_id"], contact_ids.OUTLETS).select(
                pl.col("external_id").alias("outlet_id"), pl.col("outlet_id").alias("_key"))
            outlets = outlets.join(keys, on="outlet_id", how="left").rename(
                {"outlet_id": "external_id", "_key": "outlet_id"})
            emails = emails.join(keys, on="outlet_id", how="left").drop("outlet_id").rename(
                {"_key": "outlet_id"})
            con.register("stage_outlets", outlets)
            try:
                taken = con.execute(
                    "SELECT s._row, s.name, o.external_id FROM stage_outlets s JOIN outlets o"
                    " ON o.name = s.name AND o.outlet_id <> s.outlet_id"
                    " WHERE NOT EXISTS (SELECT 1 FROM stage_outlets t"
                    "                   WHERE t.outlet_id = o.outlet_id) ORDER BY s._row LIMIT 1"
                ).fetchall()
                if taken:
                    row, name, other = taken[0]
                    raise ImportFailed(f"{path}: row {row}, column name: {name!r} is outlet "
                                       f"{other} in the store; give it that outlet_id")
                before = con.execute("SELECT count(*) FROM outlets").fetchall()[0][0]
                renamed = [r[0] for r in con.execute(
                    "SELECT o.outlet_id FROM stage_outlets s JOIN outlets o"
                    " ON o.outlet_id = s.outlet_id AND o.name <> s.name").fetchall()]
                con.execute(
                    "INSERT INTO outlets (outlet_id, external_id, name, reach, type, country,"
                    " language, updated_at) SELECT outlet_id, external_id, name, reach, type,"
                    " country, language, ?"
                    " FROM stage_outlets ON CONFLICT (outlet_id) DO UPDATE SET"
                    " name = excluded.name, reach = excluded.reach, type = excluded.type,"
                    " country = excluded.country, language = excluded.language,"
                    " updated_at = excluded.updated_at", [now])
                after = con.execute("SELECT count(*) FROM outlets").fetchall()[0][0]
            finally:
                con.unregister("stage_outlets")
            con.register("stage_emails", emails.select("email", "outlet_id"))
            try:
                con.execute(
                    "INSERT INTO outlet_addresses (email, outlet_id, added_at)"
                    " SELECT email, outlet_id, ? FROM stage_emails ON CONFLICT (email)"
                    " DO UPDATE SET outlet_id = excluded.outlet_id", [now])
            finally:
                con.unregister("stage_emails")
            refresh_engagers(con)  # outlet names and addresses may have changed
            _refresh_search(con, renamed)
        say("outlets and their addresses written")
        return {"rows": df.height, "outlets": outlets.height, "new_outlets": after - before,
                "addresses": emails.height}

    def opt_out_outlet(self, outlet_id: int, data_group: str, *, source: str, actor: str,
                       reason: str | None = None, with_contacts: bool = False,
                       evidence: Any = None, message_hash: str | None = None,
                       at: dt.datetime | None = None) -> dict:
        """Opt an outlet out of a data group's mail (its own addresses) and, with
        ``with_contacts``, every contact at it. Returns {"changed": bool, "contacts": n newly
        opted out}; an outlet already opted out there is left as it is (no event)."""
        writes = Writes()
        writes.add_outlet_opt_out(outlet_id, data_group, source=source, reason=reason,
                                  evidence=evidence, message_hash=message_hash, actor=actor,
                                  with_contacts=with_contacts)
        result = self.apply_writes(writes, at=at)
        if result.missing_outlets:
            raise NotFound(f"no outlet with id {outlet_id}")
        return {"changed": bool(result.outlets_opted_out), "contacts": len(result.opted_out)}

    def opt_in_outlet(self, outlet_id: int, data_group: str, *, source: str, actor: str,
                      reason: str | None = None, with_contacts: bool = False,
                      evidence: Any = None, invitation_id: int | None = None,
                      message_hash: str | None = None) -> dict:
        """Undo an outlet's opt-out in a data group (an ``outlet_opt_in`` event; ``evidence``
        added to its own, e.g. an accepted invitation's proof); with ``with_contacts`` also
        lift the contact opt-outs it made, each with an ``opt_in`` event. Returns
        {"changed": bool, "contacts": n}; changed is False when there was none. Joins the
        caller's transaction."""
        with self.db.transaction() as con:
            deleted = con.execute(
                "DELETE FROM outlet_optouts WHERE outlet_id = ? AND data_group = ?"
                " RETURNING event_id", [int(outlet_id), data_group]).fetchall()
            if not deleted:
                return {"changed": False, "contacts": 0}
            outlet_event = deleted[0][0]
            self._event(con, "outlet_opt_in", actor=actor, data_group=data_group,
                        source=source, reason=reason, outlet_id=int(outlet_id),
                        evidence={"outlet_event_id": outlet_event,
                                  "with_contacts": with_contacts, **(evidence or {})},
                        invitation_id=invitation_id, message_hash=message_hash)
            lifted = 0
            if with_contacts:
                lifted = self._lift_outlet_contacts(
                    con, outlet_id, data_group, outlet_event, kind="opt_in", source=source,
                    actor=actor, reason=reason or "outlet opt-in",
                    evidence={"outlet_event_id": outlet_event})
        return {"changed": True, "contacts": lifted}

    def _lift_outlet_contacts(self, con, outlet_id: int, data_group: str, outlet_event: int, *,
                              kind: str, source: str | None, actor: str, reason: str,
                              evidence: dict) -> int:
        """Lift the contact opt-outs an outlet opt-out made (their evidence names its event),
        each with its own ``kind`` event (``evidence`` plus ``undoes``: its opt-out event).
        Inside the caller's transaction; returns how many."""
        lifted = con.execute(
            "DELETE FROM optouts WHERE data_group = ? AND event_id IN ("
            " SELECT event_id FROM events WHERE kind = 'opt_out' AND data_group = ?"
            " AND outlet_id = ?"
            " AND json_extract(evidence, '$.outlet_event_id')::BIGINT = ?)"
            " RETURNING contact_id, event_id",
            [data_group, data_group, int(outlet_id), outlet_event]).fetchall()
        lifted.sort()
        con.execute(
            "INSERT INTO events (occurred_at, kind, contact_id, data_group, source, actor,"
            " reason, evidence, outlet_id) SELECT ?, ?, c, ?, ?, ?, ?, e, ?"
            " FROM (SELECT unnest(?::BIGINT[]) AS c, unnest(?::VARCHAR[]) AS e) ORDER BY c",
            [utcnow(), kind, data_group, source, actor, reason, int(outlet_id),
             [r[0] for r in lifted],
             [evidence_json({**evidence, "undoes": r[1]}) for r in lifted]])
        return len(lifted)

    def outlet(self, outlet_id: int, data_group: str) -> dict:
        """The record of one outlet as seen from one data group. Keys: outlet (dict: outlet_id,
        external_id — the team's id —, name, type, reach, country, language), optout
        (dict or None), addresses (email, undeliverable, suppressed), contacts (contact_id,
        external_id, name, title, opted_out, source, reason, opted_out_at), history (its events)."""
        oid = int(outlet_id)
        with self.db.connection():
            head = self.db.frame(
                "SELECT outlet_id, external_id, name, type, reach, country, language"
                " FROM outlets WHERE outlet_id = ?", [oid])
            if head.height == 0:
                raise NotFound(f"no outlet with id {outlet_id}")
            optout = self.db.frame(
                "SELECT source, actor, reason, with_contacts, opted_out_at, event_id"
                " FROM outlet_optouts WHERE outlet_id = ? AND data_group = ?", [oid, data_group])
            addresses = self.db.frame(
                "SELECT a.email, coalesce(d.undeliverable, false) AS undeliverable,"
                " s.email IS NOT NULL AS suppressed FROM outlet_addresses a"
                " LEFT JOIN deliverability d USING (email)"
                " LEFT JOIN suppressed($2) s USING (email)"
                " WHERE a.outlet_id = $1 ORDER BY a.email", [oid, data_group])
            contacts = self.db.frame(
                "SELECT c.contact_id, c.external_id, c.name, c.title,"
                " o.contact_id IS NOT NULL AS opted_out,"
                " o.source, o.reason, o.opted_out_at FROM contacts c"
                " LEFT JOIN optouts o ON o.contact_id = c.contact_id AND o.data_group = ?"
                " WHERE c.outlet_id = ? ORDER BY c.name, c.contact_id", [data_group, oid])
            history = self.db.frame(
                "SELECT event_id, occurred_at, kind, source, actor, reason, email FROM events"
                " WHERE outlet_id = ? AND data_group = ? AND contact_id IS NULL"
                " ORDER BY occurred_at DESC, event_id DESC", [oid, data_group])
        return {"outlet": head.row(0, named=True),
                "optout": optout.row(0, named=True) if optout.height else None,
                "addresses": addresses, "contacts": contacts, "history": history}

    def find_outlets(self, text: str, data_group: str, limit: int = 20) -> pl.DataFrame:
        """Outlets every word typed starts a word of the name of (folded as the contact search
        folds, ``optdesk.store.search``), biggest reach first. Columns: outlet_id, name, type,
        reach, country, opted_out, external_id (the team's id)."""
        self._ensure_search_index()
        cond, words = keys_condition("k.keys", text)
        return self.db.frame(
            "SELECT ot.outlet_id, ot.name, ot.type, ot.reach, ot.country,"
            " oo.outlet_id IS NOT NULL AS opted_out, ot.external_id FROM outlets ot"
            " JOIN outlet_keys k ON k.outlet_id = ot.outlet_id"
            " LEFT JOIN outlet_optouts oo ON oo.outlet_id = ot.outlet_id AND oo.data_group = ?"
            f" WHERE {cond} ORDER BY ot.reach DESC NULLS LAST, ot.name, ot.outlet_id LIMIT ?",
            [data_group, *words, int(limit)])

    def search_outlets(self, text: str, data_group: str, limit: int = 3) -> pl.DataFrame:
        """Outlets for the type-ahead of 01, biggest reach first: every word typed starts a word
        of the outlet's name (folded as the contact search folds, ``outlet_keys``), or
        text with ``@`` starts one of its own addresses. Columns: outlet_id, name, type, reach,
        country, opted_out."""
        text = (text or "").strip()
        if "@" in text:
            cond = ("ot.outlet_id IN (SELECT outlet_id FROM outlet_addresses"
                    " WHERE starts_with(email, ?))")
            params = [text.lower()]
        else:
            words = query_words(text)
            if not words or any(len(w) < 2 for w in words):  # one letter names no outlet
                return _no_outlets()
            cond, params = keys_condition("k.keys", text)
            self._ensure_search_index()
            cond = f"ot.outlet_id IN (SELECT k.outlet_id FROM outlet_keys k WHERE {cond})"
        return self.db.frame(
            "SELECT ot.outlet_id, ot.name, ot.type, ot.reach, ot.country,"
            " oo.outlet_id IS NOT NULL AS opted_out, ot.external_id FROM outlets ot"
            " LEFT JOIN outlet_optouts oo ON oo.outlet_id = ot.outlet_id AND oo.data_group = ?"
            f" WHERE {cond} ORDER BY ot.reach DESC NULLS LAST, ot.name, ot.outlet_id LIMIT ?",
            [data_group, *params, int(limit)])

    def opted_out_outlets(self, data_group: str, *, text: str | None = None,
                          sort_by: str = "name", descending: bool = False,
                          limit: int | None = 50) -> pl.DataFrame:
        """Every outlet opted out of the data group (filtered by name words). Columns:
        outlet_id, name, type, reach, country, source, actor, reason, with_contacts,
        opted_out_at, external_id (the team's id), addresses (its own), contacts_opted_out
        (with it)."""
        if sort_by not in OUTLET_SORTS:
            raise ValueError(f"cannot sort by {sort_by!r}; one of {', '.join(OUTLET_SORTS)}")
        cond, words = "", []
        if text and text.strip():
            self._ensure_search_index()
            cond, words = keys_condition("k.keys", text)
            cond = f" AND ot.outlet_id IN (SELECT k.outlet_id FROM outlet_keys k WHERE {cond})"
        tail = " LIMIT ?" if limit is not None else ""
        with self.db.connection() as con:
            page = con.sql(
                "SELECT ot.outlet_id, ot.name, ot.type, ot.reach, ot.country, oo.source,"
                " oo.actor, oo.reason, oo.with_contacts, oo.opted_out_at, oo.event_id,"
                " ot.external_id,"
                " (SELECT count(*) FROM outlet_addresses a WHERE a.outlet_id = ot.outlet_id)"
                " AS addresses"
                " FROM outlet_optouts oo JOIN outlets ot ON ot.outlet_id = oo.outlet_id"
                f" WHERE oo.data_group = ?{cond}"
                f" ORDER BY {OUTLET_SORTS[sort_by]} {'DESC' if descending else 'ASC'} NULLS LAST,"
                f" ot.outlet_id{tail}",
                params=[data_group, *words,
                        *([int(limit)] if limit is not None else [])]).pl()
            # the contact opt-outs made with each (their evidence names its event): the page's
            made = dict(con.execute(
                "SELECT json_extract(evidence, '$.outlet_event_id')::BIGINT, count(*) FROM events"
                " WHERE kind = 'opt_out' AND data_group = ?"
                " AND outlet_id IN (SELECT unnest(?::BIGINT[])) GROUP BY 1",
                [data_group, page["outlet_id"].to_list()]).fetchall()) if page.height else {}
        return page.with_columns(
            pl.col("event_id").replace_strict(made, default=0, return_dtype=pl.Int64)
            .alias("contacts_opted_out")).drop("event_id")

    def outlets_for_emails(self, emails: Iterable[str]) -> dict[str, int]:
        """address → the outlet whose own address it is, for many addresses at once."""
        wanted = sorted({normalise_email(e) for e in emails if e})
        if not wanted:
            return {}
        rows = self.db.rows(
            "SELECT email, outlet_id FROM outlet_addresses"
            " WHERE email IN (SELECT unnest(?::VARCHAR[]))", [wanted])
        return {r[0]: int(r[1]) for r in rows}


def _refresh_search(con, renamed: list[int]) -> None:
    """The outlets' keys, and the search index of the contacts at renamed outlets (their
    outlet's words are keys of theirs)."""
    rebuild_outlet_keys(con, renamed)
    if not renamed:
        return
    con.execute("CREATE OR REPLACE TEMP TABLE stage AS SELECT contact_id, NULL::VARCHAR AS email"
                " FROM contacts WHERE outlet_id IN (SELECT unnest(?::BIGINT[]))", [renamed])
    try:
        rebuild_search_tokens(con, only_staged=True)
    finally:
        con.execute("DROP TABLE stage")


def _no_outlets() -> pl.DataFrame:
    return pl.DataFrame(schema={"outlet_id": pl.Int64, "name": pl.String, "type": pl.String,
                                "reach": pl.Int64, "country": pl.String, "opted_out": pl.Boolean,
                                "external_id": pl.String})
