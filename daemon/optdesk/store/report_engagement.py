"""The report's engagement and outlet tables (issue 15), next to the opt-outs per list.

Definitions (docs/reports.md says the same for readers):

- distributions of the period: those with an imported event in ``[start, end)``.
- per distribution: recipients (distinct addresses in its export), opens and clicks (privacy-
  proxy opens not counted), openers and clickers (addresses), unsubscribes and complaints
  (addresses with such a row), opt_out_rate = addresses that unsubscribed or complained /
  recipients.
- per list: opens, clicks and engaged members (with an open or a click) of its members in the
  distributions of the period (``engagers``).
- outlets: the outlet opt-outs made in the period: outlet, type, source, actor, reason, with its
  contacts or not, when, and how many contact opt-outs were made with it.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import polars as pl

_DISTS = """
SELECT distribution FROM engagement_events WHERE data_group = ?
GROUP BY distribution HAVING max(occurred_at) >= ? AND min(occurred_at) < ?
"""

DISTRIBUTIONS = f"""
WITH d AS ({_DISTS}),
e AS (
    SELECT distribution, email,
           bool_or(event = 'unsubscribe') AS unsub, bool_or(event = 'complaint') AS complaint
    FROM engagement_events WHERE data_group = ? AND distribution IN (SELECT * FROM d)
    GROUP BY ALL),
t AS (
    SELECT distribution, sum(opens) AS opens, sum(clicks) AS clicks,
           count(*) FILTER (WHERE opens > 0) AS openers,
           count(*) FILTER (WHERE clicks > 0) AS clickers
    FROM engagement_totals WHERE data_group = ? AND distribution IN (SELECT * FROM d)
    GROUP BY ALL)
SELECT e.distribution, count(*)::BIGINT AS recipients,
       coalesce(any_value(t.opens), 0)::BIGINT AS opens,
       coalesce(any_value(t.clicks), 0)::BIGINT AS clicks,
       coalesce(any_value(t.openers), 0)::BIGINT AS openers,
       coalesce(any_value(t.clickers), 0)::BIGINT AS clickers,
       count(*) FILTER (WHERE e.unsub)::BIGINT AS unsubscribes,
       count(*) FILTER (WHERE e.complaint)::BIGINT AS complaints,
       count(*) FILTER (WHERE e.unsub OR e.complaint) / count(*) AS opt_out_rate
FROM e LEFT JOIN t USING (distribution)
GROUP BY e.distribution ORDER BY e.distribution
"""

LIST_ENGAGEMENT = f"""
WITH d AS ({_DISTS}),
g AS (
    SELECT contact_id, sum(opens) AS opens, sum(clicks) AS clicks FROM engagers
    WHERE data_group = ? AND contact_id IS NOT NULL AND distribution IN (SELECT * FROM d)
    GROUP BY contact_id)
SELECT m.list_id, sum(g.opens)::BIGINT AS opens, sum(g.clicks)::BIGINT AS clicks,
       count(*) FILTER (WHERE g.opens + g.clicks > 0)::BIGINT AS engaged
FROM list_members m JOIN g USING (contact_id)
WHERE m.list_id IN (SELECT list_id FROM media_lists WHERE data_group = ?)
GROUP BY m.list_id
"""

OUTLETS = """
SELECT ot.name AS outlet, ot.type, oo.source, oo.actor, oo.reason, oo.with_contacts,
       oo.opted_out_at,
       (SELECT count(*) FROM events e WHERE e.kind = 'opt_out' AND e.data_group = oo.data_group
        AND e.outlet_id = oo.outlet_id
        AND json_extract(e.evidence, '$.outlet_event_id')::BIGINT = oo.event_id)::BIGINT
       AS contacts_opted_out
FROM outlet_optouts oo JOIN outlets ot USING (outlet_id)
WHERE oo.data_group = ? AND oo.opted_out_at >= ? AND oo.opted_out_at < ?
ORDER BY oo.opted_out_at DESC, ot.name
"""

LIST_COLUMNS = ("opens", "clicks", "engaged")


def engagement_tables(con: duckdb.DuckDBPyConnection, data_group: str, start: dt.datetime,
                      end: dt.datetime) -> dict[str, pl.DataFrame]:
    """{"distributions", "list_engagement", "outlets"} for the report."""
    window = [data_group, start, end]
    return {
        "distributions": con.sql(DISTRIBUTIONS, params=[*window, data_group, data_group]).pl(),
        "list_engagement": con.sql(LIST_ENGAGEMENT,
                                   params=[*window, data_group, data_group]).pl(),
        "outlets": con.sql(OUTLETS, params=window).pl(),
    }


def with_list_engagement(lists: pl.DataFrame, engagement: pl.DataFrame) -> pl.DataFrame:
    """The lists table with its members' opens, clicks and engaged count (zeros where none)."""
    return lists.join(engagement, on="list_id", how="left").with_columns(
        pl.col(c).fill_null(0).cast(pl.Int64) for c in LIST_COLUMNS)
