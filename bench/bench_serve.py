"""One-click unsubscribe and several mailboxes: real processes, real HTTP, real Dovecot.

Run: .venv/bin/python bench/bench_serve.py [--contacts 1000000] [--mailbox-n 10000]
[--out docs/benchmarks/serve.md] (about 3 minutes on 2 cores).

1. POST to applied: ``optdesk serve`` over an ``optdesk init --demo --contacts N`` store; 200
   POSTs one after the other (a connection kept alive, as a mail provider's would be), each for
   another contact; the time from sending to the 200, which comes after the commit.
2. 200 POST/s sustained for 10 s (2,000 POSTs paced, up to 50 at once): the rate achieved, the
   latency under it, and whether every 200 is in the store (``one_click_requests`` applied).
3. Three Dovecot mailboxes of ``--mailbox-n`` messages each (the bench_imap mix), three
   ``[[mailboxes]]`` entries with their own data groups, one ``optdesk run``: from its start
   line to the last of the three polls' summary lines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import pathlib
import platform
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "bench"))

import httpx  # noqa: E402

import bench_imap  # noqa: E402
from fixtures.dovecot import free_port  # noqa: E402
from fixtures.serve import SECRET, OptdeskProcess, post_all, url_for  # noqa: E402
from optdesk.store import Store  # noqa: E402


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTDESK_")}
    env["OPTDESK_SECRET"] = SECRET
    env["PATH"] = f"{ROOT / '.venv' / 'bin'}:{env.get('PATH', '')}"
    return env


def _q(values: list[float], p: float) -> float:
    return statistics.quantiles(values, n=100)[int(p) - 1] if len(values) > 1 else values[0]


def _contacts(db: pathlib.Path, n: int) -> list[tuple[int, str]]:
    store = Store(db)
    rows = store.db.rows(
        "SELECT a.contact_id, min(a.email) FROM addresses a WHERE a.kind = 'system'"
        " AND NOT EXISTS (SELECT 1 FROM optouts o WHERE o.contact_id = a.contact_id"
        " AND o.data_group = 'demo') GROUP BY a.contact_id ORDER BY hash(a.contact_id) LIMIT ?",
        [n])
    store.release()
    return rows


def one_click(work: pathlib.Path, contacts: int, log=print) -> dict:
    import subprocess

    db = work / "optdesk.duckdb"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "optdesk", "--db", str(db), "init", "--demo",
                    "--contacts", str(contacts)], check=True, env=_env(), capture_output=True)
    log(f"init --demo --contacts {contacts:,}: {time.perf_counter() - started:.1f} s")
    people = _contacts(db, 2200)
    config = work / "serve.toml"
    config.write_text(f'db = "{db}"\n[serve]\nport = {free_port()}\nrate_per_second = 100000.0\n'
                      "rate_burst = 100000\n")
    proc = OptdeskProcess.start(["--config", str(config), "serve"], work, _env())
    out: dict = {"contacts": contacts}
    try:
        base = proc.address
        urls = [url_for(base, cid, email) for cid, email in people]
        single, seq = urls[:200], []
        with httpx.Client() as client:
            for url in single:
                began = time.perf_counter()
                answer = client.post(url, data={"List-Unsubscribe": "One-Click"})
                seq.append(time.perf_counter() - began)
                assert answer.status_code == 200, answer.status_code
        out["single"] = seq
        log(f"POST to applied, one at a time: median {statistics.median(seq) * 1000:.1f} ms")
        results = post_all(urls[200:2200], concurrency=50, rate=200.0)
        sent = [r["sent"] for r in results]
        out["sustained"] = {
            "n": len(results), "ok": sum(r["status"] == 200 for r in results),
            "seconds": max(sent) - min(sent), "latency": [r["seconds"] for r in results]}
        log(f"sustained: {out['sustained']['ok']}/{len(results)} in "
            f"{out['sustained']['seconds']:.1f} s")
    finally:
        proc.stop()
    store = Store(db)
    out["applied"] = store.db.scalar(
        "SELECT count(*) FROM one_click_requests WHERE outcome = 'applied'")
    out["events"] = store.db.scalar(
        "SELECT count(*) FROM events WHERE kind = 'opt_out' AND source = 'one_click'")
    store.release()
    return out


def mailboxes(work: pathlib.Path, n: int, log=print) -> dict:
    db = work / "mb.duckdb"
    store = Store(db)
    store.init_demo(20_000)
    store.release()
    with bench_imap.dovecot() as server:
        accounts = [server.account() for _ in range(3)]
        fill = sum(bench_imap.fill(a, n, seed=4 + i, direct=True) for i, a in enumerate(accounts))
        log(f"filled 3 x {n:,} messages in {fill:.1f} s")
        entries = "".join(
            f'[[mailboxes]]\nname = "desk{i}"\nurl = "{a.url()}"\ndata_group = "group{i}"\n'
            f'password_file = "{a.password_file}"\nallow_plaintext = true\n'
            for i, a in enumerate(accounts))
        config = work / "mailboxes.toml"
        config.write_text(f'db = "{db}"\npoll_interval = 3600\nfetch_size = 500\n' + entries)
        proc = OptdeskProcess.start(["--config", str(config), "run"], work, _env())
        try:
            proc.wait_for("optdesk daemon: poll:desk2", timeout=120)
            began = time.perf_counter()
            for a in accounts:
                proc.wait_for(f"{a.url()}: {n} messages", timeout=1800)
            seconds = time.perf_counter() - began
            lines = [line for line in proc.lines if f"{n} messages" in line]
        finally:
            proc.stop()
    log(f"3 mailboxes: {3 * n:,} messages in {seconds:.1f} s")
    return {"n": n, "seconds": seconds, "rate": 3 * n / seconds, "lines": lines}


def report(click: dict, boxes: dict) -> str:
    seq, sus = click["single"], click["sustained"]
    lat = sus["latency"]
    achieved = sus["n"] / sus["seconds"] if sus["seconds"] else 0.0
    expected = 200 + sus["n"]
    median_ms = statistics.median(seq) * 1000
    return "\n".join([
        "## One-click unsubscribe and several mailboxes",
        "",
        f"`python bench/bench_serve.py --contacts {click['contacts']}` on {os.cpu_count()} cores, "
        f"{dt.date.today():%Y-%m-%d}, Python {platform.python_version()}: `optdesk serve` and "
        "`optdesk run` as their own processes, HTTP on 127.0.0.1 (stdlib http.client, kept-alive connections), Dovecot on loopback.",
        "",
        "| measure | target | result |",
        "|---|---|---|",
        f"| one-click POST to applied, one at a time ({click['contacts']:,}-contact store, 200 "
        f"POSTs) | median < 50 ms | {median_ms:.1f} ms (p90 {_q(seq, 90) * 1000:.1f}, max "
        f"{max(seq) * 1000:.1f}) |",
        f"| 200 POST/s for 10 s ({sus['n']:,} POSTs, up to 50 at once) | nothing lost | "
        f"{achieved:.0f} POST/s achieved, {sus['ok']:,}/{sus['n']:,} answered 200; "
        f"{click['applied']:,} of {expected:,} in the store ({click['events']:,} events); "
        f"latency median {statistics.median(lat) * 1000:.1f} ms, p95 {_q(lat, 95) * 1000:.1f} ms |",
        f"| three Dovecot mailboxes of {boxes['n']:,} messages, one `optdesk run` | ≥ 300 msg/s "
        f"total | {boxes['rate']:.0f} msg/s ({3 * boxes['n']:,} messages in "
        f"{boxes['seconds']:.1f} s) |",
        "",
        "Each POST is answered after its transaction committed; the writer thread puts whatever "
        "queued up meanwhile into one transaction, so under load a commit carries many "
        "requests. The three mailboxes are polled by three jobs of one scheduler over one store "
        "(20,000-contact demo store); classification is serialised across them, fetching and "
        "moving overlap. Per poll:",
        "",
        *[f"- `{line.split('optdesk.summary: ', 1)[-1]}`" for line in boxes["lines"]],
    ])


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=1_000_000)
    parser.add_argument("--mailbox-n", type=int, default=10_000)
    parser.add_argument("--out", help="write the Markdown section here")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="optdesk-bench-serve-") as tmp:
        work = pathlib.Path(tmp)
        click = one_click(work, args.contacts)
        boxes = mailboxes(work, args.mailbox_n)
    text = report(click, boxes)
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
