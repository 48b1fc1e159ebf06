"""The daemon's schedule: APScheduler 3 in a background thread, the main thread waiting for a stop.

Jobs: the poll every ``poll_interval`` seconds (never two at once, missed runs coalesced),
bounce-score decay every 6 hours, invitation expiry every hour (when the store has
``expire_invitations``), the scheduled report (when ``optdesk.reports.report`` has
``run_scheduled_report``). Every run is recorded in ``job_runs``; a failing job is logged and
recorded, and its next run still happens.

Mailbox trouble is an *incident*: said once (with what is wrong) when it starts and once when
it ends, retried with exponential backoff in between. SIGTERM and SIGINT let the current
message finish, commit and move what is done, and exit cleanly: the main thread waits for the
stop in steps of ``SIGNAL_CHECK`` seconds, because the kernel may hand a signal to any thread and
Python runs the handler only when the main thread wakes (a blocking scheduler could sleep until
its next job, a minute or more). With ``idle = true`` a second
connection waits in IMAP IDLE and starts a poll as soon as mail arrives.

Start-up refuses what cannot work before anything is applied: the token signing key is loaded
(a short one is a ConfigError) when the daemon is built, and the destination folders are checked
and created (``optdesk.folder_check``) before the first poll; a folder the server will not take
stops the daemon with that error.

Logging: start, stop and one line per poll that saw mail go to the ``optdesk.summary`` logger,
shown without ``-v``; the rest is INFO (``-v``) or DEBUG (``-vv``).
"""

from __future__ import annotations

import datetime as dt
import logging
import pathlib
import signal
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from optdesk.bounce_scoring import BounceScoring
from optdesk.daemon.crontab import report_trigger
from optdesk.daemon.ingest import Classify, Ingestor, PollResult, build_classifier
from optdesk.errors import (
    ConfigError,
    MailboxAuthError,
    MailboxError,
    MailboxUnavailable,
    NotFound,
    OptdeskError,
)
from optdesk.folder_check import prepare_folders
from optdesk.settings import Settings, find_signing_key, signing_key
from optdesk.sources import MailboxSource, open_source
from optdesk.store.base import utcnow

if TYPE_CHECKING:
    from optdesk.store import Store

log = logging.getLogger(__name__)
summary = logging.getLogger("optdesk.summary")  # shown without -v (optdesk.cli)

DECAY_HOURS = 6
EXPIRY_HOURS = 1
RETRIES_PER_POLL = 3
SIGNAL_CHECK = 0.5  # seconds: how soon the main thread notices a stop (see the module docstring)


class Backoff:
    """Exponential delays: first, 2×first, 4×first… up to ``cap`` seconds."""

    def __init__(self, first: float = 1.0, cap: float = 300.0) -> None:
        self.first, self.cap, self.failures = first, cap, 0

    def next_delay(self) -> float:
        self.failures += 1
        return min(self.cap, self.first * 2 ** (self.failures - 1))

    def reset(self) -> None:
        self.failures = 0


class Incidents:
    """Says what is wrong once per incident (per job), and when it is over."""

    def __init__(self) -> None:
        self.open: dict[str, tuple[str, int]] = {}

    def failed(self, job: str, exc: BaseException) -> None:
        kind = type(exc).__name__
        current = self.open.get(job)
        if current is None or current[0] != kind:
            expected = isinstance(exc, OptdeskError | OSError)
            log.error("%s: %s: %s (retrying with backoff; said once until it recovers)",
                      job, kind, exc, exc_info=None if expected else exc)
            self.open[job] = (kind, 1)
        else:
            self.open[job] = (kind, current[1] + 1)
            log.debug("%s: still failing (%s, %d times): %s", job, kind, current[1] + 1, exc)

    def recovered(self, job: str) -> None:
        current = self.open.pop(job, None)
        if current is not None:
            log.warning("%s: working again after %d failed attempts (%s)", job, current[1],
                        current[0])


def run_until_stopped(sched, stop_event: threading.Event) -> None:
    """Start the (background) schedule and wait here, in the main thread, until ``stop_event``
    is set or the schedule stops; then shut the schedule down without waiting for a running job
    (the caller waits for the poll lock)."""
    sched.start()
    try:
        while not stop_event.wait(SIGNAL_CHECK) and sched.running:
            pass
    finally:
        if sched.running:
            sched.shutdown(wait=False)


