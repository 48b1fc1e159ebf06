"""Reliability with real processes: kill -9 the daemon at random points while it works through
1,000 messages in a real Dovecot, ten times over; and a second process (a notebook) writing to
the store while the daemon polls."""

from __future__ import annotations

import os
import pathlib
import random
import re
import signal
import subprocess
import sys
import threading
import time

import pytest

from optdesk.demo_mailbox import _dsn, demo_people, write_maildir
from optdesk.store import Store

from .imap_helpers import daemon_settings, demo_store, wait_for_progress

MSGID = re.compile(rb"^Message-ID:\s*<([^>]+)>", re.I | re.M)
KINDS = ("opt_out", "auto_reply", "human", "bounce_hard", "bounce_soft")


def _mail(kind: str, n: int, who: tuple[int, str, str] | None) -> bytes:
    mid = f"{kind}-{n}@reliability.test"
    if kind in ("bounce_hard", "bounce_soft"):
        failed = f"gone{n}@elsewhere.example"
        status, text = (("5.1.1", "550 5.1.1 User unknown") if kind == "bounce_hard" else
                        ("4.2.2", "452 4.2.2 Mailbox full"))
        data = _dsn(n, failed, status, f"{text} <{failed}>",
                    action="failed" if kind == "bounce_hard" else "delayed")
        return data.replace(f"Message-ID: <demo-{n}@optdesk.example>".encode(),
                            f"Message-ID: <{mid}>".encode())
    sender = f"{who[1]} <{who[2]}>" if who else f"Reader {n} <reader{n}@elsewhere.example>"
    body = {"opt_out": "Please remove me from your mailing list.",
            "auto_reply": "I am out of the office until Monday 7 December 2026.",
            "human": "Thanks, could you send the photos in high resolution?"}[kind]
    subject = "Out of office" if kind == "auto_reply" else "Re: our news"
    return (f"From: {sender}\r\nTo: press@example.org\r\nSubject: {subject}\r\n"
            f"Message-ID: <{mid}>\r\nDate: Thu, 26 Nov 2026 10:00:00 +0000\r\n\r\n{body}\r\n"
            ).encode()


def _corpus(store, n_total: int = 1000) -> list[bytes]:
    per = n_total // 5
    people = demo_people(store, wanted=per)
    mail = []
    for i in range(per):
        for kind in KINDS:
            mail.append(_mail(kind, i, people[i] if kind == "opt_out" else None))
    random.Random(4).shuffle(mail)
    return mail


def _config(tmp_path: pathlib.Path, settings, account, batch: int) -> pathlib.Path:
    path = tmp_path / "optdesk.toml"
    path.write_text(
        f'db = "{settings.db}"\nmailbox = "{settings.mailbox}"\ndata_group = "demo"\n'
        f'secret_file = "{settings.secret_file}"\npoll_interval = 1\nfetch_size = {batch}\n'
        f'[imap]\npassword_file = "{account.password_file}"\nallow_plaintext = true\n')
    return path


