"""Opt-outs per (contact, data group), the suppression list and the audit log."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

import polars as pl

from optdesk.errors import NotFound
from optdesk.store.base import normalise_email, utcnow
from optdesk.store.search import TOP_KEY, query_words
from optdesk.store.writes import Writes

SORTS = {
    "name": "c.name",
    "outlet": "ot.name",
    "reach": "c.reach",
    "opted_out_at": "o.opted_out_at",
    "source": "o.source",
    "country": "c.country",
    "language": "c.language",
}

# a filtered set up to this size is sorted and cut in one pass; a bigger one (everyone opted out
# of a large group) sorts narrow rows (id, sort key) first and fetches the page's columns after
SINGLE_PASS = 20_000


def _in(column: str, values: Sequence) -> tuple[str, list]:
    return f"{column} IN ({', '.join('?' for _ in values)})", list(values)


class OptOutOps:
    """Mixin: the opt-out record. Needs ``self.db`` and StoreBase's ``_event``/``_ensure_group``."""

    def opt_out(
        self,
        contact_id: int,
        data_group: str,
        *,
        source: str,
        actor: str,
        reason: str | None = None,
        evidence: Any = None,
        at: dt.datetime | None = None,
        message_hash: str | None = None,
    ) -> bool:
        """Opt a contact out of mail from one data group: all its system and that group's private
        addresses. Returns True when the state changed; a contact already opted out (from any
        source) is left as it is and no event is added.
        """
        writes = Writes()
        writes.add_opt_out(contact_id, data_group, source=source, reason=reason,
                           evidence=evidence, message_hash=message_hash, actor=actor)
        result = self.apply_writes(writes, at=at)
        if result.missing_contacts:
            raise NotFound(f"no contact with id {contact_id}")
        return bool(result.opted_out)

    def opt_in(
        self,
        contact_id: int,
        data_group: str,
        *,
        source: str,
        actor: str,
        reason: str | None = None,
        evidence: Any = None,
        invitation_id: int | None = None,
        message_hash: str | None = None,
    ) -> bool:
        """Lift a contact's opt-out in one data group. Returns False when there was none."""
        with self.db.transaction() as con:
            deleted = con.execute(
                "DELETE FROM optouts WHERE contact_id = ? AND data_group = ? RETURNING contact_id",
                [int(contact_id), data_group],
            ).fetchall()
            if not deleted:
                return False
            self._event(
                con, "opt_in", actor=actor, contact_id=int(contact_id), data_group=data_group,
                source=source, reason=reason, evidence=evidence, invitation_id=invitation_id,
                message_hash=message_hash,
            )
        return True

    def suppress_address(
        self, email: str, data_group: str, *, source: str, actor: str,
        reason: str | None = None, evidence: Any = None, message_hash: str | None = None,
    ) -> bool:
        """Suppress one address that belongs to no contact (e.g. an opt-out from a stranger).
        True when it was not suppressed in that data group before."""
        writes = Writes()
        writes.add_suppression(email, data_group, source=source, reason=reason,
                               evidence=evidence, message_hash=message_hash, actor=actor)
        return bool(self.apply_writes(writes).suppressed)

    def opted_out(
        self,
        data_group: str,
        *,
        lists: Sequence[str | int] | None = None,
        outlets: Sequence[str] | None = None,
        sources: Sequence[str] | None = None,
        since: dt.datetime | dt.date | None = None,
        until: dt.datetime | dt.date | None = None,
        countries: Sequence[str] | None = None,
        languages: Sequence[str] | None = None,
        text: str | None = None,
        engaged_within_days: int | None = None,
        sort_by: str = "name",
        descending: bool = False,
        limit: int | None = 50,
        offset: int = 0,
    ) -> pl.DataFrame:
        """Everyone opted out of the data group, filtered (filters combine) and sorted.

        Columns: contact_id (the internal key), external_id (the team's id), name, outlet, reach,
        title, country, language, source, actor, reason, opted_out_at, last_engaged (the last
        open or click of any distribution of the group, privacy-proxy opens not counted), total
        (the count of all matching rows, before limit/offset). ``until`` given as a date includes
        that whole day; ``engaged_within_days``: only those who opened or clicked in the last N days.
        ``text``: every word starts a word of the contact's name or of its outlet, folded as the
        contact search folds (``optdesk.store.search``: "soren", "mueller", "o'brien").
        """
        if sort_by not in SORTS:
            raise ValueError(f"cannot sort by {sort_by!r}; one of {', '.join(SORTS)}")
        if text and text.strip():
            self._ensure_search_index()
        where, params = self._opted_out_filters(
            data_group, lists, outlets, sources, since, until, countries, languages, text
        )
        if engaged_within_days is not None:
            where.append("o.contact_id IN (SELECT contact_id FROM engagers WHERE data_group = ?"
                         " AND last_event >= ?)")
            params += [data_group, utcnow() - dt.timedelta(days=int(engaged_within_days))]
        with self.db.connection():
            page, total = self._opted_out_page(
                where, params, data_group, SORTS[sort_by], "DESC" if descending else "ASC",
                limit, offset, on_contacts=bool(outlets or countries or languages))
            engaged = self.last_engaged(page["contact_id"].to_list(), data_group)
        return page.with_columns(
            pl.col("contact_id").replace_strict(engaged, default=None,
                                                return_dtype=pl.Datetime("us"))
            .alias("last_engaged"),
            pl.lit(total, dtype=pl.Int64).alias("total"))

    def _opted_out_page(self, where: list[str], params: list, data_group: str, key: str,
                        direction: str, limit: int | None, offset: int, *,
                        on_contacts: bool) -> tuple[pl.DataFrame, int]:
        """(the rows of one page, or all with ``limit`` None; the count of all matching).

        Filters on the opt-outs alone need no contact row to count, and a few such rows are
        sorted in one pass; a filter on the contacts' columns (``on_contacts``), or many rows,
        sort narrow rows first (DuckDB scans the contacts first for such a filter)."""
        matching = (
            " FROM optouts o JOIN contacts c ON c.contact_id = o.contact_id"
            " LEFT JOIN outlets ot ON ot.outlet_id = c.outlet_id"
            f" WHERE {' AND '.join(where)}"
        )
        whole = f"{_COLUMNS}{matching} ORDER BY {key} {direction} NULLS LAST, c.contact_id"
        if limit is None:
            page = self.db.frame(whole, params)
            return page, page.height
        counted = matching if on_contacts else f" FROM optouts o WHERE {' AND '.join(where)}"
        total = self.db.scalar(f"SELECT count(*){counted}", params)
        if not on_contacts and total <= SINGLE_PASS:
            return self.db.frame(f"{whole} LIMIT ? OFFSET ?",
                                 [*params, int(limit), int(offset)]), total
        return self.db.frame(_page_sql(matching, key, direction),
                             [*params, int(limit), int(offset), data_group]), total

    def last_engaged(self, contact_ids, data_group: str) -> dict[int, dt.datetime]:
        """contact → its last open or click in any distribution of the group (``engagers``)."""
        ids = sorted({int(i) for i in contact_ids})
        if not ids:
            return {}
        rows = self.db.rows(
            "SELECT contact_id, max(last_event) FROM engagers WHERE data_group = ?"
            " AND contact_id IN (SELECT unnest(?::BIGINT[])) AND last_event IS NOT NULL"
            " GROUP BY 1", [data_group, ids])
        return {int(r[0]): r[1] for r in rows}

    @staticmethod
    def _opted_out_filters(data_group, lists, outlets, sources, since, until, countries,
                           languages, text) -> tuple[list[str], list]:
        where, params = ["o.data_group = ?"], [data_group]
        if lists:
            names = [x for x in lists if isinstance(x, str)]
            ids = [int(x) for x in lists if not isinstance(x, str)]
            conds, lparams = [], []
            if names:
                c, p = _in("l.name", names)
                conds.append(c)
                lparams += p
            if ids:
                c, p = _in("l.list_id", ids)
                conds.append(c)
                lparams += p
            where.append(
                "o.contact_id IN (SELECT m.contact_id FROM list_members m"
                " JOIN media_lists l ON l.list_id = m.list_id"
                f" WHERE l.data_group = ? AND ({' OR '.join(conds)}))"
            )
            params += [data_group, *lparams]
        for column, values in (("ot.name", outlets), ("o.source", sources),
                               ("c.country", countries), ("c.language", languages)):
            if values:
                c, p = _in(column, values)
                where.append(c)
                params += p
        if since is not None:
            where.append("o.opted_out_at >= ?")
            params.append(_start(since))
        if until is not None:
            where.append("o.opted_out_at < ?" if _is_date(until) else "o.opted_out_at <= ?")
            params.append(_start(until) + dt.timedelta(days=1) if _is_date(until) else until)
        for word in query_words(text or ""):  # each starts a word of the name or the outlet
            where.append("o.contact_id IN (SELECT contact_id FROM search_tokens"
                         " WHERE token >= ? AND token < ?)")
            params += [word, word + TOP_KEY]
        return where, params

    def is_suppressed(self, email: str, data_group: str) -> bool:
        """True when this data group must not mail this address: the address is a row of
        ``suppressions(data_group)`` (one definition, the ``suppressed`` macro)."""
        return bool(self.db.scalar(
            "SELECT EXISTS (SELECT 1 FROM suppressed(?) WHERE email = ?)",
            [data_group, normalise_email(email)]))

    def suppressions(self, data_group: str) -> pl.DataFrame:
        """Every address this data group must not mail: columns email, reason."""
        return self.db.frame("SELECT email, reason FROM suppressed(?) ORDER BY email", [data_group])

    def events(
        self, contact_id: int | None = None, data_group: str | None = None,
        kinds: Sequence[str] | None = None, limit: int | None = None,
        outlet_id: int | None = None,
    ) -> pl.DataFrame:
        """The append-only audit log, newest first (``outlet_id``: the events of one outlet:
        its own opt-out and opt-in, and the contact opt-outs made with it)."""
        where, params = ["true"], []
        if contact_id is not None:
            where.append("contact_id = ?")
            params.append(int(contact_id))
        if data_group is not None:
            where.append("data_group = ?")
            params.append(data_group)
        if outlet_id is not None:
            where.append("outlet_id = ?")
            params.append(int(outlet_id))
        if kinds:
            c, p = _in("kind", kinds)
            where.append(c)
            params += p
        tail = ""
        if limit is not None:
            tail = " LIMIT ?"
            params.append(int(limit))
        return self.db.frame(
            "SELECT event_id, occurred_at, kind, contact_id, data_group, email, source, actor, reason,"
            " evidence, message_hash, invitation_id, outlet_id FROM events"
            f" WHERE {' AND '.join(where)} ORDER BY event_id DESC{tail}",
            params,
        )


_COLUMNS = (
    "SELECT c.contact_id, c.external_id, c.name, ot.name AS outlet, c.reach, c.title,"
    " c.country, c.language, o.source, o.actor, o.reason, o.opted_out_at"
)


def _page_sql(matching: str, key: str, direction: str) -> str:
    """One page: sort and cut on narrow rows (id and sort key), then fetch those rows' columns."""
    return (
        f"WITH page AS (SELECT o.contact_id, {key} AS k{matching}"
        f" ORDER BY {key} {direction} NULLS LAST, c.contact_id LIMIT ? OFFSET ?)"
        f" {_COLUMNS} FROM page JOIN optouts o ON o.contact_id = page.contact_id"
        " AND o.data_group = ? JOIN contacts c ON c.contact_id = page.contact_id"
        " LEFT JOIN outlets ot ON ot.outlet_id = c.outlet_id"
        f" ORDER BY page.k {direction} NULLS LAST, page.contact_id"
    )


def _is_date(value) -> bool:
    return isinstance(value, dt.date) and not isinstance(value, dt.datetime)


def _start(value) -> dt.datetime:
    if _is_date(value):
        return dt.datetime(value.year, value.month, value.day)
    return value
