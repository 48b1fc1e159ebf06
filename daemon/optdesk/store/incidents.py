"""Sending incidents: bounces that say our mail was refused or lost on the way (a block list,
SPF/DKIM/DMARC, reverse DNS, our rate or content, the network), never the journalist's address.

``record_incident`` writes one (the daemon writes them set-based, see writes.py);
``incidents(...)`` lists them; ``incident_summary(...)`` groups them by provider and reason — what
``optdesk status``, the report and notebook 04 show ("outlook.com refused 14 messages: our IP is
on a block list").
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import polars as pl
import pyarrow as pa

from optdesk.store.base import utcnow

INCIDENT_SCHEMA = pa.schema([
    ("occurred_at", pa.timestamp("us")), ("received_at", pa.timestamp("us")),
    ("data_group", pa.string()), ("reason", pa.string()), ("family", pa.string()),
    ("remote", pa.string()), ("provider", pa.string()), ("status", pa.string()),
    ("reply_code", pa.string()), ("diagnostic", pa.string()), ("recipients", pa.int32()),
    ("addresses", pa.list_(pa.string())), ("message_id", pa.string()),
    ("original_message_id", pa.string()), ("message_hash", pa.string()), ("rule", pa.string()),
])
COLUMNS = tuple(INCIDENT_SCHEMA.names)

# grouped per provider and reason: the summary status, the report and notebook 04 show
SUMMARY_SQL = """
SELECT coalesce(nullif(provider, ''), '(unknown)') AS provider, reason,
       count(DISTINCT coalesce(message_hash, CAST(incident_id AS VARCHAR)))::BIGINT AS messages,
       sum(recipients)::BIGINT AS recipients,
       min(coalesce(received_at, occurred_at)) AS first_at,
       max(coalesce(received_at, occurred_at)) AS last_at,
       mode(status) AS status, mode(reply_code) AS reply_code,
       arg_max(diagnostic, coalesce(received_at, occurred_at)) AS last_diagnostic
FROM sending_incidents
WHERE coalesce(received_at, occurred_at) >= ? AND coalesce(received_at, occurred_at) < ?
  AND (? IS NULL OR data_group = ? OR data_group IS NULL OR data_group = '')
GROUP BY ALL
ORDER BY messages DESC, recipients DESC, provider, reason
"""
SUMMARY_COLUMNS = ("provider", "reason", "messages", "recipients", "first_at", "last_at",
                   "status", "reply_code", "last_diagnostic")


def incident_row(incident: dict[str, Any], *, at: dt.datetime, received_at: dt.datetime | None,
                 data_group: str | None, message_id: str | None, message_hash: str | None
                 ) -> dict[str, Any]:
    """A Decision's incident (optdesk.classify) as a row of ``sending_incidents``."""
    addresses = [str(a).lower() for a in incident.get("recipients") or []]
    return {
        "occurred_at": at, "received_at": received_at, "data_group": data_group,
        "reason": str(incident.get("reason") or "undefined"),
        "family": str(incident.get("family") or "sending"),
        "remote": incident.get("remote") or None, "provider": incident.get("provider") or None,
        "status": incident.get("status") or None, "reply_code": incident.get("code") or None,
        "diagnostic": (incident.get("diagnostic") or "")[:1000] or None,
        "recipients": int(incident.get("count") or len(addresses)), "addresses": addresses,
        "message_id": message_id, "original_message_id": incident.get("original_message_id"),
        "message_hash": message_hash, "rule": incident.get("rule"),
    }


def insert_incidents(con, rows: list[dict[str, Any]]) -> None:
    """Insert rows (dicts keyed by COLUMNS) inside the caller's transaction."""
    if not rows:
        return
    table = pa.table({c: [r.get(c) for r in rows] for c in COLUMNS}, schema=INCIDENT_SCHEMA)
    cols = ", ".join(COLUMNS)
    con.register("incident_rows", table)
    try:
        con.execute(f"INSERT INTO sending_incidents ({cols}) SELECT {cols} FROM incident_rows")
    finally:
        con.unregister("incident_rows")


def summary(con, start: dt.datetime, end: dt.datetime, data_group: str | None) -> pl.DataFrame:
    """Incidents in ``[start, end)`` per provider and reason, most messages first."""
    frame = con.sql(SUMMARY_SQL, params=[start, end, data_group, data_group]).pl()
    if frame.height == 0:
        frame = pl.DataFrame(schema={"provider": pl.String, "reason": pl.String,
                                     "messages": pl.Int64, "recipients": pl.Int64,
                                     "first_at": pl.Datetime("us"), "last_at": pl.Datetime("us"),
                                     "status": pl.String, "reply_code": pl.String,
                                     "last_diagnostic": pl.String})
    return frame


class IncidentOps:
    """Mixin: ``record_incident``, ``incidents``, ``incident_summary``."""

    def record_incident(self, incident: dict[str, Any], *, data_group: str | None = None,
                        message_id: str | None = None, message_hash: str | None = None,
                        received_at: dt.datetime | None = None, at: dt.datetime | None = None
                        ) -> None:
        """Record one incident of a classified notice (``Decision.incidents`` item)."""
        row = incident_row(incident, at=at or utcnow(), received_at=received_at,
                           data_group=data_group, message_id=message_id, message_hash=message_hash)
        with self.db.transaction() as con:
            insert_incidents(con, [row])

    def incidents(self, since: dt.datetime | None = None, until: dt.datetime | None = None,
                  data_group: str | None = None, limit: int = 1000) -> pl.DataFrame:
        """Incidents newest first (every column of ``sending_incidents``)."""
        return self.db.frame(
            "SELECT * FROM sending_incidents"
            " WHERE coalesce(received_at, occurred_at) >= coalesce(?::TIMESTAMP, TIMESTAMP '1970-01-01')"
            " AND coalesce(received_at, occurred_at) < coalesce(?::TIMESTAMP, TIMESTAMP '9999-01-01')"
            " AND (?::VARCHAR IS NULL OR data_group = ? OR data_group IS NULL OR data_group = '')"
            " ORDER BY coalesce(received_at, occurred_at) DESC, incident_id DESC LIMIT ?",
            [since, until, data_group, data_group, int(limit)],
        )

    def incident_summary(self, since: dt.datetime, until: dt.datetime | None = None,
                         data_group: str | None = None) -> pl.DataFrame:
        """Per provider and reason in ``[since, until)``: messages, recipients, first_at,
        last_at, status, reply_code, last_diagnostic."""
        with self.db.connection() as con:
            return summary(con, since, until or utcnow() + dt.timedelta(seconds=1), data_group)
