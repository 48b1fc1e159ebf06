"""Connection handling: no connection held while idle, retries while another process holds the file.

DuckDB lets one process at a time open a file (read-write or read-only). The daemon and the
notebooks share one file, so every unit of work opens, runs its transaction and lets go. A burst
of calls may share one connection for at most ``burst`` seconds; after that it is closed, and the
next unit of work pauses briefly before re-opening so that a waiting process gets its turn.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import pathlib
import random
import threading
import time
import weakref
from collections.abc import Iterator, Sequence
from typing import Any

import duckdb
import polars as pl

from optdesk.errors import StoreBusy

log = logging.getLogger(__name__)

_LOCK_MARKERS = ("Could not set lock", "Conflicting lock", "database is locked")


_OPEN: weakref.WeakSet[Database] = weakref.WeakSet()


@atexit.register
def _close_all() -> None:
    """Close every open connection before the interpreter goes away: a close-timer thread
    firing during shutdown would otherwise make DuckDB abort the process."""
    for database in list(_OPEN):
        with database._mutex:
            database._close_locked()


def _is_lock_error(exc: Exception) -> bool:
    return any(marker in str(exc) for marker in _LOCK_MARKERS)


class Database:
    """Opens the DuckDB file on demand and closes it again; see the module docstring."""

    def __init__(self, path: str | pathlib.Path, *, busy_timeout: float = 30.0, burst: float = 1.0):
        self.path = pathlib.Path(path)
        self.busy_timeout = busy_timeout
        self.burst = burst
        self._mutex = threading.RLock()
        self._con: duckdb.DuckDBPyConnection | None = None
        self._opened_at = 0.0
        self._depth = 0
        self._in_tx = False
        self._expired_at = 0.0
        self._timer: threading.Timer | None = None
        self.opens = 0
        self.lock_waits = 0
        _OPEN.add(self)

    # -- opening and closing -------------------------------------------------------------
    def _open(self) -> duckdb.DuckDBPyConnection:
        if time.monotonic() - self._expired_at < 0.05:
            # we just gave a long burst up: leave a window for a process waiting on the lock
            time.sleep(random.uniform(0.01, 0.03))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        deadline = time.monotonic() + self.busy_timeout
        delay = 0.002
        while True:
            try:
                con = duckdb.connect(str(self.path))
                self.opens += 1
                return con
            except duckdb.IOException as exc:
                if not _is_lock_error(exc):
                    raise
                self.lock_waits += 1
                if time.monotonic() >= deadline:
                    raise StoreBusy(
                        f"the store {self.path} stayed locked by another process for "
                        f"{self.busy_timeout:.0f} s; try again in a moment"
                    ) from exc
                time.sleep(delay * random.uniform(0.5, 1.0))
                delay = min(delay * 2, 0.025)

    def _close_locked(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._con is not None:
            try:
                self._con.close()
            finally:
                self._con = None

    def _expire(self) -> None:
        with self._mutex:
            if self._depth == 0 and self._con is not None:
                self._close_locked()
                self._expired_at = time.monotonic()

    def release(self) -> None:
        """Close the connection now (call after a unit of work when nothing follows soon)."""
        with self._mutex:
            if self._depth == 0:
                self._close_locked()

    @contextlib.contextmanager
    def connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """The shared connection for one call; opened on demand, closed ``burst`` s after opening.

        The connection is used by one thread at a time: the block holds the store's mutex.
        """
        with self._mutex:
            if self._con is not None and self._depth == 0:
                if time.monotonic() - self._opened_at > self.burst:
                    self._close_locked()
                    self._expired_at = time.monotonic()
            if self._con is None:
                self._con = self._open()
                self._opened_at = time.monotonic()
                if self.burst > 0:
                    self._timer = threading.Timer(self.burst, self._expire)
                    self._timer.daemon = True
                    self._timer.start()
            self._depth += 1
            try:
                yield self._con
            finally:
                self._depth -= 1
                if self._depth == 0 and self.burst <= 0:
                    self._close_locked()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """One transaction: committed when the block ends, rolled back when it raises.

        A transaction opened inside another one joins it.
        """
        with self.connection() as con:
            if self._in_tx:
                yield con
                return
            con.begin()
            self._in_tx = True
            try:
                yield con
            except BaseException:
                self._in_tx = False
                con.rollback()
                raise
            self._in_tx = False
            con.commit()

    # -- helpers ------------------------------------------------------------------------
    def frame(self, sql: str, params: Sequence[Any] | None = None) -> pl.DataFrame:
        with self.connection() as con:
            return con.sql(sql, params=list(params or [])).pl()

    def rows(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        with self.connection() as con:
            return con.execute(sql, list(params or [])).fetchall()

    def scalar(self, sql: str, params: Sequence[Any] | None = None) -> Any:
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None
