"""What the engagement view reads: totals kept at import time, not sums over every event.

``engagement_totals``: one row per (data group, distribution, address) with its opens (not by a
privacy proxy), proxy opens, clicks and last times; written from ``engagement_events`` by the
engagement import. ``engagers``: one row per contact that engaged (its addresses as the group
sees them, ``visible_addresses``) or per outlet address, with the contact's reach and outlet
name to sort by; rebuilt from the totals when engagement, contacts or outlets are imported, so
a contact imported later is found too. Both are derived: ``engagement_events`` stays the record.
"""

from __future__ import annotations

import duckdb

_TOTALS = """
INSERT INTO engagement_totals
SELECT data_group, distribution, email,
       coalesce(sum(n) FILTER (WHERE event = 'open' AND NOT prefetch), 0),
       coalesce(sum(n) FILTER (WHERE event = 'open' AND prefetch), 0),
       coalesce(sum(n) FILTER (WHERE event = 'click'), 0),
       max(occurred_at) FILTER (WHERE event IN ('open', 'click') AND NOT prefetch),
       max(occurred_at) FILTER (WHERE event IN ('open', 'click'))
FROM engagement_events
WHERE data_group = ? AND distribution = ? AND event IN ('open', 'click')
GROUP BY ALL ORDER BY email
"""

# one data group's engagers; {scope}: an optional condition on the totals row t
_ENGAGERS = """
INSERT INTO engagers
SELECT t.data_group, t.distribution, a.contact_id, NULL, min(t.email), sum(t.opens),
       sum(t.proxy_opens), sum(t.clicks), max(t.last_event), max(t.last_any),
       any_value(c.reach), any_value(o.name)
FROM engagement_totals t
JOIN (SELECT DISTINCT email, contact_id FROM visible_addresses(?)) a ON a.email = t.email
JOIN contacts c ON c.contact_id = a.contact_id
LEFT JOIN outlets o ON o.outlet_id = c.outlet_id
WHERE t.data_group = ?{scope}
GROUP BY t.data_group, t.distribution, a.contact_id
UNION ALL
SELECT t.data_group, t.distribution, NULL, oa.outlet_id, t.email, t.opens, t.proxy_opens,
       t.clicks, t.last_event, t.last_any, o.reach, o.name
FROM engagement_totals t
JOIN outlet_addresses oa ON oa.email = t.email
JOIN outlets o ON o.outlet_id = oa.outlet_id
WHERE t.data_group = ?{scope}
ORDER BY 1, 2, 3
"""


def refresh_distribution(con: duckdb.DuckDBPyConnection, data_group: str,
                         distribution: str) -> None:
    """Recompute one distribution's totals and engagers (after its import)."""
    con.execute("DELETE FROM engagement_totals WHERE data_group = ? AND distribution = ?",
                [data_group, distribution])
    con.execute(_TOTALS, [data_group, distribution])
    con.execute("DELETE FROM engagers WHERE data_group = ? AND distribution = ?",
                [data_group, distribution])
    scope = " AND t.distribution = ?"
    con.execute(_ENGAGERS.format(scope=scope),
                [data_group, data_group, distribution, data_group, distribution])


def refresh_engagers(con: duckdb.DuckDBPyConnection) -> None:
    """Rebuild the engagers of every data group (after contacts or outlets changed: an address
    may now belong to another contact, a reach or an outlet name may differ)."""
    groups = [r[0] for r in con.execute(
        "SELECT DISTINCT data_group FROM engagement_totals ORDER BY 1").fetchall()]
    con.execute("DELETE FROM engagers")
    for group in groups:
        con.execute(_ENGAGERS.format(scope=""), [group, group, group])


def ensure_totals(con: duckdb.DuckDBPyConnection) -> None:
    """Fill the totals of a store whose engagement was imported before they existed."""
    if con.execute("SELECT 1 FROM engagement_totals LIMIT 1").fetchall():
        return
    pairs = con.execute("SELECT DISTINCT data_group, distribution FROM engagement_events"
                        " ORDER BY 1, 2").fetchall()
    for group, distribution in pairs:
        refresh_distribution(con, group, distribution)
