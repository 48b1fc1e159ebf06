"""The daemon's side of the store: the processed-message ledger, mailbox state, job runs.

Every write here joins the caller's transaction when there is one (``store.transaction()``), so
a whole poll's messages commit at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import duckdb
import pyarrow as pa

from optdesk.store.base import evidence_json, normalise_email, utcnow

# ledger columns written by the daemon, in the order of LEDGER_SCHEMA
LEDGER_SCHEMA = pa.schema([
    ("message_hash", pa.string()), ("mailbox", pa.string()), ("folder", pa.string()),
    ("uid", pa.int64()), ("uidvalidity", pa.int64()), ("message_id", pa.string()),
    ("sender", pa.string()), ("subject", pa.string()), ("received_at", pa.timestamp("us")),
    ("processed_at", pa.timestamp("us")), ("kind", pa.string()), ("stage", pa.string()),
    ("rule", pa.string()), ("confidence", pa.float64()), ("language", pa.string()),
    ("evidence", pa.string()), ("new_text", pa.string()), ("contact_id", pa.int64()),
    ("data_group", pa.string()), ("status", pa.string()), ("error", pa.string()),
    ("moved_to", pa.string()), ("review", pa.bool_()), ("review_reason", pa.string()),
    ("review_state", pa.string()),
])
LEDGER_COLUMNS = tuple(LEDGER_SCHEMA.names)
STATUSES = ("applied", "left", "review", "error")


class LedgerOps:
    """Mixin: ledger rows, mailbox state, job runs, daemon status."""

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction (e.g. for one poll's messages); every store call inside joins it."""
        with self.db.transaction() as con:
            yield con

    # -- the ledger ---------------------------------------------------------------------
    def known_messages(self, hashes: Sequence[str]) -> dict[str, dict]:
        """Ledger facts for the hashes already recorded: status, kind, moved_to, moved_at, uid."""
        if not hashes:
            return {}
        rows = self.db.rows(
            "SELECT message_hash, status, kind, moved_to, moved_at, uid FROM messages"
            " WHERE message_hash IN (SELECT unnest(?::VARCHAR[]))",
            [list(hashes)],
        )
        keys = ("status", "kind", "moved_to", "moved_at", "uid")
        return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}

    def add_ledger_rows(self, rows: Sequence[dict]) -> int:
        """Insert ledger rows (dicts keyed by LEDGER_COLUMNS; missing keys are NULL)."""
        if not rows:
            return 0
        now = utcnow()
        data = {c: [r.get(c) for r in rows] for c in LEDGER_COLUMNS}
        data["processed_at"] = [r.get("processed_at") or now for r in rows]
        data["evidence"] = [evidence_json(e) for e in data["evidence"]]
        data["review"] = [bool(v) for v in data["review"]]
        table = pa.table(data, schema=LEDGER_SCHEMA)
        cols = ", ".join(LEDGER_COLUMNS)
        with self.db.transaction() as con:
            con.register("ledger_batch", table)
            try:
                con.execute(f"INSERT INTO messages ({cols}) SELECT {cols} FROM ledger_batch")
            finally:
                con.unregister("ledger_batch")
        return len(rows)

    def mark_moved(self, hashes: Iterable[str], at: dt.datetime | None = None) -> None:
        """Record that these messages now sit in their ``moved_to`` folder."""
        hashes = list(hashes)
        if hashes:
            with self.db.transaction() as con:
                con.execute(
                    "UPDATE messages SET moved_at = ? WHERE message_hash IN"
                    " (SELECT unnest(?::VARCHAR[])) AND moved_at IS NULL",
                    [at or utcnow(), hashes],
                )

    def ledger(self, mailbox: str | None = None, limit: int | None = None):
        """The ledger as a polars frame, newest first."""
        where, params = ("WHERE mailbox = ?", [mailbox]) if mailbox else ("", [])
        tail = ""
        if limit is not None:
            tail = " LIMIT ?"
            params.append(int(limit))
        return self.db.frame(
            f"SELECT * FROM messages {where} ORDER BY processed_at DESC, uid DESC{tail}", params
        )

    def contacts_for_emails(self, emails: Iterable[str], data_group: str) -> dict[str, list[int]]:
        """address → contact ids owning it as seen from the data group, for many addresses at once."""
        wanted = sorted({normalise_email(e) for e in emails if e})
        if not wanted:
            return {}
        rows = self.db.rows(
            "SELECT email, list(DISTINCT contact_id ORDER BY contact_id) FROM visible_addresses(?)"
            " WHERE email IN (SELECT unnest(?::VARCHAR[])) GROUP BY email",
            [data_group, wanted],
        )
        return {r[0]: [int(c) for c in r[1]] for r in rows}

    def sample_contacts(self, data_group: str, n: int, offset: int = 0):
        """Contacts not opted out of the data group, each with one system address (the primary
        first), by contact id: contact_id, name, email. For demos and benchmarks."""
        return self.db.frame(
            "SELECT c.contact_id, c.name, min(a.email ORDER BY a.is_primary DESC, a.email)"
            " AS email FROM contacts c JOIN addresses a ON a.contact_id = c.contact_id"
            " AND a.kind = 'system' WHERE NOT EXISTS (SELECT 1 FROM optouts o"
            "  WHERE o.contact_id = c.contact_id AND o.data_group = ?)"
            " GROUP BY c.contact_id, c.name ORDER BY c.contact_id LIMIT ? OFFSET ?",
            [data_group, int(n), int(offset)],
        )

    # -- mailbox state ------------------------------------------------------------------
    def mailbox_state(self, mailbox: str, folder: str) -> dict | None:
        """uidvalidity, last_uid and last_poll_at remembered for one mailbox folder, or None."""
        rows = self.db.rows(
            "SELECT uidvalidity, last_uid, last_poll_at FROM mailbox_state"
            " WHERE mailbox = ? AND folder = ?",
            [mailbox, folder],
        )
        if not rows:
            return None
        return {"uidvalidity": rows[0][0], "last_uid": int(rows[0][1]), "last_poll_at": rows[0][2]}

    def set_mailbox_state(
        self, mailbox: str, folder: str, uidvalidity: int, last_uid: int,
        at: dt.datetime | None = None,
    ) -> None:
        """Remember where the next poll starts (an upsert)."""
        with self.db.transaction() as con:
            con.execute(
                "INSERT INTO mailbox_state VALUES (?, ?, ?, ?, ?) ON CONFLICT (mailbox, folder)"
                " DO UPDATE SET uidvalidity = excluded.uidvalidity, last_uid = excluded.last_uid,"
                " last_poll_at = excluded.last_poll_at",
                [mailbox, folder, int(uidvalidity), int(last_uid), at or utcnow()],
            )

    # -- job runs -----------------------------------------------------------------------
    def record_job_run(
        self, job: str, started_at: dt.datetime, *, ok: bool, detail: str | None = None,
        error: str | None = None, finished_at: dt.datetime | None = None,
    ) -> None:
        """One row per finished job run (the poll, the decay, the report…)."""
        with self.db.transaction() as con:
            con.execute(
                "INSERT INTO job_runs VALUES (?, ?, ?, ?, ?, ?)",
                [job, started_at, finished_at or utcnow(), ok, detail, error],
            )

    def job_runs(self, job: str | None = None, limit: int = 20):
        where, params = ("WHERE job = ?", [job]) if job else ("", [])
        return self.db.frame(
            f"SELECT * FROM job_runs {where} ORDER BY started_at DESC LIMIT ?", [*params, limit]
        )

    # -- status -------------------------------------------------------------------------
    def last_runs(self, jobs: list[str]) -> dict[str, dict]:
        """The last run of each of ``jobs`` (e.g. ``poll:fr-desk``): job → started_at,
        finished_at, ok, detail, error; a job never run is absent."""
        rows = self.db.rows(
            "SELECT job, started_at, finished_at, ok, detail, error FROM job_runs"
            " WHERE job IN (SELECT unnest(?::VARCHAR[]))"
            " QUALIFY row_number() OVER (PARTITION BY job ORDER BY started_at DESC) = 1",
            [list(jobs)])
        keys = ("started_at", "finished_at", "ok", "detail", "error")
        return {r[0]: dict(zip(keys, r[1:], strict=True)) for r in rows}

    def daemon_status(self) -> dict:
        """What ``optdesk status`` prints: last poll, counts per kind and status, errors, review."""
        with self.db.connection() as con:
            last = con.execute(
                "SELECT started_at, finished_at, ok, detail, error FROM job_runs"
                " WHERE job = 'poll' OR job LIKE 'poll:%' ORDER BY started_at DESC LIMIT 1"
            ).fetchall()
            last_error = con.execute(
                "SELECT job, finished_at, error FROM job_runs WHERE NOT ok"
                " ORDER BY started_at DESC LIMIT 1"
            ).fetchall()
            msg_error = con.execute(
                "SELECT uid, mailbox, processed_at, error FROM messages WHERE status = 'error'"
                " ORDER BY processed_at DESC LIMIT 1"
            ).fetchall()
            counts = con.sql(
                "SELECT kind, status, count(*)::BIGINT AS messages FROM messages"
                " GROUP BY ALL ORDER BY kind, status"
            ).pl()
            review = con.execute(
                "SELECT count(*) FROM messages WHERE review AND review_state = 'open'"
            ).fetchall()[0][0]
            states = con.sql("SELECT * FROM mailbox_state ORDER BY mailbox, folder").pl()
        keys = ("started_at", "finished_at", "ok", "detail", "error")
        return {
            "last_poll": dict(zip(keys, last[0], strict=True)) if last else None,
            "last_job_error": dict(zip(("job", "at", "error"), last_error[0], strict=True))
            if last_error else None,
            "last_message_error": dict(zip(("uid", "mailbox", "at", "error"), msg_error[0],
                                           strict=True)) if msg_error else None,
            "counts": counts,
            "open_reviews": int(review),
            "mailboxes": states,
        }
