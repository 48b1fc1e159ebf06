"""IMAP URL parsing and credential retrieval (no network)."""

from __future__ import annotations

import sys

import pytest
from hypothesis import given
from hypothesis import strategies as st

from optdesk.errors import ConfigError, MailboxAuthError
from optdesk.settings import ImapSettings, Settings
from optdesk.sources import open_source, uid_ranges
from optdesk.sources.imap import ImapSource
from optdesk.sources.imap_config import credential, parse_imap_url, ssl_context

PLAIN_OK = ImapSettings(allow_plaintext=True)


def test_imaps_url_with_email_user_and_defaults():
    t = parse_imap_url("imaps://press@example.org@imap.example.org", ImapSettings())
    assert (t.user, t.host, t.port, t.folder, t.tls) == (
        "press@example.org", "imap.example.org", 993, "INBOX", "implicit",
    )  # fmt: skip
    assert t.url == "imaps://press@example.org@imap.example.org:993/INBOX"
    t = parse_imap_url("imaps://press%40example.org@[::1]:1993/Support/Opt%20outs", ImapSettings())
    assert (t.user, t.host, t.port, t.folder) == ("press@example.org", "::1", 1993, "Support/Opt outs")
    assert t.url == "imaps://press@example.org@[::1]:1993/Support/Opt outs"


def test_imap_url_needs_starttls_or_explicit_plaintext():
    with pytest.raises(ConfigError, match="unencrypted"):
        parse_imap_url("imap://u@mail.example.org/INBOX", ImapSettings())
    assert parse_imap_url("imap://u@h", ImapSettings(starttls=True)).tls == "starttls"
    assert parse_imap_url("imap://u@h", PLAIN_OK).tls == "none"
    assert parse_imap_url("imaps://u@h", ImapSettings(starttls=True)).tls == "implicit"
    assert parse_imap_url("imap://u@h", PLAIN_OK).port == 143


def test_bad_urls_are_refused_without_leaking_a_password():
    with pytest.raises(ConfigError) as err:
        parse_imap_url("imaps://u:hunter2@h/INBOX", ImapSettings())
    assert "hunter2" not in str(err.value) and "password" in str(err.value)
    with pytest.raises(ConfigError, match="needs a user"):
        parse_imap_url("imaps://h/INBOX", ImapSettings())
    with pytest.raises(ConfigError, match="bad port"):
        parse_imap_url("imaps://u@h:abc/INBOX", ImapSettings())


def test_open_source_builds_an_unconnected_imap_source():
    src = open_source("imaps://u@h:1993/INBOX", Settings(fetch_size=7))
    assert isinstance(src, ImapSource) and not src.connected
    assert src.fetch_size == 7 and src.commands == 0 and src.url == "imaps://u@h:1993/INBOX"


def test_ca_file_must_exist(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        ssl_context(ImapSettings(ca_file=str(tmp_path / "missing.pem")))
    (tmp_path / "bad.pem").write_text("not a certificate")
    with pytest.raises(ConfigError, match="not a PEM"):
        ssl_context(ImapSettings(ca_file=str(tmp_path / "bad.pem")))
    assert ssl_context(ImapSettings()).check_hostname


def test_password_from_env_then_file(tmp_path):
    pw = tmp_path / "pw"
    pw.write_text("from-file\n")
    imap = ImapSettings(password_env="X_PW", password_file=str(pw))
    assert credential(imap, "u", env={"X_PW": "from-env"}).secret == "from-env"
    c = credential(imap, "u", env={})
    assert (c.kind, c.secret) == ("password", "from-file")
    assert "from-file" not in repr(c)


def test_missing_password_is_an_auth_error(tmp_path):
    with pytest.raises(MailboxAuthError, match="no password: set the environment variable X_PW"):
        credential(ImapSettings(password_env="X_PW"), "imaps://u@h:993/INBOX", env={})
    missing = ImapSettings(password_env="X_PW", password_file=str(tmp_path / "nope"))
    with pytest.raises(MailboxAuthError, match="nope is missing or empty"):
        credential(missing, "imaps://u@h:993/INBOX", env={})


def test_oauth2_token_from_file_and_command(tmp_path):
    tok = tmp_path / "token"
    tok.write_text("ya29.file-token\nignored\n")
    assert credential(ImapSettings(oauth2_token_file=str(tok)), "u", env={}).secret == "ya29.file-token"
    cmd = f"{sys.executable} -c \"print('ya29.cmd-token')\""
    c = credential(ImapSettings(oauth2_token_command=cmd, oauth2_token_file=str(tok)), "u", env={})
    assert (c.kind, c.secret) == ("xoauth2", "ya29.cmd-token")


def test_oauth2_token_failures_are_auth_errors(tmp_path):
    failing = f"{sys.executable} -c \"import sys; sys.exit('refresh token revoked')\""
    with pytest.raises(MailboxAuthError, match="exit status 1: refresh token revoked"):
        credential(ImapSettings(oauth2_token_command=failing), "u", env={})
    silent = f"{sys.executable} -c pass"
    with pytest.raises(MailboxAuthError, match="printed no token"):
        credential(ImapSettings(oauth2_token_command=silent), "u", env={})
    with pytest.raises(MailboxAuthError, match="could not run"):
        credential(ImapSettings(oauth2_token_command=str(tmp_path / "no-such-cmd")), "u", env={})
    (tmp_path / "empty").write_text("")
    with pytest.raises(MailboxAuthError, match="is empty"):
        credential(ImapSettings(oauth2_token_file=str(tmp_path / "empty")), "u", env={})


def test_uid_ranges_compress_and_split():
    assert uid_ranges([5, 1, 2, 3, 9, 10, 12]) == ["1:3,5,9:10,12"]
    assert uid_ranges([]) == []
    sets = uid_ranges(list(range(1, 20000, 2)), max_len=100)
    assert all(len(s) <= 100 for s in sets)
    assert sorted(int(x) for s in sets for x in s.split(",")) == list(range(1, 20000, 2))


@given(st.sets(st.integers(min_value=1, max_value=5000), max_size=400), st.integers(20, 500))
def test_uid_ranges_cover_exactly_the_uids(uids, max_len):
    sets = uid_ranges(sorted(uids), max_len=max_len)
    covered = []
    for s in sets:
        assert len(s) <= max_len
        for part in s.split(","):
            lo, _, hi = part.partition(":")
            covered.extend(range(int(lo), int(hi or lo) + 1))
    assert covered == sorted(uids)
