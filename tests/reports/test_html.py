"""The HTML page: numbers, escaping, self-containment, and a real render in headless Chromium."""

from __future__ import annotations

import pathlib
import re

import polars as pl
import pytest

from optdesk.reports.html import duration, render_html
from optdesk.reports.report import Period, build_report, write_report

from . import expected, gen

ARTIFACTS = pathlib.Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
EVIL = '<script>alert("x")</script> & <b>'


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    from optdesk.store import Store

    rows = gen.generate(5)
    rows["media_lists"].append({"list_id": 99, "data_group": gen.G, "name": EVIL})
    rows["list_members"] += [{"list_id": 99, "contact_id": c} for c in range(1, 120)]
    store = Store(tmp_path_factory.mktemp("html") / "gen.duckdb")
    gen.load(store, rows)
    return build_report(store, gen.G, Period(gen.START, gen.END), trend_periods=gen.TRENDS), rows


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        yield b
        b.close()


def test_values_are_escaped(report):
    page = render_html(report[0])
    assert "<script" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;b&gt;" in page
    assert "Tech &lt;FR&gt; &amp; &quot;Co&quot;" in page


def test_page_is_self_contained(report):
    page = render_html(report[0])
    for outside in ("src=", "href=", "@import", "url(", "<link", "<script", "<iframe"):
        assert outside not in page.lower()
    assert page.count("<svg") >= 3


def test_summary_cards_show_the_numbers(report):
    rep, rows = report
    want = expected.summary(rows, gen.G, gen.START, gen.END)
    page = render_html(rep)
    assert f"<b>{want['new_opt_outs']:,}</b>" in page
    assert f"<b>{want['opt_ins']:,}</b>" in page
    assert f"<b>{want['bounces_hard']:,} / {want['bounces_soft']:,}</b>" in page
    for src in gen.SOURCES:
        assert f"{src.replace('_', '-')} {want['new_' + src]:,}" in page


@pytest.mark.parametrize(("seconds", "text"), [
    (None, "–"), (45, "45 s"), (600, "10 min"), (7200, "2.0 h"), (3 * 86400, "3.0 d")])
def test_duration(seconds, text):
    assert duration(seconds) == text


def test_files_written(report, tmp_path):
    rep, _ = report
    files = write_report(rep, tmp_path)
    assert files.folder == tmp_path / f"{rep.generated_at:%Y-%m-%d}"
    assert files.html.read_text(encoding="utf-8") == render_html(rep)
    for name, frame in rep.tables.items():
        assert pl.read_parquet(files.parquet[name]).equals(frame), name
        back = pl.read_csv(files.csv[name], try_parse_dates=True)
        assert back.height == frame.height and back.columns == frame.columns, name
    lists = pl.read_csv(files.csv["lists"])
    assert lists["new_opt_outs"].to_list() == rep.tables["lists"]["new_opt_outs"].to_list()


def test_rendered_in_chromium(report, browser, tmp_path):
    """Render the page, save a picture under tests/artifacts/, and check what a reader sees."""
    rep, rows = report
    files = write_report(rep, tmp_path)
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("request", lambda r: errors.append(r.url) if not r.url.startswith("file:") else None)
    page.goto(files.html.as_uri())
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    assert errors == []
    charts = page.locator("svg[aria-label]")
    assert charts.count() == 2
    for i in range(2):
        box = charts.nth(i).bounding_box()
        assert box and box["width"] > 500 and box["height"] > 150
    want = expected.lists(rows, gen.G, gen.START, gen.END)
    with_new = sum(1 for r in want.values() if r["new_opt_outs"] > 0)
    bar_labels = charts.nth(0).locator("text title")
    assert bar_labels.count() == min(with_new, 20)
    assert page.locator("table").nth(1).locator("tr").count() == 2 + len(want)
    assert EVIL in page.inner_text("body")  # shown as text, not run
    assert re.search(r"\d+ of \d+ lists shown", page.inner_text("body"))
    page.close()


def test_group_without_lists_or_events(store, tmp_path):
    gen.load(store, {"contacts": [{"contact_id": 1, "name": "A"}]})
    store.opt_out(1, "lonely", source="manual", actor="t", at=gen.START)
    rep = build_report(store, "lonely", Period(gen.START, gen.END), trend_periods=3)
    assert rep.summary["new_opt_outs"] == 1 and rep.summary["lists"] == 0
    page = render_html(rep)
    assert "No new opt-outs in any list" in page
    assert "0 of 0 lists shown" in page
    assert write_report(rep, tmp_path).html.exists()
