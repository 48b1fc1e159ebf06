"""Report benchmark: 10,000 lists and 5,000,000 memberships (a 1 M-contact demo store).

Run: .venv/bin/python bench/bench_reports.py [--db PATH] [--runs 5] [--out docs/benchmarks/reports.md]

The demo store is built once at --db (default /tmp/optdesk-bench/reports-1m.duckdb) and reused.
The demo has opt-outs only, so the first run adds, deterministically: a message for every
opt-out that came by mail (reply, list-unsubscribe, complaint; arrival 5 s to 2 days before its
application), 30,000 bounce events (a third known only by address), 20,000 undeliverable
addresses and 10,000 invitations. Then it times, for the last 7 days with an 8-period trend:

- the queries alone (``Store.report_tables``) and the whole report (queries + CSV + Parquet +
  HTML), warm (connection reused) and cold (the file opened for the call);
- ``optdesk report`` end to end as a process (Python start-up included).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from optdesk.reports.report import Period, build_report, write_report
from optdesk.store import Store

ROOT = pathlib.Path(__file__).resolve().parents[1]
DEFAULT_DB = pathlib.Path(tempfile.gettempdir()) / "optdesk-bench" / "reports-1m.duckdb"

EXTRA = [
    # every opt-out that came by mail gets its message, arrival before application
    """UPDATE events SET message_hash = 'bench-' || event_id
       WHERE kind = 'opt_out' AND source IN ('reply', 'list_unsubscribe', 'complaint')""",
    """INSERT INTO messages (message_hash, received_at, processed_at, kind, status, contact_id,
                             data_group)
       SELECT message_hash,
              occurred_at - INTERVAL 1 SECOND * (5 + (hash(event_id) % 172800)),
              occurred_at, 'opt_out', 'done', contact_id, data_group
       FROM events WHERE message_hash LIKE 'bench-%'""",
    """INSERT INTO events (occurred_at, kind, contact_id, data_group, email, actor)
       SELECT ?::TIMESTAMP - INTERVAL 1 MINUTE * (hash(i * 31) % 525600),
              CASE WHEN i % 4 = 0 THEN 'bounce_hard' ELSE 'bounce_soft' END,
              CASE WHEN i % 3 = 0 THEN NULL ELSE a.contact_id END, 'demo', a.email, 'daemon'
       FROM range(30000) t(i)
       JOIN (SELECT email, contact_id, row_number() OVER (ORDER BY email) AS rn FROM addresses) a
         ON a.rn = 1 + hash(i * 7) % (SELECT count(*) FROM addresses)""",
    """INSERT INTO deliverability (email, undeliverable, bounce_score)
       SELECT email, true, 10 FROM addresses WHERE hash(email) % 100 < 1 LIMIT 20000""",
    """INSERT INTO invitations (contact_id, data_group, email, nonce, status, created_at,
                                sent_at, answered_at)
       SELECT contact_id, 'demo', 'x' || contact_id || '@bench.example', 'bench-' || contact_id,
              CASE hash(contact_id) % 4 WHEN 0 THEN 'accepted' WHEN 1 THEN 'declined'
                   ELSE 'sent' END,
              ?::TIMESTAMP - INTERVAL 1 MINUTE * (hash(contact_id) % 262800),
              ?::TIMESTAMP - INTERVAL 1 MINUTE * (hash(contact_id) % 262800),
              CASE WHEN hash(contact_id) % 4 < 2
                   THEN ?::TIMESTAMP - INTERVAL 1 MINUTE * (hash(contact_id) % 262800)
                        + INTERVAL 1 DAY END
       FROM optouts WHERE data_group = 'demo' AND source <> 'complaint' LIMIT 10000""",
]


def prepare(db: pathlib.Path) -> Store:
    if not db.exists():
        db.parent.mkdir(parents=True, exist_ok=True)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "optdesk", "--db", str(db), "init", "--demo",
                        "--contacts", "1000000"], check=True)
        print(f"demo store built in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    store = Store(db)
    if not store.db.scalar("SELECT count(*) FROM events WHERE kind = 'bounce_hard'"):
        now = store.db.scalar("SELECT max(occurred_at) FROM events")
        with store.db.transaction() as con:
            for sql in EXTRA:
                con.execute(sql, [now] * sql.count("?::TIMESTAMP"))
        print("bounces, messages, undeliverable addresses and invitations added", file=sys.stderr)
    return store


def sizes(store: Store) -> dict[str, int]:
    q = {
        "lists": "SELECT count(*) FROM media_lists WHERE data_group = 'demo'",
        "memberships": "SELECT count(*) FROM list_members",
        "contacts": "SELECT count(*) FROM contacts",
        "opted out": "SELECT count(*) FROM optouts",
        "events": "SELECT count(*) FROM events",
        "messages": "SELECT count(*) FROM messages",
        "undeliverable addresses": "SELECT count(*) FROM deliverability WHERE undeliverable",
        "invitations": "SELECT count(*) FROM invitations",
    }
    return {k: store.db.scalar(v) for k, v in q.items()}


def timed(fn, cpu: list[float] | None = None) -> float:
    """Wall seconds of fn(); its CPU seconds (all threads) appended to ``cpu``."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    if cpu is not None:
        cpu.append(time.process_time() - c)
    return time.perf_counter() - t


