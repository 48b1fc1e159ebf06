"""Benchmark: a batch of opt-in invitations sent to a real SMTP server (aiosmtpd on 127.0.0.1).

Builds a demo store, then times, for every contact opted out of 'demo':

  plan      the guardrail facts and reasons for the whole batch (one query);
  preview   rendering the first 3 messages;
  send      reserve + render + SMTP + mark sent, one invitation at a time, rate limit off;
  accept    ``store.accept_invitation`` for 200 of them (what the daemon calls per answer).

    .venv/bin/python bench/bench_invitations.py [--contacts 20000] [--out docs/benchmarks/invitations.md]
"""

from __future__ import annotations

import argparse
import dataclasses
import pathlib
import platform
import socket
import statistics
import tempfile
import time

from aiosmtpd.controller import Controller

from optdesk.outgoing import invitations as inv
from optdesk.settings import load_settings
from optdesk.store import Store

KEY = b"bench-key"


class Sink:
    def __init__(self) -> None:
        self.count = 0

    async def handle_DATA(self, server, session, envelope):
        self.count += 1
        return "250 OK"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def run(contacts: int) -> dict:
    work = pathlib.Path(tempfile.mkdtemp())
    store = Store(work / "bench.duckdb")
    store.init_demo(contacts)
    ids = store.opted_out("demo", limit=None)["contact_id"].to_list()
    sink, port = Sink(), free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    settings = load_settings(env={}, overrides={"db": str(store.path)})
    settings = dataclasses.replace(settings, smtp=dataclasses.replace(
        settings.smtp, url=f"smtp://127.0.0.1:{port}", rate_per_second=0.0))
    fields = inv.InvitationFields("Bench", "bench@example.org", "", "A comment.", "fr")
    try:
        planned, t_plan = timed(lambda: inv.plan(store, "demo", ids, cooloff_days=90))
        _, t_preview = timed(lambda: inv.preview(store, settings, "demo", ids, fields, key=KEY))
        results, t_send = timed(lambda: inv.send_invitations(
            store, settings, "demo", ids, fields, actor="bench", key=KEY, rate=0))
    finally:
        controller.stop()
    sent = [r for r in results if r.status == "sent"]
    accept_times = []
    for r in sent[:200]:
        row = store.invitation(r.invitation_id)
        payload = {"nonce": int(row["nonce"]), "contact_id": row["contact_id"],
                   "data_group": "demo"}
        _, t = timed(lambda row=row, payload=payload: store.accept_invitation(
            payload, sender=row["email"], message_hash=f"h{row['invitation_id']}"))
        accept_times.append(t)
    return {
        "contacts": contacts, "batch": len(ids), "sent": len(sent), "received": sink.count,
        "skipped": sum(r.status == "skipped" for r in results),
        "plan_s": t_plan, "preview_s": t_preview, "send_s": t_send,
        "per_message_ms": 1000 * t_send / max(len(sent), 1),
        "accept_median_ms": 1000 * statistics.median(accept_times) if accept_times else 0.0,
        "planned": len(planned),
    }


def report(r: dict) -> str:
    return "\n".join([
        "# Benchmark: opt-in invitations",
        "",
        f"`.venv/bin/python bench/bench_invitations.py --contacts {r['contacts']}` on "
        f"{platform.system()} {platform.machine()}, 2 cores, Python {platform.python_version()}; "
        "aiosmtpd on 127.0.0.1, rate limit off, one SMTP session for the batch.",
        "",
        "| measure | value |",
        "|---|---|",
        f"| demo contacts / opted out (the batch) | {r['contacts']:,} / {r['batch']:,} |",
        f"| sent / skipped (complaints) / received by the server | {r['sent']:,} / "
        f"{r['skipped']:,} / {r['received']:,} |",
        f"| plan: guardrails for the whole batch | {r['plan_s'] * 1000:.0f} ms |",
        f"| preview of the first 3 | {r['preview_s'] * 1000:.0f} ms |",
        f"| send: reserve + render + SMTP + mark sent | {r['send_s']:.2f} s, "
        f"{r['per_message_ms']:.1f} ms per message ({1000 / r['per_message_ms']:.0f}/s) |",
        f"| `accept_invitation` (median of 200) | {r['accept_median_ms']:.1f} ms |",
        "",
        "The default `smtp.rate_per_second` (5) makes a real batch take 0.2 s per message; the "
        "store work per message is a small part of that.",
        "",
    ])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=20000)
    parser.add_argument("--out", help="write the Markdown report here")
    args = parser.parse_args()
    text = report(run(args.contacts))
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