def _optdesk(*args: str, cwd: pathlib.Path, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "optdesk", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def _wait_for_line(proc: subprocess.Popen, text: str, timeout: float) -> bool:
    """Read the process's output until a line contains ``text`` (False on timeout or exit)."""
    found = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            if text in line:
                found.set()
                return

    threading.Thread(target=read, daemon=True).start()
    return found.wait(timeout)


def _everything(account, daemon_folders: list[str]) -> dict[str, list[tuple[str, set[str]]]]:
    out = {}
    for folder in ["INBOX", *daemon_folders]:
        out[folder] = [(MSGID.search(data).group(1).decode(), flags)
                       for flags, data in account.contents(folder).values()]
    return out


@pytest.mark.slow
@pytest.mark.imap
def test_kill_9_ten_times_nothing_lost_nothing_twice(private_dovecot, tmp_path,
                                                     tmp_path_factory):
    store = demo_store(tmp_path, tmp_path_factory)
    mail = _corpus(store)
    store.release()
    settings = daemon_settings(private_dovecot, tmp_path)
    config = _config(tmp_path, settings, private_dovecot, batch=25)
    rng = random.Random(9)
    progress = []
    private_dovecot.multiappend(mail[:600])
    arrived = 600
    for cycle in range(10):
        if cycle == 5:
            private_dovecot.multiappend(mail[600:])  # more mail arrives meanwhile
            arrived = len(mail)
        proc = _optdesk("--config", str(config), "run", cwd=tmp_path)
        started = _wait_for_line(proc, "optdesk daemon:", timeout=30)
        assert started, "the daemon did not start"
        before = progress[-1] if progress else 0
        if before < arrived:  # work is waiting: the kill lands once the poll is under way
            assert wait_for_progress(settings.db, before, timeout=60), \
                f"cycle {cycle}: no message recorded within 60 s of the start ({before} before)"
        time.sleep(rng.uniform(0.05, 1.0))  # somewhere in the poll: fetch, classify, commit, move
        proc.kill()
        proc.communicate()
        done = Store(settings.db)
        progress.append(done.ledger().height)
        done.release()
    final = _optdesk("--config", str(config), "run", "--once", cwd=tmp_path)
    out = final.communicate(timeout=120)[0]
    assert final.returncode == 0, out
    again = _optdesk("--config", str(config), "run", "--once", cwd=tmp_path)
    assert "0 messages" in again.communicate(timeout=60)[0]
    # the kills landed while there was work: progress between kills, and work left at the end
    assert sum(b > a for a, b in zip([0, *progress], progress, strict=False)) >= 3, progress
    assert sum(p < 1000 for p in progress) >= 3, progress

    folders = [f"optdesk.{k}" for k in KINDS if k != "human"]
    where = _everything(private_dovecot, folders)
    private_dovecot.close()
    ids = [mid for found in where.values() for mid, _ in found]
    assert len(ids) == 1000 and len(set(ids)) == 1000  # none lost, none copied twice
    assert not any("\\Deleted" in flags for found in where.values() for _, flags in found)
    assert not any("\\Seen" in flags for found in where.values() for _, flags in found)
    assert {mid.split("-")[0] for mid, _ in where["INBOX"]} == {"human"}
    for kind in KINDS[:2] + KINDS[3:]:
        assert {mid.split("-")[0] for mid, _ in where[f"optdesk.{kind}"]} == {kind}
        assert len(where[f"optdesk.{kind}"]) == 200

    store = Store(settings.db)
    ledger = store.ledger()
    assert ledger.height == 1000 and ledger["message_hash"].n_unique() == 1000
    assert ledger.filter(status="error").height == 0
    events = store.events(data_group="demo")
    daemon_events = events.filter(events["message_hash"].is_not_null())
    opt_outs = daemon_events.filter(kind="opt_out")
    assert opt_outs.height == 200 and opt_outs["contact_id"].n_unique() == 200
    assert opt_outs["message_hash"].n_unique() == 200
    for kind in ("auto_reply", "bounce_hard", "bounce_soft"):
        assert daemon_events.filter(kind=kind).height == 200, kind


@pytest.mark.slow
def test_a_notebook_process_writes_while_the_daemon_polls(tmp_path, tmp_path_factory):
    store = demo_store(tmp_path, tmp_path_factory)
    people = demo_people(store, wanted=240)
    store.release()
    daemon_people, notebook_people = people[:120], people[120:]
    mail = [_mail("opt_out", i, p) for i, p in enumerate(daemon_people)]
    mail += [_mail("auto_reply", i, None) for i in range(1200)]
    random.Random(1).shuffle(mail)
    write_maildir(tmp_path / "box", mail)
    env = {**os.environ, "OPTDESK_POLL_INTERVAL": "1", "OPTDESK_DATA_GROUP": "demo"}
    daemon = _optdesk("--db", str(tmp_path / "optdesk.duckdb"), "--mailbox",
                      f"maildir:{tmp_path / 'box'}", "run", cwd=tmp_path, env=env)
    ids = ",".join(str(p[0]) for p in notebook_people)
    script = (
        "import sys, time\nfrom optdesk.store import Store\n"
        f"s = Store({str(tmp_path / 'optdesk.duckdb')!r})\n"
        f"for cid in [{ids}]:\n"
        "    s.opt_out(cid, 'demo', source='manual', actor='notebook', reason='phone call')\n"
        "    time.sleep(0.01)\n"
        "print('notebook done')\n")
    time.sleep(1.0)
    notebook = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                              timeout=120)
    deadline = time.monotonic() + 60
    while os.listdir(tmp_path / "box" / "new") and time.monotonic() < deadline:
        time.sleep(0.2)
    daemon.send_signal(signal.SIGTERM)
    log = daemon.communicate(timeout=60)[0]
    assert notebook.returncode == 0 and "notebook done" in notebook.stdout, notebook.stderr
    assert daemon.returncode == 0, log
    assert "lock" not in log.lower() and "StoreBusy" not in log and "Traceback" not in log
    assert os.listdir(tmp_path / "box" / "new") == []
    store = Store(tmp_path / "optdesk.duckdb")
    assert store.ledger().height == 1320
    opted = store.opted_out("demo", limit=None)
    by_source = dict(zip(opted["contact_id"], opted["source"], strict=True))
    assert all(by_source.get(p[0]) == "manual" for p in notebook_people)
    assert all(by_source.get(p[0]) == "reply" for p in daemon_people)
