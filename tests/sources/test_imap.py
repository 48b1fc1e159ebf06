"""IMAP specifics against the real Dovecot: login, XOAUTH2, secrets never logged, command counts,
server folder naming."""

from __future__ import annotations

import logging
import sys

import pytest

from optdesk.errors import MailboxAuthError, MailboxError
from optdesk.sources import open_source

from .conftest import make_message

pytestmark = pytest.mark.imap


def test_wrong_password_is_a_clear_auth_error(private_dovecot, tmp_path):
    dovecot = private_dovecot
    bad = tmp_path / "pw"
    bad.write_text("wrong-password\n")
    src = open_source(dovecot.url(), dovecot.settings(password_file=str(bad)))
    with pytest.raises(MailboxAuthError) as err:
        src.connect()
    message = str(err.value)
    assert dovecot.user in message and dovecot.url() in message and "refused" in message
    assert "AUTHENTICATIONFAILED" in message and "wrong-password" not in message
    assert not src.connected


def test_secrets_never_logged(private_dovecot, caplog, tmp_path):
    dovecot = private_dovecot
    caplog.set_level(logging.DEBUG)
    with open_source(dovecot.url(), dovecot.settings()) as src:
        src.folder_state()
    bad = tmp_path / "pw"
    bad.write_text("Wr0ng-S3cret-xyz\n")
    with pytest.raises(MailboxAuthError) as err:
        open_source(dovecot.url(), dovecot.settings(password_file=str(bad))).connect()
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "LOGIN" in text  # imapclient's protocol log was captured at all
    assert dovecot.password not in text and "Wr0ng-S3cret-xyz" not in text
    assert "Wr0ng-S3cret-xyz" not in str(err.value)


def test_xoauth2_login_with_token_file_and_command(private_dovecot, caplog, tmp_path):
    # Dovecot verifies an XOAUTH2 bearer token against the passdb like a password
    account = private_dovecot
    token = account.password
    (tmp_path / "token").write_text(token + "\n")
    caplog.set_level(logging.DEBUG)
    imap = {"password_file": None, "oauth2_token_file": str(tmp_path / "token")}
    with open_source(account.url(), account.settings(**imap)) as src:
        assert src.folder_state().uidvalidity > 0
    cmd = f"{sys.executable} -c \"print('{token}')\""
    with open_source(account.url(), account.settings(password_file=None, oauth2_token_command=cmd)) as src:
        assert src.new_uids(0) == []
    assert token not in "\n".join(r.getMessage() for r in caplog.records)
    assert f"user=<{account.user}>, method=XOAUTH2" in account.server.log()
    (tmp_path / "token").write_text("expired-token\n")
    with pytest.raises(MailboxAuthError, match="xoauth2"):
        open_source(account.url(), account.settings(**imap)).connect()


def test_command_counts(dovecot):
    for _ in range(3):
        dovecot.append(make_message())
    with open_source(dovecot.url(), dovecot.settings()) as src:
        base = src.commands
        state = src.folder_state()
        uids = src.new_uids(0)
        assert src.commands - base == 2  # SELECT + UID SEARCH
        base = src.commands
        assert src.new_uids(uids[-1]) == [] and src.commands - base == 2  # NOOP + UID SEARCH
        assert state.uidnext == uids[-1] + 1
        src.move(uids[:1], "optdesk/opt_out")
        base = src.commands
        src.move(uids[1:2], "optdesk/opt_out")
        assert src.commands - base == 1  # UID MOVE, folder known
    with open_source(dovecot.url(), dovecot.settings(), use_move=False) as src:
        base = src.commands
        src.move(uids[2:], "optdesk/opt_out")
        assert src.commands - base == 3  # UID COPY, UID STORE, UID EXPUNGE


def test_processed_folders_use_the_server_delimiter_and_are_subscribed(dovecot):
    dovecot.append(make_message())
    with open_source(dovecot.url(), dovecot.settings()) as src:
        assert src.server_folder("optdesk/opt_out") == "optdesk.opt_out"
        src.move(src.new_uids(0), "optdesk/opt_out")
    c = dovecot.helper()
    assert "optdesk.opt_out" in [f[2] for f in c.list_sub_folders("", "optdesk*")]
    assert (dovecot.maildir / ".optdesk.opt_out" / "cur").is_dir()


def test_inbox_folder_from_url(dovecot):
    dovecot.helper().create_folder("Support.Replies")
    dovecot.append(make_message(), folder="Support.Replies")
    dovecot.append(make_message())
    with open_source(dovecot.url("Support/Replies"), dovecot.settings()) as src:
        assert src.folder_state().folder == "Support/Replies"
        (uid,) = src.new_uids(0)
        src.move([uid], "optdesk/human")
    assert len(dovecot.flags("optdesk.human")) == 1 and len(dovecot.flags("INBOX")) == 1


def test_missing_inbox_folder_names_it(dovecot):
    src = open_source(dovecot.url("No/Such"), dovecot.settings())
    with pytest.raises(MailboxError, match=r"No\.Such"):
        src.connect()
    assert not src.connected


def test_internaldate_is_the_servers(dovecot):
    import datetime as dt

    when = dt.datetime(2026, 3, 4, 5, 6, 7, tzinfo=dt.UTC)
    dovecot.helper().append("INBOX", make_message(), msg_time=when)
    with open_source(dovecot.url(), dovecot.settings()) as src:
        (msg,) = src.fetch(src.new_uids(0))
    assert msg.internaldate == when


def test_fixture_bulk_fill_through_the_maildir(dovecot):
    sent = [make_message() for _ in range(5)]
    dovecot.write_maildir(sent)
    with open_source(dovecot.url(), dovecot.settings()) as src:
        assert [m.data.replace(b"\r\n", b"\n") for m in src.fetch(src.new_uids(0))] == [
            d.replace(b"\r\n", b"\n") for d in sent
        ]
