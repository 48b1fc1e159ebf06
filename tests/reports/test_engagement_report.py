"""The report's engagement per distribution and per list, and its outlet opt-outs (issue 15)."""

from __future__ import annotations

import datetime as dt

from fixtures.store import contact_row, outlet_row, write_outlets_csv
from optdesk.engagement.presets import preset
from optdesk.reports.html import render_html
from optdesk.reports.report import Period, build_report
from optdesk.store import Store

EVIL = "<script>alert(1)</script>"


def test_engagement_per_distribution_and_list_and_outlet_opt_outs(tmp_path, contacts_csv):
    store = Store(tmp_path / "s.duckdb")
    store.import_contacts(contacts_csv([
        contact_row(1, "one@x.example", outlet="Daily", lists="Tech"),
        contact_row(2, "two@x.example", outlet="Daily", lists="Tech"),
        contact_row(3, "three@x.example", outlet="Weekly", lists="Food"),
        contact_row(4, "four@x.example", outlet="Weekly", lists="Food")]), "g1")
    store.import_outlets(write_outlets_csv(tmp_path / "o.csv", [
        outlet_row(1, "newsdesk@daily.example", name="Daily")]), "g1")
    export = tmp_path / "e.csv"
    export.write_text(
        "email,event,timestamp\n"
        "one@x.example,open,2026-03-02 10:00:00\none@x.example,open,2026-03-02 11:00:00\n"
        "one@x.example,click,2026-03-02 11:01:00\ntwo@x.example,open,2026-03-02 12:00:00\n"
        "three@x.example,delivered,2026-03-02 09:00:00\n"
        "four@x.example,unsubscribe,2026-03-02 13:00:00\n", encoding="utf-8")
    store.import_engagement(export, "g1", EVIL, preset("generic"))
    old = tmp_path / "old.csv"
    old.write_text("email,event,timestamp\nthree@x.example,click,2025-01-01 10:00:00\n",
                   encoding="utf-8")
    store.import_engagement(old, "g1", "last year", preset("generic"))
    store.opt_out_outlet(1, "g1", source="manual", actor="ana", reason=EVIL, with_contacts=True)
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    report = build_report(store, "g1", Period(dt.datetime(2026, 3, 1), now + dt.timedelta(days=1)))
    d = report.tables["distributions"].to_dicts()
    assert d == [{"distribution": EVIL, "recipients": 4, "opens": 3, "clicks": 1, "openers": 2,
                  "clickers": 1, "unsubscribes": 1, "complaints": 0, "opt_out_rate": 0.25}]
    lists = {r["name"]: r for r in report.tables["lists"].iter_rows(named=True)}
    assert (lists["Tech"]["opens"], lists["Tech"]["clicks"], lists["Tech"]["engaged"]) == (3, 1, 2)
    assert (lists["Food"]["opens"], lists["Food"]["clicks"], lists["Food"]["engaged"]) == (0, 0, 0)
    assert lists["Tech"]["opted_out"] == 2  # with the outlet
    outlets = report.tables["outlets"].to_dicts()
    assert len(outlets) == 1 and outlets[0]["outlet"] == "Daily"
    assert outlets[0]["contacts_opted_out"] == 2 and outlets[0]["with_contacts"]
    page = render_html(report)
    assert EVIL not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Engagement per distribution of the period" in page and "25.00%" in page
    assert "Outlets opted out in the period" in page and "2 opted out with it" in page


def test_the_reports_view_shows_engagement_and_outlets(tmp_path, contacts_csv):
    from optdesk.settings import load_settings
    from optdesk.views.reports_view import ReportsView

    store = Store(tmp_path / "s.duckdb")
    store.import_contacts(contacts_csv([contact_row(1, "one@x.example", lists="Tech")]), "g1")
    view = ReportsView(store, load_settings(env={}), "g1")
    assert "Engagement per distribution" in view.sections["distributions"].value
    assert "Outlets opted out in the period" in view.sections["outlets"].value
