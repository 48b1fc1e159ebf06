"""Outlet benchmarks on a 1,000,000-contact demo store (issue 15).

Run: .venv/bin/python bench/bench_outlets.py [--contacts N] [--reuse PATH] [--out docs/benchmarks/outlets.md]
Measures an outlet opt-out with its 200 contacts (each its own event), without them, its undo,
the outlet record and one group's suppression list with outlet addresses, through the public
Store API. Each sample uses an outlet not opted out before; 200 contacts are moved to it first.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import shutil
import statistics
import sys
import tempfile
import time

from optdesk.store import Store


def timed(fn, *args, **kwargs) -> float:
    start = time.perf_counter()
    fn(*args, **kwargs)
    return (time.perf_counter() - start) * 1000


def median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples):.1f} ms (p90 {sorted(samples)[int(len(samples) * 0.9)]:.1f})"


def give_200_contacts(store: Store, outlets: list[int]) -> None:
    with store.db.transaction() as con:
        for k, outlet in enumerate(outlets):
            con.execute("UPDATE contacts SET outlet_id = ? WHERE contact_id BETWEEN ? AND ?",
                        [outlet, 100_000 + k * 200, 100_000 + k * 200 + 199])


def bench(store: Store) -> dict[str, str]:
    outlets = [r[0] for r in store.db.rows(
        "SELECT outlet_id FROM outlets ORDER BY outlet_id LIMIT 80 OFFSET 100")]
    give_200_contacts(store, outlets)
    res = {}
    with_c, cold, plain = outlets[:20], outlets[40:60], outlets[60:80]
    samples = []
    for o in with_c:
        store.opt_out_outlet(o - 100, "demo", source="manual", actor="bench")  # warm the burst
        samples.append(timed(store.opt_out_outlet, o, "demo", source="manual", actor="bench",
                             reason="bench", with_contacts=True))
    n = store.db.scalar("SELECT count(*) FROM events WHERE outlet_id = ? AND kind = 'opt_out'",
                        [with_c[0]])
    res[f"outlet opt-out with its contacts ({n} new contact opt-outs, warm)"] = median_ms(samples)
    samples = []
    for o in cold:
        store.release()
        samples.append(timed(store.opt_out_outlet, o, "demo", source="manual", actor="bench",
                             reason="bench", with_contacts=True))
    res["outlet opt-out with its contacts (cold)"] = median_ms(samples)
    samples = [timed(store.opt_out_outlet, o, "demo", source="manual", actor="bench",
                     reason="bench") for o in plain]
    res["outlet opt-out, its addresses only (warm)"] = median_ms(samples)
    samples = [timed(store.opt_in_outlet, o, "demo", source="manual", actor="bench",
                     with_contacts=True) for o in with_c]
    res["undo of an outlet opt-out with its contacts (warm)"] = median_ms(samples)
    samples = [timed(store.outlet, o, "demo") for o in outlets]
    res["outlet record (addresses, 200 contacts; warm)"] = median_ms(samples)
    samples = []
    for _ in range(5):
        store.release()
        samples.append(timed(store.suppressions, "demo"))
    size = store.suppressions("demo").height
    res[f"suppression list of one group ({size:,} addresses, cold)"] = median_ms(samples)
    return res


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--reuse", help="an existing demo store to copy instead of building one")
    parser.add_argument("--out", default="docs/benchmarks/outlets.md")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "bench.duckdb"
        if args.reuse:
            shutil.copy(args.reuse, path)
            store = Store(path)
        else:
            store = Store(path)
            store.init_demo(args.contacts)
        results = bench(store)
    targets = {"outlet opt-out with its contacts": "< 100 ms"}
    rows = "\n".join(f"| {k} | {next((v for t, v in targets.items() if k.startswith(t)), '—')} "
                     f"| {v} |" for k, v in results.items())
    text = (f"## Outlets ({args.contacts:,}-contact demo store)\n\n"
            f"`python bench/bench_outlets.py --contacts {args.contacts}` on 2 cores, "
            f"{dt.date.today():%Y-%m-%d}. Medians (p90) through the public Store API; each "
            "sample opts out an outlet not opted out before, 200 contacts moved to it first. "
            "*Warm*: within one burst; *cold*: the file opened for the call.\n\n"
            "| measure | target | result |\n|---|---|---|\n" + rows + "\n")
    pathlib.Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(args.out).write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
