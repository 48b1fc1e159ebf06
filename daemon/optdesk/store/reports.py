"""Report queries: opt-outs, bounces and invitations per media list, trends, the compliance clock.

Every query takes a data group and a half-open period ``[start, end)`` of naive UTC timestamps
and returns a polars frame. ``report_tables`` runs them all on one connection.

How: one pass over the sparse sources (opt-outs, events, deliverability, invitations) writes a
narrow temporary table of (contact, metric, count), only for contacts with something to count;
the 5 M-row membership table is then joined to it once, and counted once per list.

Definitions (docs/reports.md says the same for readers):

- members: rows of ``list_members`` for the list; opted_out: members with a current opt-out in
  the data group; opt_out_rate = opted_out / members.
- new opt-outs / opt-ins: ``opt_out`` / ``opt_in`` events of the data group in the period (an
  opt-out later lifted still counts as new in its period), for members of the list.
- bounces: ``bounce_hard`` / ``bounce_soft`` events in the period whose data group is this one or
  unset; a bounce event without a contact is matched to contacts by its address.
- undeliverable: members' addresses (system, or private to this group) marked undeliverable now.
- invitations: sent (``sent_at`` in the period) and accepted (status ``accepted``, ``answered_at``
  in the period) in this data group.
- compliance clock, per channel (source): for opt-out events in the period linked to a message
  (``message_hash``), the seconds from the message's ``received_at`` to the event's
  ``occurred_at``; for one-click unsubscribes (``one_click_requests`` applied in the period),
  from the HTTP request to the commit. Median and 95th percentile interpolate linearly between
  ranks (like ``quantile_cont``). Gmail and Yahoo ask for an opt-out honoured within two days.
- incidents: sending incidents (bounces whose reason is on our side or on the way: block lists,
  SPF/DKIM/DMARC, reverse DNS, rate, content, the network) received in the period, for this data
  group or none, per provider and reason: messages, recipients, first and last, the commonest
  status and reply code, the last diagnostic. They count against no contact.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from optdesk.store.base import SOURCES
from optdesk.store.incidents import summary as incident_summary
from optdesk.store.report_engagement import engagement_tables, with_list_engagement

PER_CONTACT_COLUMNS = (
    "opted_out", *(f"new_{s}" for s in SOURCES), "new_opt_outs", "opt_ins",
    "bounces_hard", "bounces_soft", "undeliverable_addresses",
    "invitations_sent", "invitations_accepted",
)
FACTS_TABLE = "report_facts"
BITSTRING_LIMIT = 200_000_000  # widest contact-id range counted with a bitstring (25 MB)

# (contact_id, metric, n) from every sparse source. Parameters: _facts_params.
_FACTS = f"""
CREATE OR REPLACE TEMP TABLE {FACTS_TABLE} AS
SELECT contact_id, metric, count(*)::BIGINT AS n
FROM (
    SELECT contact_id, 'opted_out' AS metric FROM optouts WHERE data_group = ?
    UNION ALL
    SELECT contact_id, CASE WHEN kind = 'opt_in' THEN 'opt_ins' ELSE 'new_' || source END
    FROM events
    WHERE data_group = ? AND kind IN ('opt_out', 'opt_in') AND occurred_at >= ?
      AND occurred_at < ? AND contact_id IS NOT NULL
    UNION ALL
    SELECT contact_id, 't' || floor(epoch(occurred_at - ?::TIMESTAMP) / ?)::BIGINT
    FROM events
    WHERE data_group = ? AND kind = 'opt_out' AND occurred_at >= ? AND occurred_at < ?
      AND contact_id IS NOT NULL
    UNION ALL
    SELECT coalesce(e.contact_id, a.contact_id), replace(e.kind, 'bounce_', 'bounces_')
    FROM events e
    LEFT JOIN visible_addresses(?) a ON e.contact_id IS NULL AND a.email = e.email
    WHERE e.kind IN ('bounce_hard', 'bounce_soft') AND e.occurred_at >= ? AND e.occurred_at < ?
      AND (e.data_group = ? OR e.data_group IS NULL OR e.data_group = '')
    UNION ALL
    SELECT DISTINCT a.contact_id, a.email AS metric
    FROM deliverability d JOIN visible_addresses(?) a ON a.email = d.email
    WHERE d.undeliverable
    UNION ALL
    SELECT contact_id, unnest(list_value(
        CASE WHEN sent_at >= ? AND sent_at < ? THEN 'invitations_sent' END,
        CASE WHEN status = 'accepted' AND answered_at >= ? AND answered_at < ?
             THEN 'invitations_accepted' END))
    FROM invitations
    WHERE data_group = ? AND ((sent_at >= ? AND sent_at < ?) OR (answered_at >= ? AND answered_at < ?))
)
WHERE contact_id IS NOT NULL AND metric IS NOT NULL
GROUP BY ALL
"""
# undeliverable addresses come out as one row per (contact, address): metric is the address
_METRIC = "CASE WHEN f.metric LIKE '%@%' THEN 'undeliverable_addresses' ELSE f.metric END"


def _facts_params(group: str, start: dt.datetime, end: dt.datetime, first: dt.datetime,
                  seconds: float) -> list:
    return [group, group, start, end, first, seconds, group, first, end,
            group, start, end, group, group,
            start, end, start, end, group, start, end, start, end]


_PER_LIST = f"""
WITH lists AS (SELECT list_id FROM media_lists WHERE data_group = ?)
SELECT m.list_id, {_METRIC} AS metric, sum(f.n)::BIGINT AS n
FROM list_members m SEMI JOIN lists l USING (list_id)
JOIN {FACTS_TABLE} f USING (contact_id)
GROUP BY ALL
"""

_MEMBERS = """
WITH lists AS (SELECT list_id FROM media_lists WHERE data_group = ?)
SELECT m.list_id, count(*)::BIGINT AS members
FROM list_members m SEMI JOIN lists l USING (list_id) GROUP BY m.list_id
"""

_GROUP_TOTALS = f"""
SELECT {_METRIC} AS metric, sum(f.n)::BIGINT AS n FROM {FACTS_TABLE} f GROUP BY ALL
UNION ALL
SELECT 'opted_out_in_lists', count(DISTINCT f.contact_id)
FROM list_members m SEMI JOIN (SELECT list_id FROM media_lists WHERE data_group = ?) l
     USING (list_id)
