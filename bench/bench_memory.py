"""Daemon memory on large messages: replies with big attachments over IMAP (Dovecot on loopback).

Run: .venv/bin/python bench/bench_memory.py [--messages 14] [--attachment-mb 25] [--out FILE]
(about a minute).

Each case is ``optdesk run --once`` as its own process against a fresh Dovecot account and a
fresh copy of a 2,000-contact demo store; its peak RSS is the process's own VmHWM (not
``ru_maxrss``, which Linux carries over from the forked parent). Cases:

* an empty inbox: the fixed cost (interpreter, polars, DuckDB, the classifier, the store);
* ``--messages`` replies ("please remove me" in several languages, with the quoted press
  release in plain text and HTML) from demo contacts, each with one ``--attachment-mb`` MB
  attachment (random bytes, base64), in one batch;
* one reply with a 30 MB attachment alone;
* the same replies next to 500 small ones in the same batch;
* the same replies in a local Maildir (``maildir:PATH``).

The IMAP mail is written straight into the account's Maildir (as a delivery agent would).
Checked after each run: every reply was classified and moved to ``optdesk/opt_out`` whole (the
sizes in the target folder are those delivered).
"""

from __future__ import annotations

import argparse
import base64
import dataclasses
import datetime as dt
import os
import pathlib
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
sys.path.insert(0, str(ROOT / "tests"))

import bench_imap  # noqa: E402
from fixtures.dovecot import MAIL_UID  # noqa: E402
from optdesk.store import Store  # noqa: E402

TARGET_MB = 300
BEFORE = """Before (issue 12, item 5; the same script on the same machine, 2026-12-01, with batches
counted in messages only and every message fetched whole): **1,526 MB** for the 14 replies (and
for the 14 among 500 small ones), **477 MB** for the one 30 MB reply: above the
`MemoryMax=1G` of `deploy/optdesk.service`, so the daemon would have been killed on the same
batch at every restart."""
HOW = """How: `new_uids` fetches every new message's `RFC822.SIZE` (in the command a `UID SEARCH`
cost before); a batch is fetched in groups of at most 16 MB of whole messages; a message over
1 MB is fetched alone, as `BODY.PEEK[]<offset.4MB>` pieces, each hashed (the ledger key stays
the SHA-256 of the exact bytes) and passed through a `TextView` that keeps the headers and the
text parts (256 KB each, 2 MB in all) — what the classifier reads; the poll keeps only each
message's decision, not its bytes. A Maildir file over 1 MB is read the same way. The cost in
commands: one partial FETCH per 4 MB (129 IMAP commands for the 14 replies, 2 for an empty
poll as before)."""
REPLIES = ["Please remove me from your mailing list.", "Merci de me désinscrire de cette liste.",
           "Bitte nehmen Sie mich aus Ihrem Verteiler.", "Por favor, denme de baja de la lista."]


def big_reply(n: int, who: tuple, attachment_mb: float, rng: random.Random) -> bytes:
    """A reply asking to be removed, plain + HTML, with one attachment of ``attachment_mb`` MB."""
    _, name, addr = who
    text = rng.choice(REPLIES)
    quoted = "\r\n".join("> Example Corp today announced its results for the third quarter."
                         for _ in range(20))
    blob = base64.encodebytes(rng.randbytes(int(attachment_mb * 1_000_000))).replace(b"\n", b"\r\n")
    head = (
        f"From: {name} <{addr}>\r\nTo: press@example.org\r\nSubject: Re: Quarterly results {n}\r\n"
        f"Message-ID: <mem-{n}-{rng.getrandbits(32)}@example.org>\r\n"
        "Date: Thu, 26 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="outer"\r\n\r\n'
        '--outer\r\nContent-Type: multipart/alternative; boundary="alt"\r\n\r\n'
        f"--alt\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n\r\n"
        f"On Monday, Press Office wrote:\r\n{quoted}\r\n"
        f"--alt\r\nContent-Type: text/html; charset=utf-8\r\n\r\n<p>{text}</p><blockquote>"
        f"{quoted}</blockquote>\r\n--alt--\r\n"
        '--outer\r\nContent-Type: application/pdf; name="scan.pdf"\r\n'
        'Content-Disposition: attachment; filename="scan.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    return head + blob + b"--outer--\r\n"


def small_reply(n: int, who: tuple) -> bytes:
    _, name, addr = who
    return (f"From: {name} <{addr}>\r\nTo: press@example.org\r\nSubject: Re: news {n}\r\n"
            f"Message-ID: <small-{n}@example.org>\r\n\r\nThanks, I will have a look.\r\n").encode()


def deliver(account, mail: list[bytes]) -> None:
    """Straight into the account's INBOX Maildir, as a delivery agent would."""
    account.helper().select_folder("INBOX")  # makes the Maildir
    new = account.maildir / "new"
    for i, data in enumerate(mail):
        name = f"{1790000000 + i}.M{i}P{os.getpid()}.mem,S={len(data)}"
        (new / name).write_bytes(data)
        os.chown(new / name, MAIL_UID, MAIL_UID)


@dataclasses.dataclass
class Case:
    label: str
    messages: int
    mbytes: float
    peak_mb: float = 0.0
    seconds: float = 0.0
    summary: str = ""
    moved_ok: bool = False


def run_once(account, template: pathlib.Path, work: pathlib.Path, label: str,
             mailbox: str | None = None) -> tuple[float, float, str]:
    """``optdesk run --once`` in its own process; (peak RSS MB, seconds, the summary line)."""
    db = work / f"{label}.duckdb"
    shutil.copy(template, db)
    config = work / f"{label}.toml"
    imap = (f'[imap]\npassword_file = "{account.password_file}"\nallow_plaintext = true\n'
            if account is not None else "")
    config.write_text(
        f'db = "{db}"\nmailbox = "{mailbox or account.url()}"\ndata_group = "demo"\n'
        f'secret_file = "{work / "secret.key"}"\n{imap}', encoding="utf-8")
    code = ("import sys\nfrom optdesk.cli import main\n"
            f"rc = main(['--config', {str(config)!r}, '-v', 'run', '--once'])\n"
            "hwm = [x for x in open('/proc/self/status') if x.startswith('VmHWM')][0]\n"
            "print('PEAK_KB', hwm.split()[1])\nsys.exit(rc)\n")
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=work)
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise RuntimeError(f"{label}: exit {proc.returncode}: {proc.stdout[-2000:]}{proc.stderr[-3000:]}")
    peak_kb = int(proc.stdout.split("PEAK_KB")[1].split()[0])
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if " messages (" in ln]
    return peak_kb / 1024, seconds, (lines[-1].strip() if lines else "")


