"""What every part of the store shares: the database handle, the clock, event writing."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
from typing import Any

import duckdb

from optdesk.store.db import Database
from optdesk.store.migrations import migrate

# where an opt-out or an address suppression came from (the table opt_out_sources holds the database to it)
SOURCES = ("reply", "manual", "list_unsubscribe", "complaint", "one_click", "sending_tool")
EVENT_KINDS = (
    "opt_out", "opt_in", "invitation_sent", "invitation_accepted", "invitation_declined",
    "invitation_expired", "invitation_refused", "bounce_hard", "bounce_soft", "auto_reply",
    "address_suppressed", "review_resolved", "list_member_removed", "outlet_opt_out",
    "outlet_opt_in",
    # corrections (optdesk.store.undo): each names the event it undoes in evidence["undoes"]
    "opt_out_undone", "list_member_restored", "review_reopened",
)
# what an outlet is (the table ``outlet_types`` holds outlets.type to it)
OUTLET_TYPES = ("newspaper", "tv", "radio", "online", "agency", "magazine")


def utcnow() -> dt.datetime:
    """Now, as the naive UTC timestamp the store keeps."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# a contact's first address among those a group sees (``FROM visible_addresses(g)``, grouped by
# contact): its primary one, else a system one, else the first by address
PRIMARY_EMAIL = "arg_min(email, (NOT is_primary, kind <> 'system', email))"


def normalise_email(email: str) -> str:
    return email.strip().lower()


def check_source(source: str) -> None:
    """Refuse an opt-out source the store does not know (before anything is written)."""
    if source not in SOURCES:
        raise ValueError(f"unknown opt-out source {source!r}; one of {', '.join(SOURCES)}")


def evidence_json(evidence: Any) -> str | None:
    """Evidence as the JSON text the store keeps: keys sorted, non-ASCII as written (None stays
    None, text is kept as it is). The one encoder of every evidence column."""
    if evidence is None or isinstance(evidence, str):
        return evidence
    return json.dumps(evidence, default=str, sort_keys=True, ensure_ascii=False)


class StoreBase:
    """Holds the Database and writes events. Mixins in sibling modules add the public API."""

    def __init__(self, path: str | pathlib.Path, *, busy_timeout: float = 30.0, burst: float = 1.0):
        self.db = Database(path, busy_timeout=busy_timeout, burst=burst)
        with self.db.connection() as con:
            migrate(con)

    @property
    def path(self) -> pathlib.Path:
        return self.db.path

    def release(self) -> None:
        """Let go of the file now, e.g. at the end of one of the daemon's chunks."""
        self.db.release()

    @staticmethod
    def _event(
        con: duckdb.DuckDBPyConnection,
        kind: str,
        *,
        actor: str,
        at: dt.datetime | None = None,
        contact_id: int | None = None,
        data_group: str | None = None,
        email: str | None = None,
        source: str | None = None,
        reason: str | None = None,
        evidence: Any = None,
        message_hash: str | None = None,
        invitation_id: int | None = None,
        outlet_id: int | None = None,
    ) -> int:
        """Append one event inside the caller's transaction; return its id. Events are never updated."""
        if kind not in EVENT_KINDS:
            raise ValueError(f"unknown event kind {kind!r}")
        row = con.execute(
            "INSERT INTO events (occurred_at, kind, contact_id, data_group, email, source, actor, reason,"
            " evidence, message_hash, invitation_id, outlet_id) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
            " RETURNING event_id",
            [at or utcnow(), kind, contact_id, data_group, email, source, actor, reason,
             evidence_json(evidence), message_hash, invitation_id, outlet_id],
        ).fetchall()
        return int(row[0][0])

    @staticmethod
    def _ensure_group(con: duckdb.DuckDBPyConnection, data_group: str) -> None:
        if not data_group or not data_group.strip():
            raise ValueError("a data group name is required")
        con.execute(
            "INSERT INTO data_groups VALUES (?, ?) ON CONFLICT DO NOTHING", [data_group, utcnow()]
        )
