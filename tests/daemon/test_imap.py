"""The daemon against a real Dovecot: every kind of the demo mail, flags never touched, the
cost of an empty poll, a restart in the middle of a poll, a dropped connection, a bad login."""

from __future__ import annotations

import dataclasses
import logging
import pathlib

import pytest

from optdesk.daemon.ingest import build_classifier
from optdesk.daemon.scheduler import Backoff, Daemon
from optdesk.demo_mailbox import demo_messages, demo_people

from .imap_helpers import daemon_settings, demo_store, key

pytestmark = pytest.mark.imap


def _folder(daemon: Daemon, name: str) -> str:
    return daemon.source.server_folder(name)


def test_every_kind_over_imap_flags_untouched(dovecot, tmp_path, tmp_path_factory):
    store = demo_store(tmp_path, tmp_path_factory)
    settings = daemon_settings(dovecot, tmp_path)
    mail = list(demo_messages(demo_people(store), key(settings), settings.unsubscribe_domain))
    for i, data in enumerate(mail):
        flags = ["\\Seen"] if i == 0 else ["\\Flagged"] if i == 16 else []
        dovecot.append(data, flags=flags)
    daemon = Daemon(settings, store=store)
    result = daemon.poll_job()
    assert result is not None and result.errors == 0 and result.moved == 14
    inbox = dovecot.contents("INBOX")
    # human replies (one negated opt-out), and the spam complaint of a sender that is not a
    # configured feedback loop (held for review); the policy refusal is an incident
    assert len(inbox) == 4
    assert sorted(sorted(f) for f, _ in inbox.values()) == [[], [], [], ["\\Flagged"]]
    opt_out = dovecot.contents(_folder(daemon, "optdesk/opt_out"))
    assert len(opt_out) == 9
    assert sorted(sorted(f) for f, _ in opt_out.values()) == [[]] * 8 + [["\\Seen"]]
    for kind, n in {"complaint": 0, "bounce_hard": 2, "bounce_soft": 1, "auto_reply": 2}.items():
        got = dovecot.contents(_folder(daemon, f"optdesk/{kind}"))
        assert len(got) == n and all("\\Seen" not in f for f, _ in got.values()), kind
    events = store.events(data_group="demo", kinds=["opt_out"])
    assert events.filter(events["message_hash"].is_not_null()).height == 8  # not the complaint
    empty = daemon.poll_job()
    assert empty.seen == 0 and empty.commands <= 3
    daemon.close()


def _opt_out_mail(store, settings, n: int) -> list[bytes]:
    people = demo_people(store, wanted=n)
    return [
        (f"From: {name} <{addr}>\r\nTo: press@example.org\r\nSubject: Re: news {cid}\r\n"
         f"Message-ID: <oo-{cid}@test.example>\r\n\r\nPlease remove me from your list.\r\n").encode()
        for cid, name, addr in people
    ]


def _errors(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records
            if r.levelno >= logging.ERROR and r.name == "optdesk.daemon.scheduler"]


def test_dovecot_restarted_mid_poll(private_dovecot, tmp_path, tmp_path_factory, caplog):
    caplog.set_level(logging.INFO)
    store = demo_store(tmp_path, tmp_path_factory)
    settings = daemon_settings(private_dovecot, tmp_path, fetch_size=10)
    mail = _opt_out_mail(store, settings, 30)
    private_dovecot.multiappend(mail)
    private_dovecot.close()
    real = build_classifier(settings, store).classify
    calls = {"n": 0}

    def classify_then_stop_server(data: bytes):
        calls["n"] += 1
        if calls["n"] == 15:  # in the second batch, after the first one committed
            private_dovecot.stop()
        return real(data)

    daemon = Daemon(settings, store=store, classify=classify_then_stop_server,
                    backoff=Backoff(first=0.01, cap=0.02))
    assert daemon.poll_job() is None
    assert daemon.poll_job() is None  # still down: not said again
    assert len(_errors(caplog)) == 1 and "MailboxUnavailable" in _errors(caplog)[0]
    private_dovecot.start()
    daemon.not_before = 0
    result = daemon.poll_job()
    assert result is not None and result.moved == 30
    assert len(_errors(caplog)) == 1
    assert any("working again" in r.getMessage() for r in caplog.records)
    events = store.events(data_group="demo", kinds=["opt_out"])
    applied = events.filter(events["message_hash"].is_not_null())
    assert applied.height == 30 and applied["contact_id"].n_unique() == 30
    assert private_dovecot.contents("INBOX") == {}
    assert len(private_dovecot.contents(_folder(daemon, "optdesk/opt_out"))) == 30
    assert store.ledger().height == 30
    runs = store.job_runs("poll")
    assert runs["ok"].to_list() == [True, False, False]
    daemon.close()


def test_dropped_connection_reconnects_within_the_poll(dovecot, tmp_path, tmp_path_factory,
                                                        caplog):
    store = demo_store(tmp_path, tmp_path_factory)
    settings = daemon_settings(dovecot, tmp_path)
    mail = _opt_out_mail(store, settings, 4)
    dovecot.append(mail[0])
    daemon = Daemon(settings, store=store)
    assert daemon.poll_job().applied == 1
    dovecot.kick()
    dovecot.append(mail[1])
    result = daemon.poll_job()
    assert result is not None and result.applied == 1 and result.moved == 1
    assert _errors(caplog) == []
    daemon.close()


def test_login_failure_said_once_then_recovers(private_dovecot, tmp_path, tmp_path_factory,
                                              caplog):
    store = demo_store(tmp_path, tmp_path_factory)
    secret = pathlib.Path(tmp_path / "imap.pass")
    secret.write_text("wrong-password\n")
    settings = daemon_settings(private_dovecot, tmp_path)
    settings = dataclasses.replace(
        settings, imap=dataclasses.replace(settings.imap, password_file=str(secret)))
    private_dovecot.append(_opt_out_mail(store, settings, 1)[0])
    daemon = Daemon(settings, store=store, backoff=Backoff(first=0.01, cap=0.02))
    assert daemon.poll_job() is None
    daemon.not_before = 0
    assert daemon.poll_job() is None
    errors = _errors(caplog)
    assert len(errors) == 1 and "MailboxAuthError" in errors[0]
    assert "wrong-password" not in caplog.text and private_dovecot.password not in caplog.text
    secret.write_text(private_dovecot.password + "\n")
    daemon.not_before = 0
    result = daemon.poll_job()
    assert result is not None and result.applied == 1
    assert len(_errors(caplog)) == 1
    daemon.close()
