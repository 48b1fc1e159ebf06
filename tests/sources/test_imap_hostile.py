"""The IMAP source against a real Dovecot under hostile but ordinary conditions (issue 12):
messages another client expunges between SEARCH and FETCH (item 4), large messages (item 5),
a password that is not ASCII (item 8)."""

from __future__ import annotations

import base64
import hashlib
import logging
import time
import tracemalloc

import pytest

from fixtures.dovecot import DovecotAccount
from optdesk.errors import MailboxAuthError
from optdesk.sources import open_source

from .conftest import make_message

pytestmark = pytest.mark.imap


def _expunge(account: DovecotAccount, uids: list[int], folder: str = "INBOX") -> None:
    """What another client (a person, a second daemon) does: \\Deleted + UID EXPUNGE."""
    other = account.client()
    try:
        other.select_folder(folder)
        other.add_flags(uids, [b"\\Deleted"])
        other.uid_expunge(uids)
    finally:
        other.logout()


def _vanished(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if "vanished" in r.getMessage()]


# -- item 4: BODY[] NIL ---------------------------------------------------------------------


def test_a_message_expunged_between_search_and_fetch_is_skipped_and_named_once(dovecot, caplog):
    caplog.set_level(logging.INFO)
    mail = [make_message() for _ in range(5)]
    dovecot.multiappend(mail)
    with open_source(dovecot.url(), dovecot.settings()) as src:
        uids = src.new_uids(0)
        _expunge(dovecot, [uids[1], uids[3]])  # Dovecot now answers BODY[] NIL for them
        got = list(src.fetch(uids))
    assert [m.uid for m in got] == [uids[0], uids[2], uids[4]]
    assert [m.data for m in got] == [mail[0], mail[2], mail[4]]
    said = _vanished(caplog)
    assert len(said) == 1 and f"UID {uids[1]},{uids[3]} vanished from INBOX" in said[0], said


def test_uids_gone_before_their_size_was_known_are_skipped(dovecot, caplog):
    caplog.set_level(logging.INFO)
    dovecot.multiappend([make_message() for _ in range(3)])
    with open_source(dovecot.url(), dovecot.settings()) as src:
        uids = src.new_uids(0)
        src._sizes.clear()  # as for UIDs that did not come from new_uids
        _expunge(dovecot, uids[:1])
        src.folder_state()  # the session has seen the EXPUNGE: the UID is simply not there
        assert [m.uid for m in src.fetch(uids)] == uids[1:]
    assert len(_vanished(caplog)) == 1


def test_a_large_message_expunged_while_it_is_streamed_is_skipped(dovecot, caplog, monkeypatch):
    from optdesk.sources import imap_fetch

    caplog.set_level(logging.INFO)
    big = _big_message(3_000_000)
    dovecot.multiappend([big, make_message()])
    steps = []
    original = imap_fetch.Stream.step

    def step_then_expunge(self, client):
        more = original(self, client)
        if not steps:
            _expunge(dovecot, [self.uid])
        steps.append(self.offset)
        return more

    monkeypatch.setattr(imap_fetch.Stream, "step", step_then_expunge)
    with open_source(dovecot.url(), dovecot.settings(), chunk=1_000_000) as src:
        uids = src.new_uids(0)
        got = list(src.fetch(uids))
    assert [m.uid for m in got] == uids[1:] and len(steps) == 2
    assert f"UID {uids[0]} vanished" in _vanished(caplog)[0]


# -- item 5: memory -------------------------------------------------------------------------


