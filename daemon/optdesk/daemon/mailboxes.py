"""One daemon for every mailbox: ``[[mailboxes]]`` (or the one ``mailbox``), and with ``serve``
the one-click endpoint in the same process, so that the store has one writer.

Each mailbox is a ``Daemon`` of its own (its source, ingestor, backoff, incidents, IDLE watcher,
its poll job ``poll:NAME`` in ``job_runs``) over the shared store and classifier; the jobs of the
store (bounce decay, invitation expiry, the report) run once. A mailbox that fails (down, wrong
password, a folder it will not make) is that mailbox's incident: the others go on polling.
Classification is one message at a time across mailboxes (the classifier keeps caches); fetching
and moving mail overlap.

Without ``[[mailboxes]]`` and without ``serve`` this is exactly ``Daemon`` (``run_forever`` of
the one mailbox).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import pathlib
import signal
import threading

from optdesk.daemon.ingest import PollResult, build_classifier
from optdesk.daemon.scheduler import Daemon, run_until_stopped
from optdesk.errors import NotFound
from optdesk.mailbox_settings import mailboxes

log = logging.getLogger(__name__)
summary = logging.getLogger("optdesk.summary")


class MailboxPoller(Daemon):
    """One of several mailboxes: a folder that cannot work stops this mailbox's job, not the
    schedule."""

    def _halt(self) -> None:
        self.stop_event.set()
        if self.scheduler is not None and self.scheduler.running:
            from apscheduler.jobstores.base import JobLookupError

            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(self.job)
        if self.fatal is not None:
            log.error("%s: stopped polling %s: %s (the other mailboxes go on)", self.job,
                      self.source.url, self.fatal)


def _locked(classify):
    lock = threading.Lock()

    def classify_one(raw: bytes):
        with lock:
            return classify(raw)

    classify_one.__self__ = getattr(classify, "__self__", None)  # the Ingestor reads its rules
    return classify_one


class DaemonService:
    """Every mailbox's poller over one store, and the one-click endpoint when ``serve``."""

    def __init__(self, settings, *, serve: bool = False, dry_run: bool = False) -> None:
        from optdesk.store import Store

        if dry_run and not pathlib.Path(settings.db).exists():
            raise NotFound(f"no store at {settings.db}: a dry run creates nothing "
                           "(optdesk init creates one)")
        self.settings = settings
        self.store = Store(settings.db)
        self.key = Daemon._signing_key(settings, dry_run)
        boxes = mailboxes(settings)
        self.multi = bool(settings.mailboxes)
        classifier = build_classifier(settings, self.store, key=self.key)
        classify, scoring = classifier.classify, classifier.rules.bounce_scoring
        if self.multi:
            classify = _locked(classify)
        self.pollers: list[Daemon] = [
            (MailboxPoller if self.multi else Daemon)(
                box.settings, self.store, classify=classify, scoring=scoring, dry_run=dry_run,
                job=f"poll:{box.name}" if self.multi else "poll")
            for box in boxes]
        self.serve = None
        if serve:
            from optdesk.serve.server import ServeThread

            self.serve = ServeThread(settings, self.store, self.key)
        self.scheduler = None
        self.stopping = threading.Event()

    # -- one poll of each -------------------------------------------------------------------
    def poll_once(self) -> list[PollResult]:
        """``optdesk run --once``: one poll of each mailbox in turn. With several mailboxes a
        failing one is logged and the others are still polled; the first error is raised at
        the end."""
        results, first_error = [], None
        for poller in self.pollers:
            try:
                results.append(poller.poll_once())
            except Exception as exc:
                if not self.multi:
                    raise
                log.error("%s: %s: %s", poller.job, type(exc).__name__, exc)
                first_error = first_error or exc
        if first_error is not None:
            raise first_error
        return results

    # -- the schedule -----------------------------------------------------------------------
    def run_forever(self) -> None:
        if not self.multi:
            self._with_serve(self.pollers[0].run_forever)
            return
        self._with_serve(self._run_all)

    def _with_serve(self, run) -> None:
        if self.serve is not None:
            self.serve.start()
        try:
            run()
        finally:
            if self.serve is not None:
                self.serve.stop()

    def build_scheduler(self):
        first, *others = self.pollers
        sched = first.build_scheduler()
        now = dt.datetime.now().astimezone()
        for poller in others:
            poller.scheduler = sched
            sched.add_job(poller.poll_job, "interval", seconds=poller.settings.poll_interval,
                          id=poller.job, next_run_time=now, max_instances=1, coalesce=True,
                          misfire_grace_time=None)
        self.scheduler = sched
        return sched

    def _run_all(self) -> None:
        sched = self.build_scheduler()
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGTERM, signal.SIGINT):
                signal.signal(sig, self.stop)
        for poller in self.pollers:
            if poller.settings.idle:
                threading.Thread(target=poller._idle_loop, name=f"optdesk-idle-{poller.job}",
                                 daemon=True).start()
            summary.info("optdesk daemon: %s %s into %s (data group %s), polling every %d s%s",
                         poller.job, poller.source.url, self.settings.db,
                         poller.settings.data_group, poller.settings.poll_interval,
                         " with IDLE" if poller.settings.idle else "")
        run_until_stopped(sched, self.stopping)
        for poller in self.pollers:
            poller.poll_lock.acquire(timeout=600)  # a running poll finishes its message
            poller.close()
        summary.info("optdesk daemon stopped")

    def stop(self, *_args) -> None:
        """SIGTERM/SIGINT: every poller finishes its current message, then the schedule stops
        (shut down by the main thread in ``run_until_stopped``)."""
        if not self.stopping.is_set():
            summary.info("stopping: finishing the current message")
        for poller in self.pollers:
            poller.stop_event.set()
        self.stopping.set()
