"""Destination folders are checked and created before the first poll, against the real Dovecot
and a Maildir: a folder the server will not take stops the daemon with one line naming the
setting, before anything is applied — not after the store commit, on every poll."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys

import pytest

from optdesk.daemon.scheduler import Daemon
from optdesk.demo_mailbox import write_maildir
from optdesk.errors import ConfigError
from optdesk.settings import DEFAULT_FOLDERS, Settings

from .conftest import fake_classify, make_mail


def _folders(**changes: str) -> dict[str, str]:
    return {**DEFAULT_FOLDERS, **changes}


def _nothing_applied(store, url: str) -> None:
    assert store.ledger().height == 0
    assert store.events(kinds=["opt_out"]).height == 0
    assert store.mailbox_state(url, "INBOX") is None


def _imap_daemon(dovecot, desk, settings: Settings, **folders: str) -> Daemon:
    imap = dataclasses.replace(settings, mailbox=dovecot.url(), imap=dovecot.imap_settings(),
                               folders=_folders(**folders))
    return Daemon(imap, store=desk, classify=fake_classify)


@pytest.mark.imap
def test_the_folders_exist_before_the_first_message(dovecot, desk, settings):
    daemon = _imap_daemon(dovecot, desk, settings)
    result = daemon.poll_once()
    assert result.seen == 0
    names = {name for _, _, name in dovecot.client().list_folders()}
    assert {f"optdesk.{kind}" for kind in DEFAULT_FOLDERS} <= names


@pytest.mark.imap
@pytest.mark.parametrize(("folder", "words"), [
    ("optdesk/" + "x" * 300, "the server refused to create optdesk." + "x" * 300 + ": create "
     "failed: [CANNOT] Mailbox name too long"),
    ("optdesk/opt.out", "'.' is this server's hierarchy separator"),
    ("INBOX", "that is the inbox the daemon reads"),
])
def test_a_folder_the_server_cannot_take_is_refused_before_anything(dovecot, desk, settings,
                                                                     folder, words):
    dovecot.append(make_mail("alice@example.org", "opt_out"))
    daemon = _imap_daemon(dovecot, desk, settings, opt_out=folder)
    with pytest.raises(ConfigError) as err:
        daemon.poll_once()
    message = str(err.value)
    assert message.startswith(f"built-in default: folders.opt_out = {folder!r}: "), message
    assert words in message
    _nothing_applied(desk, daemon.source.url)
    assert len(dovecot.contents("INBOX")) == 1  # the message is where it was
    runs = desk.job_runs("poll")
    assert runs["ok"].to_list() == [False] and "ConfigError" in runs["error"][0]


def _maildir_daemon(tmp_path, desk, settings: Settings, dry_run=False, **folders) -> Daemon:
    write_maildir(tmp_path / "box", [make_mail("alice@example.org", "opt_out")])
    md = dataclasses.replace(settings, mailbox=f"maildir:{tmp_path / 'box'}",
                             folders=_folders(**folders))
    return Daemon(md, store=desk, classify=fake_classify, dry_run=dry_run)


def test_maildir_a_dot_in_a_folder_is_refused_before_anything(tmp_path, desk, settings):
    daemon = _maildir_daemon(tmp_path, desk, settings, opt_out="optdesk/opt.out")
    with pytest.raises(ConfigError, match=r"folders.opt_out = 'optdesk/opt.out': .*'\.' is the "
                                          r"Maildir\+\+ separator"):
        daemon.poll_once()
    _nothing_applied(desk, daemon.source.url)
    assert len(os.listdir(tmp_path / "box" / "new")) == 1


def test_maildir_folders_are_made_at_start_and_a_dry_run_makes_none(tmp_path, desk, settings):
    dry = _maildir_daemon(tmp_path, desk, settings, dry_run=True)
    assert dry.poll_once().seen == 1
    assert sorted(p.name for p in (tmp_path / "box").iterdir() if p.name.startswith(".")) == []
    real = Daemon(dry.settings, store=desk, classify=fake_classify)
    assert real.poll_once().applied == 1
    made = sorted(p.name for p in (tmp_path / "box").iterdir() if p.name.startswith("."))
    assert made == sorted(f".optdesk.{kind}" for kind in DEFAULT_FOLDERS)


@pytest.mark.imap
def test_the_daemon_stops_at_start_on_a_folder_the_server_refuses(dovecot, desk, tmp_path):
    desk.release()
    config = tmp_path / "optdesk.toml"
    config.write_text(
        f'db = "{desk.path}"\nmailbox = "{dovecot.url()}"\ndata_group = "demo"\n'
        f'poll_interval = 1\nsecret_file = "{tmp_path / "secret.key"}"\n'
        f'[imap]\npassword_file = "{dovecot.password_file}"\nallow_plaintext = true\n'
        f'[folders]\nbounce_soft = "optdesk/{"y" * 300}"\n', encoding="utf-8")
    dovecot.append(make_mail("alice@example.org", body="Please remove me from your list."))
    proc = subprocess.Popen([sys.executable, "-m", "optdesk", "--config", str(config), "run"],
                            cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.communicate(timeout=30)
    assert proc.returncode == 2, err
    last = err.strip().splitlines()[-1]
    assert last.startswith(f"optdesk: error: {config}: folders.bounce_soft = 'optdesk/yyy")
    assert "the server refused to create" in last and "Traceback" not in err
    _nothing_applied(desk, dovecot.url())
    assert len(dovecot.contents("INBOX")) == 1