def moved_whole(account, mail: list[bytes], folder: str = "optdesk.opt_out") -> bool:
    """Every big reply sits in the target folder with its full size (checked by RFC822.SIZE)."""
    c = account.helper()
    if not c.folder_exists(folder):
        return False
    c.select_folder(folder, readonly=True)
    sizes = sorted(v[b"RFC822.SIZE"] for v in c.fetch(c.search("ALL"), ["RFC822.SIZE"]).values())
    big = sorted(len(m) for m in mail if len(m) > 1_000_000)
    return all(s in sizes for s in big) and len([s for s in sizes if s > 1_000_000]) == len(big)


def run(messages: int, attachment_mb: float) -> list[Case]:
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-memory-"))
    template = work / "template.duckdb"
    store = Store(template)
    store.init_demo(2000)
    people = [tuple(r) for r in store.sample_contacts("demo", 600).iter_rows()]
    store.release()
    rng = random.Random(12)
    cases: list[Case] = []
    with bench_imap.dovecot() as server:
        plans = [
            ("empty inbox (fixed cost)", []),
            (f"{messages} replies with a {attachment_mb:g} MB attachment",
             [big_reply(i, people[i], attachment_mb, rng) for i in range(messages)]),
            ("1 reply with a 30 MB attachment", [big_reply(100, people[100], 30, rng)]),
        ]
        mixed = [small_reply(i, people[200 + i % 400]) for i in range(500)]
        for i in range(messages):
            mixed.insert(i * 35, big_reply(300 + i, people[i], attachment_mb, rng))
        plans.append((f"the {messages} replies among 500 small ones", mixed))
        for label, mail in plans:
            account = server.account()
            deliver(account, mail)
            case = Case(label, len(mail), sum(map(len, mail)) / 1e6)
            slug = "".join(ch if ch.isalnum() else "-" for ch in label)[:40]
            case.peak_mb, case.seconds, case.summary = run_once(account, template, work, slug)
            case.moved_ok = moved_whole(account, mail) if mail else True
            account.close()
            print(f"{case}", flush=True)
            cases.append(case)
        mail = plans[1][1]
        root = work / "Maildir"
        for sub in ("cur", "new", "tmp"):
            (root / sub).mkdir(parents=True)
        for i, data in enumerate(mail):
            (root / "new" / f"{1790000000 + i}.M{i}P1.mem").write_bytes(data)
        case = Case(f"the {messages} replies in a local Maildir", len(mail), sum(map(len, mail)) / 1e6)
        case.peak_mb, case.seconds, case.summary = run_once(None, template, work, "maildir",
                                                            mailbox=f"maildir:{root}")
        case.moved_ok = len(os.listdir(root / ".optdesk.opt_out" / "new")) == len(mail)
        print(f"{case}", flush=True)
        cases.append(case)
    shutil.rmtree(work, ignore_errors=True)
    return cases


def report(cases: list[Case], messages: int, attachment_mb: float) -> str:
    try:
        dovecot = subprocess.run(["dovecot", "--version"], capture_output=True, text=True).stdout.strip()
    except OSError:
        dovecot = "?"
    load = os.getloadavg()[0]
    lines = [
        "# Daemon memory on large messages", "",
        f"`.venv/bin/python bench/bench_memory.py --messages {messages} --attachment-mb "
        f"{attachment_mb:g}` on {dt.date.today()}: {platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, Dovecot {dovecot} on 127.0.0.1, load average "
        f"{load:.1f}. Each case is `optdesk run --once` as its own process (a 2,000-contact demo "
        "store, the daemon's default settings: batches of 500); peak RSS is the process's own "
        f"VmHWM. Target: under {TARGET_MB} MB (the unit's `MemoryMax=1G` with room to spare).", "",
        "| case | messages | MB in the inbox | peak RSS | under target | seconds | moved whole |",
        "|---|---:|---:|---:|---|---:|---|",
    ]
    for c in cases:
        ok = "yes" if c.peak_mb < TARGET_MB else "**no**"
        lines.append(f"| {c.label} | {c.messages} | {c.mbytes:,.0f} | {c.peak_mb:.0f} MB | {ok} | "
                     f"{c.seconds:.1f} | {'yes' if c.moved_ok else '**no**'} |")
    lines += ["", BEFORE, "", HOW, "", "Summaries of the polls:", ""]
    lines += [f"- {c.label}: {c.summary}" for c in cases if c.summary]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=14)
    parser.add_argument("--attachment-mb", type=float, default=25)
    parser.add_argument("--out", help="write the Markdown section here")
    args = parser.parse_args(argv)
    text = report(run(args.messages, args.attachment_mb), args.messages, args.attachment_mb)
    print(text)
    if args.out:
        pathlib.Path(args.out).write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
