"""The scheduled report: the cron trigger, and the job firing under a frozen clock in APScheduler 3,
writing the files and emailing the page to a real SMTP server (STARTTLS, login) on 127.0.0.1."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
import time_machine
from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED
from apscheduler.schedulers.background import BackgroundScheduler

from optdesk.daemon.crontab import crontab_fields, report_trigger
from optdesk.errors import ConfigError
from optdesk.reports.report import run_scheduled_report
from optdesk.settings import load_settings

from . import expected, gen

UTC = dt.UTC


def _settings(tmp_path, db="unused.duckdb", **reports):
    return load_settings(env={}, overrides={
        "db": str(db), "data_group": gen.G,
        "reports": {"out_dir": str(tmp_path / "reports"), **reports}})


@pytest.mark.parametrize(("cron", "now", "fires"), [
    # default: Mondays 07:00
    ("0 7 * * mon", dt.datetime(2026, 11, 25, 10, 0), dt.datetime(2026, 11, 30, 7, 0)),
    ("0 7 * * mon", dt.datetime(2026, 11, 30, 6, 59), dt.datetime(2026, 11, 30, 7, 0)),
    # cron's weekday numbers: 1 = Monday, 0 and 7 = Sunday (APScheduler 3 alone would say Tuesday)
    ("0 7 * * 1", dt.datetime(2026, 11, 25, 10, 0), dt.datetime(2026, 11, 30, 7, 0)),
    ("15 6 * * 0", dt.datetime(2026, 11, 25, 10, 0), dt.datetime(2026, 11, 29, 6, 15)),
    ("15 6 * * 7", dt.datetime(2026, 11, 25, 10, 0), dt.datetime(2026, 11, 29, 6, 15)),
    ("0 8 * * 1-5", dt.datetime(2026, 11, 27, 9, 0), dt.datetime(2026, 11, 30, 8, 0)),
    ("0 8 1 * *", dt.datetime(2026, 11, 27, 9, 0), dt.datetime(2026, 12, 1, 8, 0)),
])
def test_trigger_next_fire_time(tmp_path, cron, now, fires):
    trigger = report_trigger(_settings(tmp_path, cron=cron), timezone=UTC)
    with time_machine.travel(now.replace(tzinfo=UTC), tick=False):
        got = trigger.get_next_fire_time(None, dt.datetime.now(UTC))
    assert got == fires.replace(tzinfo=UTC)


def test_default_cron_is_monday_seven():
    assert load_settings(env={}).reports.cron == "0 7 * * mon"
    assert crontab_fields("0 7 * * 0-2")["day_of_week"] == "sun,mon,tue"


@pytest.mark.parametrize("cron", ["0 7 * *", "0 7 * * 5-1", "61 7 * * mon", "0 7 * * funday"])
def test_bad_cron(tmp_path, cron):
    with pytest.raises(ConfigError, match="reports.cron"):
        report_trigger(_settings(tmp_path, cron=cron), timezone=UTC)


@pytest.fixture
def gen_store(tmp_path):
    from optdesk.store import Store

    rows = gen.generate(21)
    store = Store(tmp_path / "gen.duckdb")
    gen.load(store, rows)
    store.release()
    return store, rows


def test_job_fires_under_frozen_clock_and_emails(tmp_path, gen_store, smtp_server, monkeypatch):
    store, rows = gen_store
    server = smtp_server("starttls", users={"reports": "s3cret"})
    monkeypatch.setenv("OPTDESK_SMTP_PASSWORD", "s3cret")
    settings = load_settings(env={}, overrides={
        "db": str(store.path), "data_group": gen.G,
        "reports": {"out_dir": str(tmp_path / "reports"), "trend_periods": 4,
                    "recipients": "boss@acme.example, team@acme.example"},
        "smtp": {"url": server.url, "ca_file": server.ca_file, "rate_per_second": 0},
        "invitations": {"sender_email": "optdesk@acme.example", "sender_name": "Acme, PR"}})
    done = threading.Event()
    outcome: dict = {}

    def listen(event):
        outcome["event"] = event
        done.set()

    # gen.END is Monday 2026-11-23 00:00 UTC: the 07:00 run reports the week before it
    with time_machine.travel(dt.datetime(2026, 11, 23, 6, 59, 59, 500000, tzinfo=UTC), tick=True):
        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_listener(listen, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        scheduler.add_job(run_scheduled_report, report_trigger(settings, timezone=UTC),
                          args=[settings], id="report")
        scheduler.start()
        try:
            assert scheduler.get_job("report").next_run_time == dt.datetime(2026, 11, 23, 7, tzinfo=UTC)
            assert done.wait(15), "the report job did not fire"
        finally:
            scheduler.shutdown(wait=True)
    event = outcome["event"]
    assert event.exception is None, event.traceback
    assert event.scheduled_run_time == dt.datetime(2026, 11, 23, 7, tzinfo=UTC)
    files = event.retval
    assert files.html == tmp_path / "reports" / "2026-11-23" / "alpha_20261116-20261122_report.html"
    (mail,) = server.messages
    assert sorted(mail["rcpt_tos"]) == ["boss@acme.example", "team@acme.example"]
    assert mail["tls"] and mail["login"] == "reports"
    msg = mail["message"]
    assert msg["Message-ID"] == files.message_id
    assert msg["From"].addresses[0].display_name == "Acme, PR"
    assert mail["mail_from"] == "optdesk@acme.example"
    assert str(files).endswith(f"; emailed as {files.message_id}")
    assert msg["Subject"] == "Opt-out report: alpha, 2026-11-16 – 2026-11-22"
    html = msg.get_body(("html",)).get_content()
    assert html.replace("\r\n", "\n").strip() == files.html.read_text(encoding="utf-8").strip()
    want = expected.summary(rows, gen.G, gen.START, gen.END)
    assert f"New opt-outs: {want['new_opt_outs']:,}" in msg.get_body(("plain",)).get_content()


def test_job_without_recipients_only_writes(tmp_path, gen_store, smtp_server):
    store, _ = gen_store
    server = smtp_server("plain")
    settings = load_settings(env={}, overrides={
        "db": str(store.path), "data_group": gen.G, "smtp": {"url": server.url},
        "reports": {"out_dir": str(tmp_path / "r"), "period_days": 14}})
    files = run_scheduled_report(settings, store, now=dt.datetime(2026, 11, 23, 7))
    assert files.html.name == "alpha_20261109-20261122_report.html"
    assert files.message_id is None and server.messages == []
    assert str(files) == f"report written to {files.html}"