def _big_message(attachment: int, text: str = "Please remove me from your mailing list.") -> bytes:
    blob = base64.encodebytes(bytes(range(256)) * (attachment // 256)).replace(b"\n", b"\r\n")
    return (
        "From: Big Sender <big@example.org>\r\nTo: press@example.org\r\nSubject: Re: results\r\n"
        f"Message-ID: <big-{time.time_ns()}@example.org>\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/mixed; boundary="b1"\r\n\r\n'
        f"--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n{text}\r\n"
        '--b1\r\nContent-Type: application/pdf; name="scan.pdf"\r\n'
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode() + blob + b"--b1--\r\n"


def test_a_large_message_is_streamed_into_its_hash_and_a_text_view(dovecot):
    big = _big_message(9_000_000)  # ~12 MB on the wire
    dovecot.append(big)
    with open_source(dovecot.url(), dovecot.settings()) as src:
        uids = src.new_uids(0)
        before = src.commands
        (msg,) = list(src.fetch(uids))
        fetches = src.commands - before
    assert msg.digest == hashlib.sha256(big).hexdigest() == msg.sha256 and msg.size == len(big)
    assert not msg.complete and len(msg.data) < 2_000
    assert msg.data.startswith(big[: big.index(b"\r\n\r\n")])  # every header as it is
    assert b"Please remove me from your mailing list." in msg.data
    assert b'name="scan.pdf"' in msg.data  # the attachment's headers, not its body
    assert fetches == -(-len(big) // (4 << 20))  # one partial FETCH per 4 MB, sizes already known


def test_small_messages_are_fetched_in_groups_bounded_by_bytes(dovecot):
    mail = [make_message(body="x" * 300_000) for _ in range(10)]
    dovecot.multiappend(mail)
    with open_source(dovecot.url(), dovecot.settings(), fetch_bytes=1_000_000) as src:
        uids = src.new_uids(0)
        before = src.commands
        got = list(src.fetch(uids))
        assert src.commands - before == 4  # 3 + 3 + 3 + 1 messages of ~300 KB
    assert [m.data for m in got] == mail and all(m.complete for m in got)


def test_fetching_large_messages_holds_one_piece_at_a_time(dovecot):
    """Three 12 MB replies in one batch: the old single FETCH held all 36 MB at once (and
    imaplib's copies of it); now the peak is a few 4 MB pieces."""
    mail = [_big_message(9_000_000) for _ in range(3)]
    dovecot.multiappend(mail)
    with open_source(dovecot.url(), dovecot.settings()) as src:
        uids = src.new_uids(0)
        tracemalloc.start()
        try:
            digests = [getattr(m, "digest", None) or hashlib.sha256(m.data).hexdigest()
                       for m in src.fetch(uids)]
            peak = tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()
    assert digests == [hashlib.sha256(m).hexdigest() for m in mail]
    print(f"peak {peak / 1e6:.1f} MB")
    assert peak < 20_000_000, f"peak {peak / 1e6:.0f} MB of Python allocations"


def test_the_view_of_a_large_message_classifies_like_the_message(dovecot, tmp_path):
    from optdesk.daemon.ingest import build_classifier
    from optdesk.settings import Settings

    (tmp_path / "key").write_bytes(b"k" * 40)
    classify = build_classifier(Settings(secret_file=str(tmp_path / "key"))).classify
    big = _big_message(2_000_000, text="Bitte nehmen Sie mich aus Ihrem Verteiler.")
    dovecot.append(big)
    with open_source(dovecot.url(), dovecot.settings()) as src:
        (msg,) = list(src.fetch(src.new_uids(0)))
    whole, view = classify(big), classify(msg.data)
    assert (view.kind, view.addresses, view.review) == (whole.kind, whole.addresses, whole.review)
    assert view.kind == "opt_out"


# -- item 8: a password that is not ASCII ---------------------------------------------------


def _utf8_account(server, tmp_path, password: str) -> DovecotAccount:
    user = f"utf8-{time.time_ns()}"
    with open(server.dir / "users", "a", encoding="utf-8") as fh:
        fh.write(f"{user}:{{PLAIN}}{password}\n")
    time.sleep(1.1)  # Dovecot re-reads a changed passwd-file at most once a second
    secret = tmp_path / f"{user}.pass"
    secret.write_text(password + "\n", encoding="utf-8")
    return DovecotAccount(server, user, password, str(secret))


def test_a_non_ascii_password_logs_in_with_authenticate_plain(private_dovecot, tmp_path, caplog):
    caplog.set_level(logging.DEBUG)
    account = _utf8_account(private_dovecot.server, tmp_path, "pässwörd-€")
    with open_source(account.url(), account.settings()) as src:
        assert src.new_uids(0) == []
    assert f"user=<{account.user}>, method=PLAIN" in account.server.log()
    text = "\n".join(r.getMessage() for r in caplog.records)
    plain = f"\0{account.user}\0{account.password}".encode()
    assert account.password not in text and base64.b64encode(plain).decode() not in text
    wrong = tmp_path / "wrong"
    wrong.write_text("fälsch\n", encoding="utf-8")
    with pytest.raises(MailboxAuthError, match=f"login as {account.user} refused") as err:
        open_source(account.url(), account.settings(password_file=str(wrong))).connect()
    assert "\n" not in str(err.value) and "fälsch" not in str(err.value)


def test_without_authenticate_plain_a_non_ascii_password_is_a_one_line_error(private_dovecot, tmp_path):
    server = private_dovecot.server
    private_dovecot.close()
    server.stop()
    server.config.write_text(server.config.read_text().replace(
        "auth_mechanisms = plain login xoauth2 oauthbearer", "auth_mechanisms = login xoauth2"))
    server.start()
    account = _utf8_account(server, tmp_path, "pässwörd")
    with pytest.raises(MailboxAuthError) as err:
        open_source(account.url(), account.settings()).connect()
    message = str(err.value)
    assert "\n" not in message and account.url() in message and "pässwörd" not in message
    assert "non-ASCII" in message and "AUTHENTICATE PLAIN" in message