JOIN {FACTS_TABLE} f ON f.contact_id = m.contact_id AND f.metric = 'opted_out'
"""

_TREND = f"""
SELECT floor(epoch(occurred_at - ?::TIMESTAMP) / ?)::BIGINT AS period,
       {", ".join(f"count(*) FILTER (WHERE kind = 'opt_out' AND source = '{s}') AS {s}"
                  for s in SOURCES)},
       count(*) FILTER (WHERE kind = 'opt_out') AS opt_outs,
       count(*) FILTER (WHERE kind = 'opt_in') AS opt_ins
FROM events
WHERE data_group = ? AND kind IN ('opt_out', 'opt_in') AND occurred_at >= ? AND occurred_at < ?
GROUP BY period
"""

_COMPLIANCE = """
WITH d AS (
    SELECT e.source, epoch(e.occurred_at - m.received_at) AS seconds
    FROM events e JOIN messages m ON m.message_hash = e.message_hash
    WHERE e.data_group = ? AND e.kind = 'opt_out' AND e.occurred_at >= ? AND e.occurred_at < ?
      AND m.received_at IS NOT NULL
    UNION ALL
    SELECT 'one_click', epoch(applied_at - requested_at)
    FROM one_click_requests
    WHERE data_group = ? AND outcome = 'applied' AND applied_at >= ? AND applied_at < ?
)
SELECT source, count(*) AS opt_outs, median(seconds)::DOUBLE AS median_seconds,
       quantile_cont(seconds, 0.95)::DOUBLE AS p95_seconds, max(seconds)::DOUBLE AS max_seconds
