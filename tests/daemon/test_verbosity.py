"""``-v`` counts: the default shows warnings and the daemon's summary lines, ``-v`` adds INFO,
``-vv`` DEBUG — checked on a real ``optdesk run`` process."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

import pytest

from optdesk.demo_mailbox import write_maildir
from optdesk.settings import REPO_ROOT

LINE = re.compile(r"^\S+ \S+ (?P<level>[A-Z]+) (?P<logger>[\w.]+): ")


def _mail(n: int) -> bytes:
    return (f"From: Reporter {n} <r{n}@paper.example>\r\nTo: press@example.org\r\n"
            f"Subject: Automatic reply: news {n}\r\nAuto-Submitted: auto-replied\r\n"
            f"Message-ID: <v{n}@test.example>\r\n\r\nI am out of the office until Monday.\r\n"
            ).encode()


def _run_daemon(tmp_path, *flags: str) -> list[str]:
    """Start ``optdesk [flags] run`` on a three-message Maildir, stop it after its first poll
    summary; its log lines."""
    write_maildir(tmp_path / "box", [_mail(n) for n in range(3)])
    env = {**os.environ, "OPTDESK_POLL_INTERVAL": "1", "OPTDESK_RULES_DIR": str(REPO_ROOT / "rules"),
           "OPTDESK_SECRET": "a-token-signing-key-of-32-bytes!"}
    env.pop("OPTDESK_CONFIG", None)
    base = [sys.executable, "-m", "optdesk", *flags, "--db", "s.duckdb", "--mailbox", "maildir:box"]
    subprocess.run([*base, "init"], cwd=tmp_path, env=env, check=True, capture_output=True)
    proc = subprocess.Popen([*base, "run"], cwd=tmp_path, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    lines: list[str] = []
    polled = threading.Event()

    def read() -> None:
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if "3 messages (" in line:
                polled.set()

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        assert polled.wait(60), "\n".join(lines)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
        reader.join(10)
    assert proc.returncode == 0, "\n".join(lines)
    return lines


def _levels(lines: list[str]) -> set[tuple[str, str]]:
    return {(m["level"], m["logger"]) for m in map(LINE.match, lines) if m}


@pytest.mark.parametrize("flags", [(), ("-v",), ("-vv",)])
def test_each_v_shows_more(tmp_path, flags):
    lines = _run_daemon(tmp_path, *flags)
    text = "\n".join(lines)
    seen = _levels(lines)
    assert ("INFO", "optdesk.summary") in seen, text  # the summary lines, always
    assert "optdesk daemon: maildir:box" in text and "daemon stopped" in text
    assert re.search(r"maildir:box: 3 messages \(auto_reply 3\)", text), text
    info = {logger for level, logger in seen if level == "INFO"} - {"optdesk.summary"}
    debug = {logger for level, logger in seen if level == "DEBUG"}
    if not flags:
        assert info == set() and debug == set(), text
    elif flags == ("-v",):
        assert "optdesk.daemon.scheduler" in info and debug == set(), text  # each plan, each job
        assert re.search(r"INFO optdesk.daemon.scheduler: UID \d+: auto_reply", text), text
    else:
        assert "optdesk.daemon.scheduler" in info and "optdesk" in debug, text
        assert re.search(r"DEBUG optdesk: settings: .*poll_interval from OPTDESK_POLL_INTERVAL, "
                         r"db from command line, mailbox from command line", text), text