def measure(store: Store, period: Period, runs: int,
            out: pathlib.Path) -> dict[str, tuple[list[float], list[float]]]:
    def queries():
        store.report_tables("demo", period.start, period.end, 8)

    def whole():
        write_report(build_report(store, "demo", period, 8), out)

    steps = [(f"{name} ({mode})", fn, mode)
             for name, fn in (("queries", queries), ("report: queries + CSV + Parquet + HTML", whole))
             for mode in ("cold", "warm")]
    results = {label: ([], []) for label, _, _ in steps}
    for _ in range(runs):  # interleaved, so that other work on the machine hits every step alike
        for label, fn, mode in steps:
            if mode == "cold":
                store.release()
            else:
                store.db.scalar("SELECT 1")  # open the connection first
            wall, cpu = results[label]
            wall.append(timed(fn, cpu))
    return results


def cli_run(db: pathlib.Path, out: pathlib.Path) -> float:
    return timed(lambda: subprocess.run(
        [sys.executable, "-m", "optdesk", "--db", str(db), "report", "--data-group", "demo",
         "--out", str(out)], check=True, capture_output=True))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", type=pathlib.Path, default=DEFAULT_DB)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--out", type=pathlib.Path, help="markdown file for the figures")
    args = parser.parse_args()
    store = prepare(args.db)
    size = sizes(store)
    today = (store.db.scalar("SELECT max(occurred_at) FROM events") + dt.timedelta(days=1)).date()
    period = Period.last(7, today)
    with tempfile.TemporaryDirectory() as tmp:
        results = measure(store, period, args.runs, pathlib.Path(tmp))
        store.release()
        cli = [cli_run(args.db, pathlib.Path(tmp)) for _ in range(3)]
        html = next(pathlib.Path(tmp).glob("*/*_report.html")).stat().st_size
    lines = [
        f"Machine: {os.cpu_count()} cores, {platform.python_implementation()} "
        f"{platform.python_version()}, {platform.system()}; period {period.label}, 8-period trend.",
        "", "| store | rows |", "|---|---:|",
        *(f"| {k} | {v:,} |" for k, v in size.items()),
        "", f"| step ({args.runs} runs) | wall median | wall max | CPU median (2 threads) |",
        "|---|---:|---:|---:|",
        *(f"| {k} | {statistics.median(w):.2f} s | {max(w):.2f} s | {statistics.median(c):.2f} s |"
          for k, (w, c) in results.items()),
        f"| `optdesk report` process, Python start-up included (3 runs) | "
        f"{statistics.median(cli):.2f} s | {max(cli):.2f} s | |",
        "", f"Load average during the run: {' / '.join(f'{x:.1f}' for x in os.getloadavg())}.",
        "", f"HTML page: {html / 1024:.0f} KiB.",
    ]
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
