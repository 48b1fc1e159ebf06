"""One thread writes the one-click requests: whatever has queued up goes into one transaction.

A burst of POSTs becomes a few transactions instead of one per request (one DuckDB commit costs
milliseconds), and the store keeps one writer in this process. A request is answered only after
its transaction committed (the handler waits on its future), so an answer of 200 means applied;
a store that stays busy past its timeout fails that batch's futures and the handler says "try
again" (503), having changed nothing.
"""

from __future__ import annotations

import logging
import queue
import threading
from concurrent.futures import Future

from optdesk.store.one_click import OneClickRequest

log = logging.getLogger(__name__)
_STOP = object()


class OneClickWriter:
    """``submit(request) -> Future[str]`` (the outcome, see ``optdesk.store.one_click``)."""

    def __init__(self, store, max_batch: int = 1000) -> None:
        self.store = store
        self.max_batch = max_batch
        self._queue: queue.Queue = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="optdesk-one-click", daemon=True)
        self.batches = 0
        self.applied = 0
        self._thread.start()

    def submit(self, request: OneClickRequest) -> Future:
        future: Future = Future()
        self._queue.put((request, future))
        return future

    def close(self, timeout: float = 60.0) -> None:
        """Write what is queued, then stop the thread."""
        self._queue.put(_STOP)
        self._thread.join(timeout)

    def _take(self) -> tuple[list, bool]:
        first = self._queue.get()
        if first is _STOP:
            return [], True
        items, stop = [first], False
        while len(items) < self.max_batch:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                stop = True
                break
            items.append(item)
        return items, stop

    def _run(self) -> None:
        stop = False
        while not stop:
            items, stop = self._take()
            if not items:
                continue
            try:
                # the store lets go of the file ``burst`` s (1 s) after opening it, so another
                # process gets its turn; closing after every batch would cost a checkpoint and
                # a re-open per request when they trickle in
                outcomes = self.store.apply_one_clicks([r for r, _ in items])
            except Exception as exc:  # noqa: BLE001 - each waiting request is told
                log.error("one-click: %d requests not applied: %s: %s", len(items),
                          type(exc).__name__, exc)
                for _, future in items:
                    future.set_exception(exc)
                continue
            self.batches += 1
            self.applied += outcomes.count("applied")
            for (_, future), outcome in zip(items, outcomes, strict=True):
                future.set_result(outcome)
