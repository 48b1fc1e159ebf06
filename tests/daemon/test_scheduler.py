"""The schedule: its jobs, job errors recorded without stopping the next run, SIGTERM in a real
process, IMAP IDLE for near-instant pickup."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest

from optdesk.daemon.scheduler import Backoff, Daemon
from optdesk.errors import MailboxUnavailable
from optdesk.testing import FakeMailbox, FakeSource

from .conftest import fake_classify, make_mail
from .imap_helpers import daemon_settings, demo_store, wait_for_progress


@pytest.fixture
def daemon(desk, settings):
    box = FakeMailbox()
    d = Daemon(settings, store=desk, source=FakeSource(box), classify=fake_classify,
               backoff=Backoff(first=0.01, cap=0.01))
    d.box = box
    return d


def test_jobs_on_the_schedule(daemon):
    sched = daemon.build_scheduler()
    jobs = {job.id: job for job in sched.get_jobs()}
    assert {"poll", "decay"} <= set(jobs)
    poll = jobs["poll"]
    assert poll.max_instances == 1 and poll.coalesce is True
    assert poll.trigger.interval.total_seconds() == daemon.settings.poll_interval
    assert ("invitation_expiry" in jobs) == hasattr(daemon.store, "expire_invitations")
    from optdesk.reports import report as reports

    assert ("report" in jobs) == hasattr(reports, "run_scheduled_report")


def test_a_failing_job_is_recorded_and_runs_again(daemon, monkeypatch):
    calls = {"n": 0}
    real = daemon.store.decay_bounce_scores

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("disk hiccup")
        return real(*args, **kwargs)

    monkeypatch.setattr(daemon.store, "decay_bounce_scores", flaky)
    daemon.decay_job()
    daemon.decay_job()
    runs = daemon.store.job_runs("decay")
    assert runs["ok"].to_list() == [True, False]
    assert "RuntimeError: disk hiccup" in runs["error"][1]
    assert daemon.store.daemon_status()["last_job_error"]["job"] == "decay"


def test_a_failing_poll_is_recorded_and_the_next_one_completes(daemon):
    daemon.box.deliver(make_mail("alice@example.org", "opt_out"))
    daemon.box.fail("folder_state", MailboxUnavailable("server went away"), times=3)
    assert daemon.poll_job() is None
    time.sleep(0.02)
    result = daemon.poll_job()
    assert result is not None and result.applied == 1
    assert daemon.store.job_runs("poll")["ok"].to_list() == [True, False]


def _run(args, cwd, **kw) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "optdesk", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kw)


def _maildir(path, messages):
    from optdesk.demo_mailbox import write_maildir

    write_maildir(path, messages)


@pytest.mark.slow
def test_sigterm_finishes_the_current_message_and_exits(tmp_path, tmp_path_factory):
    store = demo_store(tmp_path, tmp_path_factory)
    store.release()
    mail = [make_mail(f"s{i}@example.net", body="I am out of the office until Monday.")
            for i in range(3000)]
    _maildir(tmp_path / "box", mail)
    args = ["--db", "optdesk.duckdb", "--mailbox", f"maildir:{tmp_path / 'box'}", "run"]
    env = {**os.environ, "OPTDESK_POLL_INTERVAL": "1"}
    proc = _run(args, tmp_path, env=env)
    first = ""
    for _ in range(5):  # a warning may come first: "created data/secret.key with a new key"
        first += proc.stdout.readline()
        if "optdesk daemon:" in first:
            break
    assert "optdesk daemon:" in first, first
    # the kill lands once the first poll is under way (a chunk of 500 committed; 3,000 take seconds)
    assert wait_for_progress(tmp_path / "optdesk.duckdb", 0, timeout=60), "no chunk committed"
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    out = first + out
    assert proc.returncode == 0, out
    assert "stopping: finishing the current message" in out and "daemon stopped" in out
    from optdesk.store import Store

    store = Store(tmp_path / "optdesk.duckdb")
    ledger = store.ledger()
    moved = len(os.listdir(tmp_path / "box" / ".optdesk.auto_reply" / "new"))
    left = len(os.listdir(tmp_path / "box" / "new"))
    assert moved + left == 3000
    assert ledger.filter(status="applied").height == moved  # every applied message was moved
    assert ledger["moved_at"].null_count() == 0
    assert 0 < moved < 3000  # stopped part-way, after finishing the message in hand
    assert store.mailbox_state(f"maildir:{tmp_path / 'box'}", "INBOX")["last_uid"] == moved


@pytest.mark.imap
def test_idle_picks_up_new_mail_at_once(dovecot, tmp_path, tmp_path_factory):
    store = demo_store(tmp_path, tmp_path_factory)
    store.release()
    settings = daemon_settings(dovecot, tmp_path)
    config = tmp_path / "optdesk.toml"
    config.write_text(
        f'db = "{settings.db}"\nmailbox = "{settings.mailbox}"\ndata_group = "demo"\n'
        f"poll_interval = 60\nidle = true\n[imap]\npassword_file = \"{dovecot.password_file}\"\n"
        "allow_plaintext = true\n")
    proc = _run(["--config", str(config), "run"], tmp_path)
    try:
        time.sleep(2.0)  # started, first (empty) poll done, IDLE waiting
        sent = time.monotonic()
        dovecot.append(make_mail("alice@example.net", body="I am out of the office."))
        folder = "optdesk.auto_reply"
        while time.monotonic() - sent < 15 and not dovecot.contents(folder):
            time.sleep(0.1)
        assert dovecot.contents(folder), "not picked up"
        assert time.monotonic() - sent < 5  # IDLE, not the 60 s poll interval
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert proc.returncode == 0, out


def test_mail_seen_by_idle_during_a_poll_is_polled_at_once(daemon):
    daemon.box.deliver(make_mail("alice@example.org", "opt_out"))
    real = daemon.ingestor.poll
    calls = {"n": 0}

    def poll_while_mail_arrives():
        calls["n"] += 1
        result = real()
        if calls["n"] == 1:  # new mail after this poll looked: IDLE wakes the daemon
            daemon.box.deliver(make_mail("bob@example.org", "opt_out"))
            daemon.wake()
        return result

    daemon.ingestor.poll = poll_while_mail_arrives
    daemon.poll_job()
    assert calls["n"] == 2
    assert daemon.store.events(kinds=["opt_out"]).height == 2


@pytest.mark.slow
def test_a_signal_that_lands_on_another_thread_still_stops_the_daemon_at_once(tmp_path,
                                                                            tmp_path_factory):
    """The kernel may hand SIGTERM to any thread (an IDLE watcher, a DuckDB worker). Python runs
    the handler only in the main thread, when it wakes: the daemon must not sleep until its next
    job (the poll interval here is an hour)."""
    store = demo_store(tmp_path, tmp_path_factory)
    store.release()
    _maildir(tmp_path / "box", [])
    script = (
        "import signal, sys, threading, time\n"
        "from optdesk.cli import main\n"
        "def later():\n"
        "    time.sleep(4)\n"
        "    print('signalling a non-main thread', flush=True)\n"
        "    signal.pthread_kill(threading.get_ident(), signal.SIGTERM)\n"
        "threading.Thread(target=later, daemon=True).start()\n"
        f"sys.exit(main(['--db', 'optdesk.duckdb', '--mailbox', 'maildir:{tmp_path / 'box'}',"
        " 'run']))\n")
    env = {**os.environ, "OPTDESK_POLL_INTERVAL": "3600"}
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    out = ""
    while "signalling" not in out:
        line = proc.stdout.readline()
        assert line, out
        out += line
    signalled = time.monotonic()
    out += proc.communicate(timeout=60)[0]
    assert proc.returncode == 0, out
    assert "stopping: finishing the current message" in out and "daemon stopped" in out, out
    assert time.monotonic() - signalled < 5, out  # not the hour until the next poll
