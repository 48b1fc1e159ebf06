"""Report queries: opt-outs, bounces and invitations per media list, trends, the compliance clock.

Every query takes a data group and a half-open period ``[start, end)`` of naive UTC timestamps
and returns a polars frame. ``report_tables`` runs them all on one connection.

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
- compliance clock: for opt-out events in the period linked to a message (``message_hash``), the
  seconds from the message's ``received_at`` to the event's ``occurred_at``; median and 95th
  percentile interpolate linearly between ranks (like ``quantile_cont``).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

from optdesk.store.base import SOURCES

PER_CONTACT_COLUMNS = (
    "opted_out", *(f"new_{s}" for s in SOURCES), "new_opt_outs", "opt_ins",
    "bounces_hard", "bounces_soft", "undeliverable_addresses",
    "invitations_sent", "invitations_accepted",
)

_NEW_BY_SOURCE = ", ".join(
    f"(kind = 'opt_out' AND source = '{s}')::INT AS new_{s}" for s in SOURCES
)

# One row per (contact, fact) from sparse sources; summed per contact. Parameters, in order:
# group; group, start, end; group, start, end, group; group; start, end, start, end, group,
# start, end, start, end.
_FACTS = f"""
facts AS (
    SELECT contact_id, {", ".join(f"sum({c}) AS {c}" for c in PER_CONTACT_COLUMNS)}
    FROM (
        SELECT contact_id, 1 AS opted_out FROM optouts WHERE data_group = ?
        UNION ALL BY NAME
        SELECT contact_id, {_NEW_BY_SOURCE}, (kind = 'opt_out')::INT AS new_opt_outs,
               (kind = 'opt_in')::INT AS opt_ins
        FROM events
        WHERE data_group = ? AND kind IN ('opt_out', 'opt_in')
          AND occurred_at >= ? AND occurred_at < ? AND contact_id IS NOT NULL
        UNION ALL BY NAME
        SELECT coalesce(e.contact_id, a.contact_id) AS contact_id,
               (e.kind = 'bounce_hard')::INT AS bounces_hard,
               (e.kind = 'bounce_soft')::INT AS bounces_soft
        FROM events e
        LEFT JOIN addresses a ON e.contact_id IS NULL AND a.email = e.email
             AND (a.kind = 'system' OR a.data_group = ?)
        WHERE e.kind IN ('bounce_hard', 'bounce_soft')
          AND e.occurred_at >= ? AND e.occurred_at < ?
          AND (e.data_group = ? OR e.data_group IS NULL OR e.data_group = '')
        UNION ALL BY NAME
        SELECT a.contact_id, count(DISTINCT a.email) AS undeliverable_addresses
        FROM deliverability d JOIN addresses a ON a.email = d.email
        WHERE d.undeliverable AND (a.kind = 'system' OR a.data_group = ?)
        GROUP BY a.contact_id
        UNION ALL BY NAME
        SELECT contact_id,
               (sent_at >= ? AND sent_at < ?)::INT AS invitations_sent,
               (status = 'accepted' AND answered_at >= ? AND answered_at < ?)::INT
                   AS invitations_accepted
        FROM invitations
        WHERE data_group = ? AND ((sent_at >= ? AND sent_at < ?)
                                  OR (answered_at >= ? AND answered_at < ?))
    )
    WHERE contact_id IS NOT NULL
    GROUP BY contact_id
)"""


def _facts_params(group: str, start: dt.datetime, end: dt.datetime) -> list:
    return [group, group, start, end, group, start, end, group, group,
            start, end, start, end, group, start, end, start, end]


_LISTS = f"""
WITH lists AS (SELECT list_id, name FROM media_lists WHERE data_group = ?),
{_FACTS},
counts AS (
    SELECT m.list_id, count(*) AS members
    FROM list_members m SEMI JOIN lists l USING (list_id) GROUP BY m.list_id
),
sums AS (
    SELECT m.list_id, {", ".join(f"sum(f.{c}) AS {c}" for c in PER_CONTACT_COLUMNS)}
    FROM list_members m SEMI JOIN lists l USING (list_id) JOIN facts f USING (contact_id)
    GROUP BY m.list_id
)
SELECT l.list_id, l.name, coalesce(c.members, 0)::BIGINT AS members,
       {", ".join(f"coalesce(s.{c}, 0)::BIGINT AS {c}" for c in PER_CONTACT_COLUMNS)},
       CASE WHEN coalesce(c.members, 0) = 0 THEN 0.0
            ELSE coalesce(s.opted_out, 0) / c.members END AS opt_out_rate
FROM lists l LEFT JOIN counts c USING (list_id) LEFT JOIN sums s USING (list_id)
ORDER BY new_opt_outs DESC, opt_out_rate DESC, l.name, l.list_id
"""

_SUMMARY = f"""
WITH lists AS (SELECT list_id FROM media_lists WHERE data_group = ?),
in_lists AS (SELECT DISTINCT m.contact_id FROM list_members m SEMI JOIN lists l USING (list_id)),
{_FACTS}
SELECT (SELECT count(*) FROM lists) AS lists,
       (SELECT count(*) FROM in_lists) AS contacts_in_lists,
       {", ".join(f"coalesce(sum(f.{c}), 0)::BIGINT AS {c}" for c in PER_CONTACT_COLUMNS)},
       coalesce(sum(f.opted_out) FILTER (WHERE f.contact_id IN (SELECT contact_id FROM in_lists)),
                0)::BIGINT AS opted_out_in_lists
