"""What the analysts' notebooks need beyond the core API: filter choices, list edits, exports."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from optdesk.errors import NotFound
from optdesk.store.base import PRIMARY_EMAIL
from optdesk.store.contact_ids import for_people
from optdesk.store.search import keys_condition


class AdminQueries:
    """Mixin: choices for the notebook filters, removing contacts from a media list."""

    def outlets(self, data_group: str | None = None, text: str | None = None,
                limit: int | None = 50) -> list[str]:
        """Outlet names each word of ``text`` starts a word of (folded as the contact search
        folds, ``optdesk.store.search``), by name.

        With ``data_group``: only outlets of contacts opted out of that group.
        """
        where, params = ["true"], []
        if data_group is not None:
            where.append("o.outlet_id IN (SELECT c.outlet_id FROM optouts x"
                         " JOIN contacts c ON c.contact_id = x.contact_id WHERE x.data_group = ?)")
            params.append(data_group)
        if text and text.strip():
            self._ensure_search_index()
            cond, words = keys_condition("k.keys", text)
            where.append(f"o.outlet_id IN (SELECT k.outlet_id FROM outlet_keys k WHERE {cond})")
            params += words
        tail = ""
        if limit is not None:
            tail = " LIMIT ?"
            params.append(int(limit))
        rows = self.db.rows(
            f"SELECT DISTINCT o.name FROM outlets o WHERE {' AND '.join(where)}"
            f" ORDER BY o.name{tail}",
            params,
        )
        return [r[0] for r in rows]

    def countries(self) -> list[str]:
        """Every country code that some contact has, sorted."""
        return [r[0] for r in self.db.rows(
            "SELECT DISTINCT country FROM contacts WHERE country IS NOT NULL AND country <> ''"
            " ORDER BY 1"
        )]

    def languages(self) -> list[str]:
        """Every language code that some contact has, sorted."""
        return [r[0] for r in self.db.rows(
            "SELECT DISTINCT language FROM contacts WHERE language IS NOT NULL AND language <> ''"
            " ORDER BY 1"
        )]

    def opted_out_contacts(self, data_group: str, contact_ids: Sequence[int]) -> pl.DataFrame:
        """The opted-out rows (as ``opted_out`` gives them, without ``total``) of these contacts."""
        ids = sorted({int(i) for i in contact_ids})
        rows = self.db.frame(
            "SELECT c.contact_id, c.external_id, c.name, ot.name AS outlet, c.reach, c.title,"
            " c.country, c.language, o.source, o.actor, o.reason, o.opted_out_at"
            " FROM optouts o JOIN contacts c ON c.contact_id = o.contact_id"
            " LEFT JOIN outlets ot ON ot.outlet_id = c.outlet_id"
            " WHERE o.data_group = ? AND o.contact_id IN (SELECT unnest(?::BIGINT[]))"
            " ORDER BY c.name, c.contact_id",
            [data_group, ids],
        )
        engaged = self.last_engaged(rows["contact_id"].to_list(), data_group)
        return rows.with_columns(pl.col("contact_id").replace_strict(
            engaged, default=None, return_dtype=pl.Datetime("us")).alias("last_engaged"))

    def opted_out_export(self, data_group: str, contact_ids: Sequence[int]) -> pl.DataFrame:
        """The rows of an analyst's export: the opted-out rows of ``opted_out_contacts``, with
        the contact's primary address and every address the group sees (``;``-separated), times
        as ISO 8601 text in UTC (``2026-11-30T14:05:00Z``); the contact named by the team's id
        (``contact_ids.for_people``)."""
        ids = pl.DataFrame({"contact_id": sorted({int(i) for i in contact_ids})},
                           schema={"contact_id": pl.Int64})
        # the ids as a registered frame: joining 100,000 of them is 3x faster than a list
        # parameter (0.5 s against 1.5 s on the 1 M demo store)
        with self.db.connection() as con:
            con.register("export_ids", ids)
            try:
                frame = con.sql(
                    f"WITH mail AS (SELECT contact_id, {PRIMARY_EMAIL} AS email,"
                    "   string_agg(email, '; ' ORDER BY is_primary DESC, kind DESC, email)"
                    "   AS addresses FROM visible_addresses($1)"
                    "   WHERE contact_id IN (SELECT contact_id FROM export_ids)"
                    "   GROUP BY contact_id)"
                    " SELECT c.contact_id, c.external_id, c.name, m.email, m.addresses,"
                    " ot.name AS outlet, c.reach, c.title, c.country, c.language, o.source,"
                    " o.actor, o.reason,"
                    " strftime(o.opted_out_at, '%Y-%m-%dT%H:%M:%SZ') AS opted_out_at"
                    " FROM optouts o JOIN contacts c ON c.contact_id = o.contact_id"
                    " LEFT JOIN outlets ot ON ot.outlet_id = c.outlet_id"
                    " LEFT JOIN mail m ON m.contact_id = o.contact_id"
                    " WHERE o.data_group = $1"
                    " AND o.contact_id IN (SELECT contact_id FROM export_ids)"
                    " ORDER BY c.name, c.contact_id",
                    params=[data_group],
                ).pl()
            finally:
                con.unregister("export_ids")
        return for_people(frame)

    def remove_from_list(
        self, media_list: str | int, contact_ids: Sequence[int], data_group: str, *,
        actor: str, reason: str | None = None,
    ) -> int:
        """Remove contacts from a media list of the data group, one event each.

        ``media_list`` is a list id or name. Returns how many memberships were removed; contacts
        not on the list are skipped. Raises NotFound when the list is not in the data group.
        """
        ids = sorted({int(i) for i in contact_ids})
        with self.db.transaction() as con:
            list_id, name = self._find_list(con, media_list, data_group)
            removed = con.execute(
                "DELETE FROM list_members WHERE list_id = ?"
                " AND contact_id IN (SELECT unnest(?::BIGINT[])) RETURNING contact_id",
                [list_id, ids],
            ).fetchall()
            for contact_id in sorted({int(r[0]) for r in removed}):
                self._event(
                    con, "list_member_removed", actor=actor, contact_id=contact_id,
                    data_group=data_group, reason=reason,
                    evidence={"list_id": list_id, "list": name},
                )
        return len({r[0] for r in removed})

    @staticmethod
    def _find_list(con, media_list: str | int, data_group: str) -> tuple[int, str]:
        if isinstance(media_list, str):
            rows = con.execute(
                "SELECT list_id, name FROM media_lists WHERE data_group = ? AND name = ?"
                " ORDER BY list_id LIMIT 1", [data_group, media_list],
            ).fetchall()
        else:
            rows = con.execute(
                "SELECT list_id, name FROM media_lists WHERE data_group = ? AND list_id = ?",
                [data_group, int(media_list)],
            ).fetchall()
        if not rows:
            raise NotFound(f"no media list {media_list!r} in data group {data_group!r}")
        return int(rows[0][0]), str(rows[0][1])