FROM d GROUP BY GROUPING SETS ((source), ())
ORDER BY source NULLS LAST
"""


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> pl.DataFrame:
    return con.sql(sql, params=params).pl()


def _contacts_in_lists(con: duckdb.DuckDBPyConnection, data_group: str) -> int:
    """Distinct contacts in the group's lists: a bitstring over the id range when it is
    narrow enough (4x cheaper than a hash of 1 M ids), else count(DISTINCT)."""
    low, high = con.execute("SELECT min(contact_id), max(contact_id) FROM list_members").fetchall()[0]
    lists = "(SELECT list_id FROM media_lists WHERE data_group = ?)"
    if low is None:
        return 0
    if high - low < BITSTRING_LIMIT:
        expr = f"bit_count(bitstring_agg(m.contact_id, {int(low)}, {int(high)}))"
    else:
        expr = "count(DISTINCT m.contact_id)"
    sql = f"SELECT coalesce({expr}, 0) FROM list_members m SEMI JOIN {lists} l USING (list_id)"
    return int(con.execute(sql, [data_group]).fetchall()[0][0])


class ReportQueries:
    """Mixin: the report's tables. Needs ``self.db``. Each public method is one unit of work;
    ``report_tables`` shares the per-contact facts between the tables that need them."""

    def report_lists(self, data_group: str, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
        """One row per media list of the group; see the module docstring for each column."""
        return self.report_tables(data_group, start, end, 1)["lists"]

    def report_summary(self, data_group: str, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
        """One row for the whole group: the lists' columns counted once per contact, plus
        ``lists``, ``contacts_in_lists`` and ``opted_out_in_lists``."""
        return self.report_tables(data_group, start, end, 1)["summary"]

    def report_trend(
        self, data_group: str, end: dt.datetime, period: dt.timedelta, periods: int
    ) -> pl.DataFrame:
        """Opt-outs per source and opt-ins in each of the ``periods`` periods ending at ``end``,
        oldest first: period_start, period_end, reply, manual, list_unsubscribe, complaint,
        opt_outs, opt_ins (zeros included)."""
        with self.db.connection() as con:
            return _trend(con, data_group, end, period, periods)

    def report_list_trend(
        self, data_group: str, end: dt.datetime, period: dt.timedelta, periods: int
    ) -> pl.DataFrame:
        """New opt-outs per list and period (long form, only non-zero rows): list_id,
        period_start, opt_outs."""
        return self.report_tables(data_group, end - period, end, periods)["list_trend"]

    def report_compliance(
        self, data_group: str, start: dt.datetime, end: dt.datetime
    ) -> pl.DataFrame:
        """The compliance clock per channel (the source of message-linked opt-outs, and
        ``one_click``: request to applied), and a row with source null for all of them: source, opt_outs, median_seconds, p95_seconds, max_seconds."""
        with self.db.connection() as con:
            return _frame(con, _COMPLIANCE, [data_group, start, end] * 2)

    def report_tables(
        self, data_group: str, start: dt.datetime, end: dt.datetime, trend_periods: int = 8
    ) -> dict[str, pl.DataFrame]:
        """Every table of the report on one connection: summary, lists (with its members'
        engagement), distributions, outlets (store/report_engagement.py), trend, list_trend,
        compliance, incidents. The trend uses ``trend_periods`` periods as long as
        ``end - start``."""
        period = end - start
        first, seconds = _trend_window(end, period, trend_periods)
        with self.db.connection() as con:
            con.execute(_FACTS, _facts_params(data_group, start, end, first, seconds))
            try:
                per_list = _frame(con, _PER_LIST, [data_group])
                totals = _frame(con, _GROUP_TOTALS, [data_group])
            finally:
                con.execute(f"DROP TABLE IF EXISTS {FACTS_TABLE}")
            names = _frame(con, "SELECT list_id, name FROM media_lists WHERE data_group = ?",
                           [data_group])
            members = _frame(con, _MEMBERS, [data_group])
            in_lists = _contacts_in_lists(con, data_group)
            trend = _trend(con, data_group, end, period, trend_periods)
            compliance = _frame(con, _COMPLIANCE, [data_group, start, end] * 2)
            incidents = incident_summary(con, start, end, data_group)
            engagement = engagement_tables(con, data_group, start, end)
        return {
            "summary": _summary(totals, names.height, in_lists),
            "lists": with_list_engagement(_lists(names, members, per_list),
                                          engagement["list_engagement"]),
            "distributions": engagement["distributions"],
            "outlets": engagement["outlets"],
            "trend": trend,
            "list_trend": _list_trend(per_list, first, period),
            "compliance": compliance,
            "incidents": incidents,
        }


def _wide(long: pl.DataFrame, index: str, columns: list[str]) -> pl.DataFrame:
    """(index, metric, n) → one column per metric in ``columns``, zeros where missing."""
    long = long.filter(pl.col("metric").is_in(columns))
    wide = (long.pivot(on="metric", index=index, values="n", aggregate_function="sum")
            if long.height else pl.DataFrame({index: []}, schema={index: pl.Int64}))
    missing = [pl.lit(0, dtype=pl.Int64).alias(c) for c in columns if c not in wide.columns]
    wide = wide.with_columns(missing).with_columns(pl.col(columns).fill_null(0).cast(pl.Int64))
    return wide.with_columns(new_opt_outs=pl.sum_horizontal(f"new_{s}" for s in SOURCES))


def _lists(names: pl.DataFrame, members: pl.DataFrame, per_list: pl.DataFrame) -> pl.DataFrame:
    cols = [c for c in PER_CONTACT_COLUMNS if c != "new_opt_outs"]
    wide = _wide(per_list, "list_id", cols)
    frame = (names.join(members, on="list_id", how="left")
             .join(wide, on="list_id", how="left")
             .with_columns(pl.col("members", *PER_CONTACT_COLUMNS).fill_null(0).cast(pl.Int64)))
    frame = frame.with_columns(opt_out_rate=pl.when(pl.col("members") > 0)
                               .then(pl.col("opted_out") / pl.col("members")).otherwise(0.0))
    return frame.select("list_id", "name", "members", *PER_CONTACT_COLUMNS, "opt_out_rate").sort(
        ["new_opt_outs", "opt_out_rate", "name", "list_id"],
        descending=[True, True, False, False])


def _summary(totals: pl.DataFrame, lists: int, in_lists: int) -> pl.DataFrame:
    cols = [c for c in PER_CONTACT_COLUMNS if c != "new_opt_outs"]
    wide = _wide(totals.with_columns(one=pl.lit(1)), "one", cols)
    row = wide.row(0, named=True) if wide.height else {c: 0 for c in PER_CONTACT_COLUMNS}
    got = dict(zip(totals["metric"], totals["n"], strict=True))
    return pl.DataFrame([{
        "lists": lists, "contacts_in_lists": in_lists,
        **{c: int(row[c]) for c in PER_CONTACT_COLUMNS},
        "opted_out_in_lists": int(got.get("opted_out_in_lists") or 0),
    }], schema={c: pl.Int64 for c in ("lists", "contacts_in_lists", *PER_CONTACT_COLUMNS,
                                      "opted_out_in_lists")})


def _trend(con, data_group, end, period, periods) -> pl.DataFrame:
    first, seconds = _trend_window(end, period, periods)
    counts = _frame(con, _TREND, [first, seconds, data_group, first, end])
    frame = pl.DataFrame({"period": list(range(periods))}, schema={"period": pl.Int64})
    frame = frame.join(counts, on="period", how="left").fill_null(0)
    return _with_period_bounds(frame, first, period).sort("period_start")


def _list_trend(per_list: pl.DataFrame, first: dt.datetime, period: dt.timedelta) -> pl.DataFrame:
    long = per_list.filter(pl.col("metric").str.contains(r"^t\d+$")).with_columns(
        period=pl.col("metric").str.slice(1).cast(pl.Int64)).rename({"n": "opt_outs"})
    frame = _with_period_bounds(long.select("list_id", "period", "opt_outs"), first, period)
    return frame.select("list_id", "period_start", "opt_outs").sort("list_id", "period_start")


def _trend_window(end: dt.datetime, period: dt.timedelta, periods: int) -> tuple[dt.datetime, float]:
    if periods < 1 or period <= dt.timedelta(0):
        raise ValueError(f"a trend needs at least one period of positive length, got {periods} × {period}")
    return end - period * periods, period.total_seconds()


def _with_period_bounds(frame: pl.DataFrame, first: dt.datetime, period: dt.timedelta) -> pl.DataFrame:
    start = pl.lit(first, dtype=pl.Datetime("us")) + pl.duration(
        microseconds=pl.col("period") * int(period / dt.timedelta(microseconds=1))
    )
    cols = [c for c in frame.columns if c != "period"]
    return frame.with_columns(period_start=start, period_end=start + pl.lit(period)).select(
        "period_start", "period_end", *cols
    )
