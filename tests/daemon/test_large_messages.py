"""Large messages through whole polls (issue 12, item 5): the classifier reads only headers and
text parts, but the ledger key is still the SHA-256 of the exact bytes, and the message is
moved whole. (Peak RSS of the daemon process: bench/bench_memory.py, docs/benchmarks.md.)"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import os

import pytest

from optdesk.daemon.ingest import Ingestor
from optdesk.sources import open_source
from optdesk.sources.maildir import MaildirSource

from .conftest import make_mail


def _with_attachment(sender: str, kind: str, megabytes: float) -> bytes:
    small = make_mail(sender, kind, body="Please see the attached file.")
    head, _, body = small.partition(b"\r\n\r\n")
    blob = base64.encodebytes(os.urandom(int(megabytes * 1_000_000))).replace(b"\n", b"\r\n")
    return (head + b'\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="zz"\r\n\r\n'
            b"--zz\r\nContent-Type: text/plain\r\n\r\n" + body
            + b'--zz\r\nContent-Type: image/jpeg; name="photo.jpg"\r\n'
            b"Content-Transfer-Encoding: base64\r\n\r\n" + blob + b"--zz--\r\n")


def _seen_by_classifier(store):
    sizes: list[int] = []

    def classify(data: bytes):
        from .conftest import fake_classify

        sizes.append(len(data))
        decision = fake_classify(data)  # its new_text is the payload: a list for multipart
        return dataclasses.replace(decision, new_text=str(decision.new_text)[:200])

    return classify, sizes


@pytest.mark.imap
def test_large_replies_over_imap_keep_their_exact_hash_and_move_whole(dovecot, desk, settings):
    settings = dataclasses.replace(settings, mailbox=dovecot.url(), imap=dovecot.imap_settings())
    mail = [_with_attachment("alice@example.org", "opt_out", 6),
            make_mail("away@example.net", "auto_reply"),
            _with_attachment("away2@example.net", "auto_reply", 3)]
    dovecot.multiappend(mail)
    classify, sizes = _seen_by_classifier(desk)
    with open_source(settings.mailbox, settings) as src:
        res = Ingestor(desk, src, classify, settings).poll()
    assert res.applied == 3 and res.moved == 3 and res.errors == 0
    assert max(sizes) < 10_000  # the classifier never saw an attachment's bytes
    ledger = desk.ledger()
    assert sorted(ledger["message_hash"].to_list()) == sorted(hashlib.sha256(m).hexdigest()
                                                              for m in mail)
    moved = [d for _, d in dovecot.contents("optdesk.opt_out").values()]
    moved += [d for _, d in dovecot.contents("optdesk.auto_reply").values()]
    assert sorted(moved) == sorted(mail)  # byte for byte, attachments included


def test_large_maildir_messages_are_read_as_a_stream(tmp_path, desk, settings):
    root = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (root / sub).mkdir(parents=True)
    big = _with_attachment("bob@example.org", "opt_out", 4).replace(b"\r\n", b"\n")  # LF on disk
    (root / "new" / "1790000000.M1P1.test").write_bytes(big)
    classify, sizes = _seen_by_classifier(desk)
    with MaildirSource(root) as src:
        (raw,) = list(src.fetch(src.new_uids(0)))
        assert raw.digest == hashlib.sha256(big).hexdigest() and raw.size == len(big)
        res = Ingestor(desk, src, classify, settings).poll()
    assert res.applied == 1 and res.moved == 1 and max(sizes) < 10_000
    assert desk.ledger()["message_hash"].to_list() == [hashlib.sha256(big).hexdigest()]
    assert (root / ".optdesk.opt_out" / "new" / "1790000000.M1P1.test").read_bytes() == big
