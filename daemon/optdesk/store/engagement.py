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

ENGAGER_SORTS = {
    "engagement": "clicks DESC, opens DESC, last_event DESC NULLS LAST",
    "reach": "reach DESC NULLS LAST, clicks DESC, opens DESC",
    "outlet": "outlet ASC NULLS LAST, clicks DESC, opens DESC",
    "last_event": "last_event DESC NULLS LAST",
}


class EngagementOps:
    """Mixin: engagement. Needs ``self.db`` and StoreBase."""

    def import_engagement(self, path: str | pathlib.Path, data_group: str, distribution: str,
                          preset: Preset, progress=None) -> dict:
        """Import an export into one distribution of a data group (all or nothing; a re-import
        of the same export replaces its rows). Returns counts: rows, events (by kind),
        prefetch, skipped, unknown (the number of addresses that are no contact's or
        outlet's) and unknown_addresses (all of them, sorted)."""
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
        say("engagement written")
        kinds = rows.group_by("event").agg(pl.col("n").sum()).sort("event")
        return {"rows": rows.height, "events": dict(kinds.iter_rows()),
                "prefetch": int(rows["prefetch"].sum()), "skipped": skipped,
                "unknown": len(unknown), "unknown_addresses": unknown}

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
        own address), external_id (the team's id), name, outlet, reach, email, opens, clicks, last_event, opted_out.
        ``lists``: only contacts in one of these media lists."""
        if sort_by not in ENGAGER_SORTS:
            raise ValueError(f"cannot sort by {sort_by!r}; one of {', '.join(ENGAGER_SORTS)}")
        if event not in (None, "open", "click"):
            raise ValueError(f"event must be open or click, not {event!r}")
        having = {"open": " WHERE opens > 0", "click": " WHERE clicks > 0"}.get(event or "",
                                                                             "")
        params: list = [data_group, distribution, include_prefetch, data_group, data_group]
        in_lists = ""
        if lists:
            in_lists = (" AND r.contact_id IN (SELECT m.contact_id FROM list_members m"
                        " JOIN media_lists l USING (list_id) WHERE l.data_group = ?"
                        " AND list_contains(?, l.name))")
            params += [data_group, list(lists)]
        tail = " LIMIT ?" if limit is not None else ""
        params += [int(limit)] if limit is not None else []
        return self.db.frame(f"""
            WITH e AS (
                SELECT email, sum(n) FILTER (WHERE event = 'open') AS opens,
                       sum(n) FILTER (WHERE event = 'click') AS clicks,
                       max(occurred_at) AS last_event
                FROM engagement_events
                WHERE data_group = ? AND distribution = ? AND event IN ('open', 'click')
                  AND (NOT prefetch OR ?)
                GROUP BY email),
            owners AS (SELECT DISTINCT email, contact_id FROM visible_addresses(?)),
            r AS (
                SELECT o.contact_id, min(e.email) AS email,
                       coalesce(sum(e.opens), 0) AS opens, coalesce(sum(e.clicks), 0) AS clicks,
                       max(e.last_event) AS last_event
                FROM e JOIN owners o USING (email) GROUP BY o.contact_id),
            rows AS (
                SELECT r.contact_id, c.external_id, c.name, ot.name AS outlet, c.reach, r.email, r.opens,
                       r.clicks, r.last_event, op.contact_id IS NOT NULL AS opted_out
                FROM r JOIN contacts c ON c.contact_id = r.contact_id
                LEFT JOIN outlets ot ON ot.outlet_id = c.outlet_id
                LEFT JOIN optouts op ON op.contact_id = r.contact_id AND op.data_group = ?
                WHERE true{in_lists}
                UNION ALL
                SELECT NULL, NULL, NULL, ot.name, ot.reach, e.email, coalesce(e.opens, 0),
                       coalesce(e.clicks, 0), e.last_event, false
                FROM e JOIN outlet_addresses oa USING (email)
                JOIN outlets ot ON ot.outlet_id = oa.outlet_id
                WHERE {"false" if lists else "true"})
            SELECT * FROM rows{having}
            ORDER BY {ENGAGER_SORTS[sort_by]}, contact_id NULLS LAST, email{tail}
        """, params)

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

