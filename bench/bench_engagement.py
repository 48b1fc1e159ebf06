"""Engagement benchmarks on a 1,000,000-contact demo store (issue 15).

Run: .venv/bin/python bench/bench_engagement.py [--contacts N] [--events N] [--out docs/benchmarks/engagement.md]
Measures the import of a generic export of 1 M events (delivered, open, click; a tenth of the
addresses unknown; a tenth of the opens by a privacy proxy), its re-import (all rows replaced),
the engagers of that distribution (sorted by engagement, by reach, only clickers, one list) and
one interaction of the engagement view (notebook 06: the page of 200, the counts, the table).
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import statistics
import sys
import tempfile
import time

import polars as pl

from optdesk.engagement.presets import preset
from optdesk.store import Store


def export(path: pathlib.Path, store: Store, events: int) -> pathlib.Path:
    """A generic export: 5 events per address (delivered, open, open, click, open), a tenth of
    the addresses unknown, every 50th row by the privacy proxy's user agent."""
    people = store.db.frame(
        "SELECT email FROM addresses WHERE kind = 'system' AND is_primary ORDER BY contact_id"
        " LIMIT ?", [events // 5])["email"]
    i = pl.int_range(0, events, eager=True).alias("i")
    df = pl.DataFrame({"i": i, "who": (i * 7919) % people.len()})
    start = dt.datetime(2026, 3, 1, 9)
    df = df.with_columns(
        pl.when(pl.col("who") % 10 == 9)
        .then(pl.lit("x") + pl.col("who").cast(pl.String) + "@unknown.example")
        .otherwise(people.gather(df["who"])).alias("email"),
        pl.Series(["delivered", "open", "open", "click", "open"]).gather(i % 5).alias("event"),
        (pl.lit(start) + pl.duration(seconds=pl.col("i") % 86_400)).dt.strftime(
            "%Y-%m-%dT%H:%M:%SZ").alias("timestamp"),
        pl.when(pl.col("i") % 50 == 1).then(pl.lit("Mozilla/5.0"))
        .otherwise(pl.lit("Thunderbird")).alias("user_agent"),
    )
    df.select("email", "event", "timestamp", "user_agent").write_csv(path)
    return path


def ms(fn, *a, **k) -> float:
    t = time.perf_counter()
    fn(*a, **k)
    return (time.perf_counter() - t) * 1000


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--out", default="docs/benchmarks/engagement.md")
    args = parser.parse_args()
    res = {}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(pathlib.Path(tmp) / "bench.duckdb")
        store.init_demo(args.contacts)
        path = export(pathlib.Path(tmp) / "events.csv", store, args.events)
        t = time.perf_counter()
        counts = store.import_engagement(path, "demo", "launch", preset("generic"))
        res[f"import of {counts['rows']:,} events (generic CSV), fresh"] = \
            f"{time.perf_counter() - t:.1f} s"
        t = time.perf_counter()
        store.import_engagement(path, "demo", "launch", preset("generic"))
        res["re-import of the same file (every row replaced)"] = f"{time.perf_counter() - t:.1f} s"
        lists = store.lists("demo")["name"].to_list()[:5]
        for label, kw in (("sorted by engagement", {}), ("sorted by reach", {"sort_by": "reach"}),
                          ("clickers only", {"event": "click"}),
                          ("one list", {"lists": lists[:1]})):
            samples = [ms(store.engagers, "demo", "launch", limit=200, **kw) for _ in range(7)]
            res[f"engagers, first 200, {label} (warm)"] = f"{statistics.median(samples):.0f} ms"
        from optdesk.views.engagement import EngagementView

        view = EngagementView(store, "demo")
        for label, control, values in (("sort", view.sort, ["reach", "outlet", "engagement"]),
                                       ("who", view.event, ["click", "open", ""]),
                                       ("list", view.lists, [tuple(lists[:1]), ()])):
            samples = []
            for _ in range(3):
                for value in values:
                    samples.append(ms(setattr, control, "value", value))
            res[f"engagement view, one interaction ({label}: page, counts, table; warm)"] = \
                f"{statistics.median(samples):.0f} ms (max {max(samples):.0f})"
        engaged = store.engagers("demo", "launch", event="click")
        res["engaged contacts (clickers)"] = f"{engaged.height:,}"
        ids = engaged["contact_id"].drop_nulls().to_list()
        res[f"add {len(ids):,} clickers to a new list"] = \
            f"{ms(store.add_to_list, 'demo', 'Clickers', ids):.0f} ms"
    targets = {"import of": "< 60 s", "engagers": "< 200 ms", "engagement view": "< 200 ms"}
    rows = "\n".join(f"| {k} | {next((v for t, v in targets.items() if k.startswith(t)), '—')} "
                     f"| {v} |" for k, v in res.items())
    text = (f"## Engagement ({args.contacts:,}-contact demo store)\n\n"
            f"`python bench/bench_engagement.py --contacts {args.contacts} --events {args.events}`"
            f" on 2 cores, {dt.date.today():%Y-%m-%d}. One distribution; the export: delivered,"
            f" open, click for {args.events // 5:,} addresses (a tenth unknown), 2 % of rows by"
            " a proxy user agent. Store API,"
            " medians of 7.\n\n| measure | target | result |\n|---|---|---|\n" + rows + "\n")
    pathlib.Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