FROM facts f
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

_LIST_TREND = """
WITH lists AS (SELECT list_id FROM media_lists WHERE data_group = ?),
ev AS (
    SELECT contact_id, floor(epoch(occurred_at - ?::TIMESTAMP) / ?)::BIGINT AS period,
           count(*) AS n
    FROM events
    WHERE data_group = ? AND kind = 'opt_out' AND occurred_at >= ? AND occurred_at < ?
    GROUP BY ALL
)
SELECT m.list_id, ev.period, sum(ev.n)::BIGINT AS opt_outs
FROM list_members m SEMI JOIN lists l USING (list_id) JOIN ev USING (contact_id)
GROUP BY ALL ORDER BY m.list_id, ev.period
"""

_COMPLIANCE = """
WITH d AS (
    SELECT e.source, epoch(e.occurred_at - m.received_at) AS seconds
    FROM events e JOIN messages m ON m.message_hash = e.message_hash
    WHERE e.data_group = ? AND e.kind = 'opt_out' AND e.occurred_at >= ? AND e.occurred_at < ?
      AND m.received_at IS NOT NULL
)
SELECT source, count(*) AS opt_outs, median(seconds)::DOUBLE AS median_seconds,
       quantile_cont(seconds, 0.95)::DOUBLE AS p95_seconds, max(seconds)::DOUBLE AS max_seconds
FROM d GROUP BY GROUPING SETS ((source), ())
ORDER BY source NULLS LAST
"""


def _frame(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> pl.DataFrame:
    return con.sql(sql, params=params).pl()


class ReportQueries:
    """Mixin: the report's tables. Needs ``self.db``."""

    def report_lists(self, data_group: str, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
        """One row per media list of the group; see the module docstring for each column."""
        with self.db.connection() as con:
            return self._report_lists(con, data_group, start, end)

    def report_summary(self, data_group: str, start: dt.datetime, end: dt.datetime) -> pl.DataFrame:
        """One row for the whole group: the lists' columns counted once per contact, plus
        ``lists``, ``contacts_in_lists`` and ``opted_out_in_lists``."""
        with self.db.connection() as con:
            return self._report_summary(con, data_group, start, end)

    def report_trend(
        self, data_group: str, end: dt.datetime, period: dt.timedelta, periods: int
    ) -> pl.DataFrame:
        """Opt-outs per source and opt-ins in each of the ``periods`` periods ending at ``end``,
        oldest first: period_start, period_end, reply, manual, list_unsubscribe, complaint,
        opt_outs, opt_ins (zeros included)."""
        with self.db.connection() as con:
            return self._report_trend(con, data_group, end, period, periods)

    def report_list_trend(
        self, data_group: str, end: dt.datetime, period: dt.timedelta, periods: int
    ) -> pl.DataFrame:
        """New opt-outs per list and period (long form, only non-zero rows): list_id,
        period_start, opt_outs."""
        with self.db.connection() as con:
            return self._report_list_trend(con, data_group, end, period, periods)

    def report_compliance(
        self, data_group: str, start: dt.datetime, end: dt.datetime
    ) -> pl.DataFrame:
        """The compliance clock per source of message-linked opt-outs, and a row with source
        null for all of them: source, opt_outs, median_seconds, p95_seconds, max_seconds."""
        with self.db.connection() as con:
            return _frame(con, _COMPLIANCE, [data_group, start, end])

    def report_tables(
        self, data_group: str, start: dt.datetime, end: dt.datetime, trend_periods: int = 8
    ) -> dict[str, pl.DataFrame]:
        """Every table of the report on one connection: summary, lists, trend, list_trend,
        compliance. The trend uses periods as long as ``end - start``."""
        period = end - start
        with self.db.connection() as con:
            return {
                "summary": self._report_summary(con, data_group, start, end),
                "lists": self._report_lists(con, data_group, start, end),
                "trend": self._report_trend(con, data_group, end, period, trend_periods),
                "list_trend": self._report_list_trend(con, data_group, end, period, trend_periods),
                "compliance": _frame(con, _COMPLIANCE, [data_group, start, end]),
            }

    # -- on a given connection ------------------------------------------------------------
    @staticmethod
    def _report_lists(con, data_group, start, end) -> pl.DataFrame:
        return _frame(con, _LISTS, [data_group, *_facts_params(data_group, start, end)])

    @staticmethod
    def _report_summary(con, data_group, start, end) -> pl.DataFrame:
        return _frame(con, _SUMMARY, [data_group, *_facts_params(data_group, start, end)])

    @staticmethod
    def _report_trend(con, data_group, end, period, periods) -> pl.DataFrame:
        first, seconds = _trend_window(end, period, periods)
        counts = _frame(con, _TREND, [first, seconds, data_group, first, end])
        frame = pl.DataFrame({"period": list(range(periods))}, schema={"period": pl.Int64})
        frame = frame.join(counts, on="period", how="left").fill_null(0)
        return _with_period_bounds(frame, first, period).sort("period_start")

    @staticmethod
    def _report_list_trend(con, data_group, end, period, periods) -> pl.DataFrame:
        first, seconds = _trend_window(end, period, periods)
        frame = _frame(
            con, _LIST_TREND, [data_group, first, seconds, data_group, first, end]
        )
        return _with_period_bounds(frame, first, period).select(
            "list_id", "period_start", "opt_outs"
        )


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
