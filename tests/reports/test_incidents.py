"""Sending incidents in the report: the table, the HTML page (escaped), the files, the email text
and the notebook view's section."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from optdesk.reports.html import render_html, sections
from optdesk.reports.report import Period, build_report, report_email, write_report
from optdesk.settings import load_settings

from . import gen

EVIL = '<script>alert("x")</script> & <b>'


def _incident(store, provider, reason, at, group=gen.G, n=1, diagnostic="550 5.7.1 blocked"):
    store.record_incident({"reason": reason, "family": "sending", "provider": provider,
                           "remote": f"mx.{provider}", "status": "5.7.1", "code": "550",
                           "diagnostic": diagnostic, "count": n,
                           "recipients": [f"r{i}@{provider}" for i in range(n)]},
                          data_group=group, message_hash=f"{provider}-{reason}-{at:%j%H%M}-{n}",
                          received_at=at)


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from optdesk.store import Store

    store = Store(tmp_path_factory.mktemp("incidents") / "gen.duckdb")
    gen.load(store, gen.generate(3))
    inside = gen.START + dt.timedelta(days=1)
    for hour in range(14):
        _incident(store, "outlook.com", "blocked", inside + dt.timedelta(hours=hour))
    _incident(store, "google.com", "authfailure", inside, n=3)
    _incident(store, EVIL, "spamdetected", inside, diagnostic=EVIL)
    _incident(store, "other-group.example", "blocked", inside, group="someone-else")
    _incident(store, "too-early.example", "blocked", gen.START - dt.timedelta(days=3))
    rep = build_report(store, gen.G, Period(gen.START, gen.END), trend_periods=gen.TRENDS)
    return rep, store


def test_table_per_provider_and_reason(report):
    rep, _ = report
    rows = rep.tables["incidents"].rows(named=True)
    assert [(r["provider"], r["reason"], r["messages"], r["recipients"]) for r in rows[:2]] == [
        ("outlook.com", "blocked", 14, 14), ("google.com", "authfailure", 1, 3)]
    providers = {r["provider"] for r in rows}
    assert "other-group.example" not in providers and "too-early.example" not in providers
    assert rows[0]["status"] == "5.7.1" and rows[0]["reply_code"] == "550"


def test_page_shows_incidents_escaped(report):
    rep, _ = report
    page = render_html(rep)
    assert "Sending incidents: our mail refused or lost" in page
    assert "outlook.com refused 14 messages: our IP or domain is on a block list" in page
    assert "<script" not in page and "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert "sending incidents (our mail refused or lost)" in sections(rep)["summary"]


def test_files_include_incidents(report, tmp_path):
    rep, _ = report
    files = write_report(rep, tmp_path)
    back = pl.read_parquet(files.parquet["incidents"])
    assert back.equals(rep.tables["incidents"])
    assert "outlook.com" in files.csv["incidents"].read_text(encoding="utf-8")


def test_email_lists_incidents(report):
    rep, _ = report
    msg = report_email(rep, render_html(rep), "press@example.org", ("team@example.org",))
    text = msg.get_body(("plain",)).get_content()
    assert "Sending incidents (our mail refused or lost; no contact counted):" in text
    assert "outlook.com refused 14 messages" in text


def test_no_incidents_says_so(tmp_path):
    from optdesk.store import Store

    store = Store(tmp_path / "empty.duckdb")
    gen.load(store, gen.generate(2))
    rep = build_report(store, gen.G, Period(gen.START, gen.END), trend_periods=2)
    assert rep.tables["incidents"].height == 0
    assert "No sending incidents in" in sections(rep)["incidents"]


def test_notebook_view_shows_incidents(report, tmp_path):
    from optdesk.views.reports_view import ReportsView

    _, store = report
    settings = load_settings(env={}, overrides={
        "db": str(store.path), "data_group": gen.G, "reports": {"out_dir": str(tmp_path)}})
    view = ReportsView(store, settings, today=gen.END.date())
    html = view.sections["incidents"].value
    assert "outlook.com refused 14 messages" in html and "<script" not in html
    assert view.report.tables["incidents"].height >= 3
