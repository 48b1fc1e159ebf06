"""Reports of opt-outs per media list: build the tables, write CSV + Parquet + HTML, email them.

``build_report(store, group, period)`` gathers the tables (see ``optdesk.store.reports`` for
what each column counts); ``write_report(report, out_dir)`` writes them under
``<out_dir>/<date>/``; ``run_scheduled_report(settings, store)`` is the daemon's job: the last
complete period for the configured data group, written and, when recipients are configured,
emailed. Its schedule is ``optdesk.daemon.crontab.report_trigger``.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import pathlib
import re
from email.message import EmailMessage
from email.utils import formataddr

import polars as pl

from optdesk import csv_export
from optdesk.errors import ConfigError, NotFound
from optdesk.settings import Settings

log = logging.getLogger(__name__)

TABLES = ("summary", "lists", "distributions", "outlets", "trend", "list_trend", "compliance",
          "incidents")


def utcnow() -> dt.datetime:
    """Now as naive UTC (the store's convention); a frozen clock in tests freezes this too."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


@dataclasses.dataclass(frozen=True)
class Period:
    """A half-open interval ``[start, end)`` of naive UTC timestamps, whole days."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"the period ends ({self.end:%Y-%m-%d}) before it starts "
                             f"({self.start:%Y-%m-%d})")

    @classmethod
    def last(cls, days: int, today: dt.date | None = None) -> Period:
        """The ``days`` complete days before ``today`` (UTC): last week when run on a Monday."""
        if days < 1:
            raise ConfigError(f"reports.period_days must be at least 1, got {days}")
        today = today or utcnow().date()
        end = dt.datetime(today.year, today.month, today.day)
        return cls(end - dt.timedelta(days=days), end)

    @classmethod
    def between(cls, since: dt.date | None, until: dt.date | None, days: int,
                today: dt.date | None = None) -> Period:
        """From the day ``since`` through the day ``until`` (both included). Missing ``since``:
        ``days`` days ending with ``until``; missing both: ``Period.last(days)``."""
        if since is None and until is None:
            return cls.last(days, today)
        today = today or utcnow().date()
        last_day = until or today
        end = dt.datetime(last_day.year, last_day.month, last_day.day) + dt.timedelta(days=1)
        start = (dt.datetime(since.year, since.month, since.day) if since
                 else end - dt.timedelta(days=days))
        return cls(start, end)

    @property
    def days(self) -> float:
        return (self.end - self.start) / dt.timedelta(days=1)

    @property
    def label(self) -> str:
        """E.g. '2026-11-16 – 2026-11-22' (the last day included)."""
        last = self.end - dt.timedelta(microseconds=1)
        return f"{self.start:%Y-%m-%d} – {last:%Y-%m-%d}"


@dataclasses.dataclass
class Report:
    """The report's tables for one data group and period."""

    data_group: str
    period: Period
    generated_at: dt.datetime
    tables: dict[str, pl.DataFrame]

    @property
    def summary(self) -> dict:
        return self.tables["summary"].row(0, named=True)


@dataclasses.dataclass
class ReportFiles:
    """What ``write_report`` wrote."""

    folder: pathlib.Path
    html: pathlib.Path
    csv: dict[str, pathlib.Path]
    parquet: dict[str, pathlib.Path]
    message_id: str | None = None

    def __str__(self) -> str:
        """One line for logs and job_runs."""
        sent = f"; emailed as {self.message_id}" if self.message_id else ""
        return f"report written to {self.html}{sent}"


def build_report(store, data_group: str, period: Period, trend_periods: int = 8) -> Report:
    """Gather every table of the report from the store (one connection)."""
    if data_group not in store.data_groups():
        raise NotFound(f"no data group {data_group!r} in {store.path}")
    tables = store.report_tables(data_group, period.start, period.end, trend_periods)
    return Report(data_group, period, utcnow(), tables)


def slug(name: str) -> str:
    """A file-name-safe form of a data group's name."""
    cleaned = re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("._")
    return cleaned or "group"


def write_report(report: Report, out_dir: str | pathlib.Path = "data/reports") -> ReportFiles:
    """Write CSV and Parquet of each table and one HTML page under ``out_dir/<today>/``.

    File names start with the data group's slug and the period, so reports of several groups
    or periods made on one day sit side by side.
    """
    from optdesk.reports.html import render_html

    folder = pathlib.Path(out_dir) / f"{report.generated_at:%Y-%m-%d}"
    folder.mkdir(parents=True, exist_ok=True)
    last = report.period.end - dt.timedelta(microseconds=1)
    stem = f"{slug(report.data_group)}_{report.period.start:%Y%m%d}-{last:%Y%m%d}"
    csv, parquet = {}, {}
    for name in TABLES:
        frame = report.tables[name]
        csv[name] = folder / f"{stem}_{name}.csv"
        parquet[name] = folder / f"{stem}_{name}.parquet"
        csv_export.write_csv(frame, csv[name])  # for people: formula cells neutralised
        frame.write_parquet(parquet[name])
    html = folder / f"{stem}_report.html"
    html.write_text(render_html(report), encoding="utf-8")
    log.info("report for %s (%s) written to %s", report.data_group, report.period.label, folder)
    return ReportFiles(folder, html, csv, parquet)


def report_email(report: Report, html: str, sender: str, recipients: tuple[str, ...]) -> EmailMessage:
    """The report as an email: a plain-text summary with the HTML page as the alternative."""
    from optdesk.outgoing.smtp import build_message

    s = report.summary
    text = (
        f"Opt-outs per media list — data group {report.data_group}, {report.period.label}\n\n"
        f"New opt-outs: {s['new_opt_outs']:,} (reply {s['new_reply']:,}, manual {s['new_manual']:,}, "
        f"list-unsubscribe {s['new_list_unsubscribe']:,}, complaint {s['new_complaint']:,}, "
        f"one-click {s['new_one_click']:,}, sending tool {s['new_sending_tool']:,})\n"
        f"Opt-ins: {s['opt_ins']:,}\nOpted out now: {s['opted_out']:,}\n"
        f"{_incident_lines(report)}\n"
        "The full report is the HTML part of this message.\n"
    )
    return build_message(
        sender=sender, to=recipients, text=text, html=html,
        subject=f"Opt-out report: {report.data_group}, {report.period.label}",
    )


def _incident_lines(report: Report) -> str:
    """The sending incidents of the period, one line each (at most 10), for the email's text."""
    from optdesk.classify.bounce_reasons import incident_sentence

    frame = report.tables.get("incidents")
    if frame is None or frame.height == 0:
        return "Sending incidents: none\n"
    lines = [f"  {incident_sentence(r['provider'], r['reason'], r['messages'], r['recipients'])}"
             for r in frame.head(10).iter_rows(named=True)]
    return "Sending incidents (our mail refused or lost; no contact counted):\n" + "\n".join(lines) + "\n"


def run_scheduled_report(settings: Settings, store=None, now: dt.datetime | None = None) -> ReportFiles:
    """The scheduler's job: report the last ``period_days`` for ``settings.data_group``, write it
    under ``settings.reports.out_dir`` and email it when ``settings.reports.recipients`` is set.
    """
    from optdesk.outgoing.smtp import SmtpSender

    if store is None:
        from optdesk.store import Store

        store = Store(settings.db)
    cfg = settings.reports
    today = (now or utcnow()).date()
    report = build_report(store, settings.data_group, Period.last(cfg.period_days, today),
                          cfg.trend_periods)
    store.release()
    files = write_report(report, cfg.out_dir)
    if cfg.recipients:
        inv = settings.invitations
        sender = formataddr((inv.sender_name, inv.sender_email))
        msg = report_email(report, files.html.read_text(encoding="utf-8"), sender, cfg.recipients)
        with SmtpSender(settings.smtp) as smtp:
            files.message_id = smtp.send(msg)
        log.info("report emailed to %d recipients (%s)", len(cfg.recipients), files.message_id)
    return files