class Daemon:
    """Owns the store, the source and the ingestor; runs the jobs. Usable without the scheduler
    (``poll_job()`` directly) for tests."""

    def __init__(self, settings: Settings, store: Store | None = None,
                 source: MailboxSource | None = None, classify: Classify | None = None, *,
                 dry_run: bool = False, backoff: Backoff | None = None,
                 scoring: BounceScoring | None = None, job: str = "poll") -> None:
        """``classify`` and ``scoring`` default to the rules' (``build_classifier``); a test
        passing its own classify gets the default scoring unless it passes one. ``job`` names
        this mailbox's poll in the job runs (``poll:NAME`` with several mailboxes)."""
        from optdesk.store import Store  # noqa: F811 - the store opens only here

        self.settings = settings
        self.job = job  # the poll's job id and job_runs name ("poll:NAME" per [[mailboxes]] entry)
        key = None if classify is not None else self._signing_key(settings, dry_run)
        if store is None and dry_run and not pathlib.Path(settings.db).exists():
            raise NotFound(f"no store at {settings.db}: a dry run creates nothing "
                           "(optdesk init creates one)")
        self.store = store or Store(settings.db)
        self.source = source or open_source(settings.mailbox, settings)
        if classify is None:
            classifier = build_classifier(settings, self.store, key=key)
            classify, scoring = classifier.classify, classifier.rules.bounce_scoring
        self.classify = classify
        self.folders_ready = False
        self.fatal: ConfigError | None = None
        self.stop_event = threading.Event()
        self.woken = threading.Event()
        self.poll_lock = threading.Lock()
        self.backoff = backoff or Backoff(cap=max(60.0, float(settings.poll_interval)) * 5)
        self.not_before = 0.0
        self.incidents = Incidents()
        self.ingestor = Ingestor(self.store, self.source, self.classify, settings,
                                 dry_run=dry_run, should_stop=self.stop_event.is_set,
                                 scoring=scoring)
        self.scoring = self.ingestor.scoring
        self.scheduler = None
        self.last_result: PollResult | None = None

    @staticmethod
    def _signing_key(settings: Settings, dry_run: bool) -> bytes:
        """The token key, refused at start-up when too short. A dry run creates no key file:
        without one its token checks say "no key"."""
        if not dry_run:
            return signing_key(settings)
        key = find_signing_key(settings)
        if key is None:
            log.warning("no token signing key (%s or %s): this dry run reports tokens as "
                        "'no key'; a real run creates the file", settings.secret_env,
                        settings.secret_file)
        return key or b""

    def prepare(self) -> None:
        """Check and create the destination folders, once per daemon, before the first poll
        (a dry run only checks). A folder that cannot be used is a ConfigError, kept in
        ``fatal``: nothing has been applied, and the schedule stops."""
        if self.folders_ready:
            return
        try:
            prepare_folders(self.source, self.settings, create=not self.ingestor.dry_run)
        except ConfigError as exc:
            self.fatal = exc
            raise
        self.folders_ready = True

    # -- jobs -----------------------------------------------------------------------------
    def poll_job(self) -> PollResult | None:
        """The scheduled poll, with reconnects; errors are incidents, never exceptions. Polls
        again at once (a few times at most) when IDLE saw new mail meanwhile."""
        result = self._poll_job_once()
        for _ in range(5):
            if result is None or not self.woken.is_set() or self.stop_event.is_set():
                break
            result = self._poll_job_once()
        return result

    def _poll_job_once(self) -> PollResult | None:
        if self.stop_event.is_set() or time.monotonic() < self.not_before:
            return None
        with self.poll_lock:
            self.woken.clear()
            started = utcnow()
            try:
                result = self._poll_with_retries()
            except Exception as exc:  # noqa: BLE001 - recorded; the next poll still runs
                if self.fatal is not None:  # a folder that cannot work: stop, say why
                    self._record(self.job, started, ok=False, error=f"{type(exc).__name__}: {exc}")
                    self._halt()
                    return None
                self.incidents.failed(self.job, exc)
                delay = self.backoff.next_delay() * (5 if isinstance(exc, MailboxAuthError) else 1)
                self.not_before = time.monotonic() + delay
                self._record(self.job, started, ok=False, error=f"{type(exc).__name__}: {exc}")
                return None
            self.incidents.recovered(self.job)
            self.backoff.reset()
            self.last_result = result
            for line in result.plans:
                log.info("%s", line)
            if result.seen or result.rescan:
                summary.info("%s", result.summary())
            self._record(self.job, started, ok=True, detail=result.summary())
            self.store.release()
            return result

    def poll_once(self) -> PollResult:
        """``optdesk run --once``: connect, one poll, record it (unless a dry run), close.
        Errors propagate to the caller."""
        started = utcnow()
        previous = self._on_signals()
        try:
            with self.source:
                self.prepare()
                result = self.ingestor.poll()
            if not self.ingestor.dry_run:
                self._record(self.job, started, ok=True, detail=result.summary())
            return result
        except Exception as exc:
            if not self.ingestor.dry_run:
                self._record(self.job, started, ok=False, error=f"{type(exc).__name__}: {exc}")
            raise
        finally:
            self.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def _poll_with_retries(self) -> PollResult:
        quick = Backoff(first=0.5, cap=4.0)
        for attempt in range(1, RETRIES_PER_POLL + 1):
            try:
                self.prepare()
                return self.ingestor.poll()
            except MailboxUnavailable as exc:
                self.source.close()
                if attempt == RETRIES_PER_POLL or self.stop_event.wait(quick.next_delay()):
                    raise
                if attempt == 1 and self.job not in self.incidents.open:
                    log.info("poll: %s; reconnecting", exc)
        raise AssertionError("unreachable")

    def decay_job(self) -> None:
        self._run("decay", lambda: str(self.store.decay_bounce_scores(self.scoring)))

    def expiry_job(self) -> None:
        self._run("invitation_expiry",
                  lambda: f"{self.store.expire_invitations()} invitations expired")

    def report_job(self) -> None:
        from optdesk.reports import report as reports

        self._run("report", lambda: str(reports.run_scheduled_report(self.settings, self.store)),
                  said=summary)

    def _run(self, job: str, fn: Callable[[], str | None], said: logging.Logger = log) -> None:
        started = utcnow()
        try:
            detail = fn()
        except Exception as exc:  # noqa: BLE001 - a job error must not stop the schedule
            self.incidents.failed(job, exc)
            self._record(job, started, ok=False, error=f"{type(exc).__name__}: {exc}")
            return
        self.incidents.recovered(job)
        said.info("%s: %s", job, detail)
        self._record(job, started, ok=True, detail=detail)
        self.store.release()

    def _record(self, job: str, started: dt.datetime, **outcome) -> None:
        try:
            self.store.record_job_run(job, started, **outcome)
        except OptdeskError as exc:  # the store is busy or gone: say so, keep running
            log.warning("could not record the %s run in the store: %s", job, exc)

    # -- the schedule ---------------------------------------------------------------------
    def build_scheduler(self):
        from apscheduler.schedulers.background import BackgroundScheduler

        for name, level in (("apscheduler.scheduler", logging.ERROR),
                            ("apscheduler.executors.default", logging.WARNING)):
            logging.getLogger(name).setLevel(level)  # "skipped: already running" is expected
        sched = BackgroundScheduler()
        now = dt.datetime.now().astimezone()
        common = {"max_instances": 1, "coalesce": True, "misfire_grace_time": None}
        sched.add_job(self.poll_job, "interval", seconds=self.settings.poll_interval, id=self.job,
                      next_run_time=now, **common)
        sched.add_job(self.decay_job, "interval", hours=DECAY_HOURS, id="decay",
                      next_run_time=now, **common)
        sched.add_job(self.expiry_job, "interval", hours=EXPIRY_HOURS, id="invitation_expiry",
                      next_run_time=now, **common)
        sched.add_job(self.report_job, report_trigger(self.settings), id="report", **common)
        self.scheduler = sched
        return sched

    def wake(self) -> None:
        """Run the poll now (IDLE saw new mail)."""
        self.woken.set()
        if self.scheduler is not None and self.scheduler.running and not self.stop_event.is_set():
            self.scheduler.modify_job(self.job, next_run_time=dt.datetime.now().astimezone())

    def stop(self, *_args) -> None:
        """Finish the current message, then stop (the signal handler: it only sets the stop;
        the main thread shuts the schedule down)."""
        if not self.stop_event.is_set():
            summary.info("stopping: finishing the current message")
        self.stop_event.set()

    def _halt(self) -> None:
        self.stop_event.set()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=False)

    def run_forever(self) -> None:
        """The foreground daemon: returns after SIGTERM/SIGINT once the current work is done.
        Raises the ConfigError of a destination folder that cannot be used (before anything is
        applied)."""
        sched = self.build_scheduler()
        self._on_signals()
        if self.settings.idle:
            threading.Thread(target=self._idle_loop, name="optdesk-idle", daemon=True).start()
        summary.info("optdesk daemon: %s into %s (data group %s), polling every %d s%s",
                 self.source.url, self.settings.db, self.settings.data_group,
                 self.settings.poll_interval, " with IDLE" if self.settings.idle else "")
        run_until_stopped(sched, self.stop_event)
        self.poll_lock.acquire(timeout=600)  # let a running poll finish its message and moves
        self.close()
        if self.fatal is not None:
            raise self.fatal
        summary.info("optdesk daemon stopped")

    def _on_signals(self) -> dict:
        """SIGTERM/SIGINT → ``stop``; returns the handlers they replaced."""
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {sig: signal.signal(sig, self.stop) for sig in (signal.SIGTERM, signal.SIGINT)}

    def close(self) -> None:
        self.source.close()
        self.store.release()

    def _idle_loop(self) -> None:
        """A second connection waits for new mail and wakes the poll job."""
        watcher = open_source(self.settings.mailbox, self.settings)
        backoff = Backoff(cap=300.0)
        while not self.stop_event.is_set():
            try:
                if watcher.wait_for_new(min(float(self.settings.poll_interval), 300.0)):
                    self.wake()
                backoff.reset()
            except MailboxError as exc:
                watcher.close()
                log.debug("IDLE watcher: %s", exc)
                self.stop_event.wait(backoff.next_delay())
        watcher.close()
