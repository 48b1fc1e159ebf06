"""Engagement per distribution: the import of a sending tool's export, the engagers, and adding
them to a media list.

Rows are keyed by address and resolved to contacts (the group's visible addresses) and outlets
(their own addresses) when read, so a contact imported later is found too. An address that is
neither is kept and counted as unknown by the import. Opens flagged ``prefetch`` (a privacy
proxy, not a reader) are left out of the engagement unless asked for.
"""

from __future__ import annotations

import pathlib
from collections.abc import Sequence

import polars as pl

from optdesk.engagement.exports import read_engagement
from optdesk.engagement.presets import Preset
from optdesk.store.base import utcnow
from optdesk.store.engagement_requests import plan_requests, requests_of
from optdesk.store.engagement_totals import ensure_totals, refresh_distribution

ENGAGER_SORTS = {
    "engagement": "clicks DESC, opens DESC, last_event DESC NULLS LAST",
    "reach": "reach DESC NULLS LAST, clicks DESC, opens DESC",
    "outlet": "outlet ASC NULLS LAST, clicks DESC, opens DESC",
    "last_event": "last_event DESC NULLS LAST",
}


class EngagementOps:
    """Mixin: engagement. Needs ``self.db`` and StoreBase."""

    def import_engagement(self, path: str | pathlib.Path, data_group: str, distribution: str,
                          preset: Preset, progress=None, actor: str = "engagement import") -> dict:
        """Import an export into one distribution of a data group (all or nothing; a re-import
        of the same export replaces its rows). Returns counts: rows, events (by kind),
        prefetch, skipped, unknown (the number of addresses that are no contact's or
        outlet's) and unknown_addresses (all of them, sorted), and what its unsubscribe and
        complaint rows did (``store/engagement_requests.py``): requests (applied now: per
        event, already, superseded) and opt_outs (new: contacts, outlets, addresses)."""
        say = progress or (lambda message: None)
        if not distribution or not distribution.strip():
            raise ValueError("a distribution name is required")
        rows, skipped = read_engagement(path, preset)
        say(f"read and checked {rows.height:,} rows from {path}")
        rows = rows.with_columns(pl.lit(utcnow()).cast(pl.Datetime("us")).alias("imported_at"))
        with self.db.transaction() as con:
            self._ensure_group(con, data_group)
            con.register("stage_engagement", rows)
            try:
                con.execute(
                    "DELETE FROM engagement_events e USING stage_engagement s"
                    " WHERE e.data_group = ? AND e.distribution = ? AND e.row_key = s.row_key",
                    [data_group, distribution])
                con.execute(
                    "INSERT INTO engagement_events (data_group, distribution, row_key, email,"
                    " event, occurred_at, n, url, user_agent, prefetch, imported_at)"
                    " SELECT ?, ?, row_key, email, event, occurred_at, n, url, user_agent,"
                    " prefetch, imported_at FROM stage_engagement", [data_group, distribution])
                unknown = [r[0] for r in con.execute(
                    "SELECT DISTINCT s.email FROM stage_engagement s"
                    " WHERE NOT EXISTS (SELECT 1 FROM visible_addresses(?) a"
                    "                   WHERE a.email = s.email)"
                    " AND NOT EXISTS (SELECT 1 FROM outlet_addresses o WHERE o.email = s.email)"
                    " ORDER BY 1", [data_group]).fetchall()]
            finally:
                con.unregister("stage_engagement")
            refresh_distribution(con, data_group, distribution)
            writes, asked = plan_requests(self, con, requests_of(rows), data_group,
                                          distribution, actor)
            result = self.apply_writes(writes)
        say("engagement written")
        kinds = rows.group_by("event").agg(pl.col("n").sum()).sort("event")
        return {"rows": rows.height, "events": dict(kinds.iter_rows()),
                "prefetch": int(rows["prefetch"].sum()), "skipped": skipped,
                "unknown": len(unknown), "unknown_addresses": unknown, "requests": asked,
                "opt_outs": {"contacts": len(result.opted_out),
                             "outlets": len(result.outlets_opted_out),
                             "addresses": len(result.suppressed)}}

    def distributions(self, data_group: str) -> pl.DataFrame:
        """The distributions of a data group: distribution, events, opens, clicks, last."""
        return self.db.frame(
            "SELECT distribution, sum(n) AS events,"
            " sum(n) FILTER (WHERE event = 'open' AND NOT prefetch) AS opens,"
            " sum(n) FILTER (WHERE event = 'click') AS clicks, max(occurred_at) AS last"
            " FROM engagement_events WHERE data_group = ? GROUP BY distribution"
            " ORDER BY last DESC NULLS LAST, distribution", [data_group])

    def engagers(self, data_group: str, distribution: str, *, event: str | None = None,
                 lists: Sequence[str] | None = None, sort_by: str = "engagement",
                 include_prefetch: bool = False, limit: int | None = None) -> pl.DataFrame:
        """Who opened or clicked (``event``: only those who did that), one row per contact,
        and one per outlet address that engaged. Columns: contact_id (null for an outlet's
        own address), external_id (the team's id), name, outlet, reach, email, opens, clicks,
        last_event, opted_out. ``lists``: only contacts in one of these media lists. Reads the
        totals the imports keep (``store/engagement_totals.py``); names and opt-outs of the rows
        returned are read by key."""
        if sort_by not in ENGAGER_SORTS:
            raise ValueError(f"cannot sort by {sort_by!r}; one of {', '.join(ENGAGER_SORTS)}")
        tail = " LIMIT ?" if limit is not None else ""
        with self.db.connection() as con:
            sql, params = self._engagers_sql(con, data_group, distribution, event, lists,
                                             include_prefetch)
            page = con.sql(
                f"SELECT contact_id, outlet, reach, email, opens, clicks, last_event FROM ({sql})"
                f" ORDER BY {ENGAGER_SORTS[sort_by]}, contact_id NULLS LAST, email{tail}",
                params=[*params, *([int(limit)] if limit is not None else [])]).pl()
            ids = page["contact_id"].drop_nulls().to_list()
            names, external, opted = {}, {}, set()
            if ids:
                found = con.execute(
                    "SELECT contact_id, name, external_id FROM contacts"
                    " WHERE contact_id IN (SELECT unnest(?::BIGINT[]))", [ids]).fetchall()
                names = {key: name for key, name, _ in found}
                external = {key: team_id for key, _, team_id in found}
                opted = {r[0] for r in con.execute(
                    "SELECT contact_id FROM optouts WHERE data_group = ?"
                    " AND contact_id IN (SELECT unnest(?::BIGINT[]))",
                    [data_group, ids]).fetchall()}
        return page.select(
            "contact_id",
            pl.col("contact_id").replace_strict(external, default=None, return_dtype=pl.String)
            .alias("external_id"),
            pl.col("contact_id").replace_strict(names, default=None, return_dtype=pl.String)
            .alias("name"),
            "outlet", "reach", "email", "opens", "clicks", "last_event",
            pl.col("contact_id").is_in(list(opted)).fill_null(False).alias("opted_out"))

    def engager_counts(self, data_group: str, distribution: str, *, event: str | None = None,
                       lists: Sequence[str] | None = None,
                       include_prefetch: bool = False) -> dict:
        """How many ``engagers`` there are: {"contacts": n, "outlet_addresses": n}."""
        with self.db.connection() as con:
            sql, params = self._engagers_sql(con, data_group, distribution, event, lists,
                                             include_prefetch)
            contacts, outlets = con.execute(
                f"SELECT count(contact_id), count(*) - count(contact_id) FROM ({sql})",
                params).fetchall()[0]
        return {"contacts": int(contacts), "outlet_addresses": int(outlets)}

    def engager_ids(self, data_group: str, distribution: str, *, event: str | None = None,
                    lists: Sequence[str] | None = None,
                    include_prefetch: bool = False) -> list[int]:
        """The contact ids of every ``engagers`` row (to add them all to a list)."""
        with self.db.connection() as con:
            sql, params = self._engagers_sql(con, data_group, distribution, event, lists,
                                             include_prefetch)
            rows = con.execute(f"SELECT contact_id FROM ({sql}) WHERE contact_id IS NOT NULL"
                               " ORDER BY contact_id", params).fetchall()
        return [int(r[0]) for r in rows]

    def _engagers_sql(self, con, data_group: str, distribution: str, event: str | None,
                      lists: Sequence[str] | None, include_prefetch: bool) -> tuple[str, list]:
        """The engagers of one distribution as a subquery with its parameters (one definition
        for the page, the counts and the ids)."""
        if event not in (None, "open", "click"):
            raise ValueError(f"event must be open or click, not {event!r}")
        ensure_totals(con)
        opens = "opens + proxy_opens" if include_prefetch else "opens"
        last = "last_any" if include_prefetch else "last_event"
        where = {"open": " AND opens > 0", "click": " AND clicks > 0"}.get(event or "", "")
        params: list = [data_group, distribution]
        if lists:
            ids = [r[0] for r in con.execute(
                "SELECT list_id FROM media_lists WHERE data_group = ? AND list_contains(?, name)"
                " ORDER BY 1", [data_group, list(lists)]).fetchall()]
            # the list ids as values (not a subquery): list_members is read by zone maps
            where += (" AND contact_id IN (SELECT contact_id FROM list_members WHERE list_id IN"
                      f" ({', '.join('?' for _ in ids) or 'NULL'}))")
            params += ids
        return (f"SELECT * FROM (SELECT contact_id, outlet, reach, email, {opens} AS opens,"
                f" clicks, {last} AS last_event FROM engagers"
                " WHERE data_group = ? AND distribution = ?)"
                f" WHERE opens + clicks > 0{where}"), params

    def add_to_list(self, data_group: str, name: str, contact_ids: Sequence[int]) -> dict:
        """Add contacts to the group's media list ``name`` (created when absent). Returns
        {"list_id", "created": bool, "added": n new members}."""
        if not name or not name.strip():
            raise ValueError("a list name is required")
        name = name.strip()
        ids = sorted({int(c) for c in contact_ids if c is not None})
        with self.db.transaction() as con:
            self._ensure_group(con, data_group)
            found = con.execute("SELECT list_id FROM media_lists WHERE data_group = ? AND name = ?",
                                [data_group, name]).fetchall()
            created = not found
            if created:
                list_id = con.execute(
                    "INSERT INTO media_lists SELECT coalesce(max(list_id), 0) + 1, ?, ?, ?"
                    " FROM media_lists RETURNING list_id", [data_group, name, utcnow()]
                ).fetchall()[0][0]
            else:
                list_id = found[0][0]
            added = con.execute(
                "INSERT INTO list_members SELECT ?, c FROM (SELECT unnest(?::BIGINT[]) AS c) s"
                " WHERE EXISTS (SELECT 1 FROM contacts k WHERE k.contact_id = s.c)"
                " AND NOT EXISTS (SELECT 1 FROM list_members m WHERE m.list_id = ?"
                " AND m.contact_id = s.c) RETURNING contact_id", [list_id, ids, list_id]
            ).fetchall()
        return {"list_id": int(list_id), "created": created, "added": len(added)}

