"""The report's tables against an independent computation over generated rows."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from . import expected, gen

COUNTS = ("members", "opted_out", "new_reply", "new_manual", "new_list_unsubscribe",
          "new_complaint", "new_opt_outs", "opt_ins", "bounces_hard", "bounces_soft",
          "undeliverable_addresses", "invitations_sent", "invitations_accepted")


def test_lists_match_plain_python(generated):
    store, rows = generated
    got = store.report_lists(gen.G, gen.START, gen.END)
    want = expected.lists(rows, gen.G, gen.START, gen.END)
    assert sorted(got["list_id"]) == sorted(want)
    for row in got.iter_rows(named=True):
        w = want[row["list_id"]]
        assert row["name"] == w["name"]
        for col in COUNTS:
            assert row[col] == w[col], (row["list_id"], col)
        assert row["opt_out_rate"] == pytest.approx(w["opt_out_rate"])
    # the data has something in every column, so a column of zeros would be caught
    for col in COUNTS:
        assert got[col].sum() > 0, col


def test_lists_sorted_by_new_opt_outs_then_rate(small_generated):
    store, _ = small_generated
    got = store.report_lists(gen.G, gen.START, gen.END)
    keys = list(zip(got["new_opt_outs"], got["opt_out_rate"], strict=True))
    assert keys == sorted(keys, key=lambda k: (-k[0], -k[1]))


def test_other_group_is_separate(small_generated):
    store, rows = small_generated
    got = store.report_lists(gen.H, gen.START, gen.END)
    want = expected.lists(rows, gen.H, gen.START, gen.END)
    assert {r["list_id"]: r["new_opt_outs"] for r in got.iter_rows(named=True)} == {
        k: v["new_opt_outs"] for k, v in want.items()}
    assert set(got["list_id"]).isdisjoint(store.report_lists(gen.G, gen.START, gen.END)["list_id"])


def test_summary_counts_each_contact_once(generated):
    store, rows = generated
    got = store.report_summary(gen.G, gen.START, gen.END).row(0, named=True)
    want = expected.summary(rows, gen.G, gen.START, gen.END)
    for col in ("lists", "contacts_in_lists", "opted_out_in_lists", *COUNTS[1:]):
        assert got[col] == want[col], col


def test_trend_per_source(generated):
    store, rows = generated
    got = store.report_trend(gen.G, gen.END, gen.PERIOD, gen.TRENDS)
    want = expected.trend(rows, gen.G, gen.END, gen.PERIOD, gen.TRENDS)
    assert got.height == gen.TRENDS
    assert list(got["period_start"]) == [w["period_start"] for w in want]
    assert list(got["period_end"]) == [w["period_start"] + gen.PERIOD for w in want]
    for col in (*gen.SOURCES, "opt_outs", "opt_ins"):
        assert list(got[col]) == [w[col] for w in want], col
    assert got["opt_outs"].sum() > 0 and got["opt_ins"].sum() > 0


def test_list_trend(generated):
    store, rows = generated
    got = store.report_list_trend(gen.G, gen.END, gen.PERIOD, gen.TRENDS)
    want = expected.list_trend(rows, gen.G, gen.END, gen.PERIOD, gen.TRENDS)
    assert {(r["list_id"], r["period_start"]): r["opt_outs"] for r in got.iter_rows(named=True)} == want
    assert want


def test_last_trend_period_is_the_report_period(small_generated):
    store, _ = small_generated
    trend = store.report_trend(gen.G, gen.END, gen.PERIOD, gen.TRENDS)
    summary = store.report_summary(gen.G, gen.START, gen.END).row(0, named=True)
    assert trend["opt_outs"][-1] == summary["new_opt_outs"]
    assert trend["period_start"][-1] == gen.START


def test_compliance_clock(generated):
    store, rows = generated
    got = store.report_compliance(gen.G, gen.START, gen.END)
    want = expected.compliance(rows, gen.G, gen.START, gen.END)
    assert set(got["source"].to_list()) == set(want) | {None}
    for row in got.iter_rows(named=True):
        delays = want[row["source"]]
        assert row["opt_outs"] == len(delays)
        assert row["median_seconds"] == pytest.approx(expected.percentile(delays, 0.5))
        assert row["p95_seconds"] == pytest.approx(expected.percentile(delays, 0.95))
        assert row["max_seconds"] == pytest.approx(max(delays))


def test_compliance_known_delays(store):
    """Three reply opt-outs applied 10 s, 20 s and 90 s after arrival: median 20, p95 83, max 90."""
    at = dt.datetime(2026, 11, 20, 12)
    rows = {k: [] for k in ("contacts", "events", "messages")}
    for i, delay in enumerate((10, 90, 20), start=1):
        rows["contacts"].append({"contact_id": i, "name": f"C{i}"})
        rows["events"].append({"event_id": i, "occurred_at": at, "kind": "opt_out", "contact_id": i,
                               "data_group": gen.G, "source": "reply", "actor": "d",
                               "message_hash": f"h{i}"})
        rows["messages"].append({"message_hash": f"h{i}", "processed_at": at, "status": "done",
                                 "received_at": at - dt.timedelta(seconds=delay)})
    gen.load(store, rows)
    got = store.report_compliance(gen.G, gen.START, gen.END).filter(source="reply").row(0, named=True)
    assert (got["opt_outs"], got["median_seconds"], got["max_seconds"]) == (3, 20.0, 90.0)
    assert got["p95_seconds"] == pytest.approx(83.0)


def test_tables_on_one_connection(small_generated):
    store, _ = small_generated
    tables = store.report_tables(gen.G, gen.START, gen.END, trend_periods=gen.TRENDS)
    assert set(tables) == {"summary", "lists", "distributions", "outlets", "trend", "list_trend",
                           "compliance", "incidents"}
    assert tables["lists"].equals(store.report_lists(gen.G, gen.START, gen.END))
    assert tables["trend"].height == gen.TRENDS


def test_empty_group(store):
    gen.load(store, {"media_lists": [{"list_id": 1, "data_group": gen.G, "name": "Nobody"}]})
    tables = store.report_tables(gen.G, gen.START, gen.END, trend_periods=3)
    assert tables["lists"].row(0, named=True)["members"] == 0
    assert tables["summary"].row(0, named=True)["new_opt_outs"] == 0
    assert tables["trend"]["opt_outs"].to_list() == [0, 0, 0]
    assert tables["compliance"]["opt_outs"].to_list() == [0]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.integers(1, 20), periods=st.integers(1, 6), shift_hours=st.integers(-300, 72))
def test_any_period_and_trend(small_generated, days, periods, shift_hours):
    """Other period lengths, trend lengths and end times agree with plain Python too."""
    store, rows = small_generated
    end = gen.END + dt.timedelta(hours=shift_hours)
    start = end - dt.timedelta(days=days)
    tables = store.report_tables(gen.G, start, end, trend_periods=periods)
    want = expected.lists(rows, gen.G, start, end)
    got = {r["list_id"]: r for r in tables["lists"].iter_rows(named=True)}
    assert {k: [got[k][c] for c in COUNTS] for k in got} == {
        k: [w[c] for c in COUNTS] for k, w in want.items()}
    trend = expected.trend(rows, gen.G, end, end - start, periods)
    assert tables["trend"]["opt_outs"].to_list() == [t["opt_outs"] for t in trend]
    assert {(r["list_id"], r["period_start"]): r["opt_outs"]
            for r in tables["list_trend"].iter_rows(named=True)} == expected.list_trend(
        rows, gen.G, end, end - start, periods)
