"""The unsubscribes and complaints in a sending tool's export, applied.

The export is the team's own sending tool: an unsubscribe row is the journalist's own request
(source ``sending_tool``), a complaint row a spam complaint (source ``complaint``: never invited
again). Each is applied as a reply asking to be removed is (``writes.opt_out_target``): the
outlet for an outlet's own address, the one contact owning it, else the address is suppressed.
Never an opt-out the export did not ask for: a row applied once (its ``row_key`` is in the
evidence of the event it made) is not applied again by a re-import, nor one older than the
contact's (or outlet's) later opt-in.
"""

from __future__ import annotations

import duckdb
import polars as pl

from optdesk.store.writes import Writes, opt_out_target

SOURCE_OF = {"unsubscribe": "sending_tool", "complaint": "complaint"}
REASON_OF = {"unsubscribe": "unsubscribed in the sending tool",
             "complaint": "spam complaint in the sending tool"}


def requests_of(rows: pl.DataFrame) -> pl.DataFrame:
    """The export's unsubscribe and complaint rows: the first of each (address, event)."""
    return (rows.filter(pl.col("event").is_in(list(SOURCE_OF)))
            .sort("occurred_at", nulls_last=True)
            .unique(["email", "event"], keep="first", maintain_order=True)
            .select("row_key", "email", "event", "occurred_at"))


def _applied_before(con: duckdb.DuckDBPyConnection, data_group: str, distribution: str,
                    keys: list[str]) -> set[str]:
    rows = con.execute(
        "SELECT DISTINCT json_extract_string(evidence, '$.row_key') FROM events"
        " WHERE data_group = ? AND kind IN ('opt_out', 'outlet_opt_out', 'address_suppressed')"
        " AND source IN ('sending_tool', 'complaint')"
        " AND json_extract_string(evidence, '$.distribution') = ?"
        " AND json_extract_string(evidence, '$.row_key') IN (SELECT unnest(?::VARCHAR[]))",
        [data_group, distribution, keys]).fetchall()
    return {r[0] for r in rows}


def _opted_in_after(con: duckdb.DuckDBPyConnection, data_group: str) -> dict[tuple[str, int], object]:
    """(contact or outlet, id) → its last opt-in in the group."""
    rows = con.execute(
        "SELECT CASE WHEN kind = 'opt_in' THEN 'contact' ELSE 'outlet' END,"
        " CASE WHEN kind = 'opt_in' THEN contact_id ELSE outlet_id END, max(occurred_at)"
        " FROM events WHERE data_group = ? AND kind IN ('opt_in', 'outlet_opt_in')"
        " GROUP BY ALL", [data_group]).fetchall()
    return {(r[0], int(r[1])): r[2] for r in rows if r[1] is not None}


def plan_requests(store, con: duckdb.DuckDBPyConnection, requests: pl.DataFrame,
                  data_group: str, distribution: str, actor: str) -> tuple[Writes, dict]:
    """The writes the requests ask for, and the counts: applied per event, already (applied by
    an earlier import), superseded (an opt-in came later)."""
    counts = {"unsubscribe": 0, "complaint": 0, "already": 0, "superseded": 0}
    writes = Writes()
    if requests.height == 0:
        return writes, counts
    done = _applied_before(con, data_group, distribution, requests["row_key"].to_list())
    emails = requests["email"].to_list()
    owners = store.contacts_for_emails(emails, data_group)
    outlets = store.outlets_for_emails(emails)
    opted_in = _opted_in_after(con, data_group)
    for r in requests.iter_rows(named=True):
        if r["row_key"] in done:
            counts["already"] += 1
            continue
        whom, which = opt_out_target(r["email"], owners, outlets)
        later = opted_in.get((whom, which)) if whom != "address" else None
        if later is not None and (r["occurred_at"] is None or later > r["occurred_at"]):
            counts["superseded"] += 1
            continue
        event, source = r["event"], SOURCE_OF[r["event"]]
        common = {"source": source, "reason": REASON_OF[event], "message_hash": None,
                  "actor": actor, "evidence": {
                      "distribution": distribution, "row_key": r["row_key"], "event": event,
                      "email": r["email"], "occurred_at": r["occurred_at"]}}
        if whom == "outlet":
            writes.add_outlet_opt_out(int(which), data_group, **common)
        elif whom == "contact":
            writes.add_opt_out(int(which), data_group, **common)
        else:
            writes.add_suppression(str(which), data_group, **common)
        counts[event] += 1
    return writes, counts
