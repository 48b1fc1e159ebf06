"""TextView: what the classifier reads of a large message (issue 12, item 5). The view keeps the
MIME structure, every header, the text parts (capped) and drops the bodies of attachments; it
does not depend on how the bytes were cut into pieces; and on every message of the corpora the
classifier decides the same from the view as from the message."""

from __future__ import annotations

import base64
import email
import email.policy
import hashlib
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optdesk.sources.textview import TextView, digest_and_view

ROOT = pathlib.Path(__file__).resolve().parents[2]


def view(data: bytes, piece: int | None = None, **caps) -> bytes:
    tv = TextView(**caps)
    step = piece or len(data) or 1
    for i in range(0, len(data), step):
        tv.feed(data[i:i + step])
    return tv.result()


def reply(attachment: bytes = b"\x00" * 300_000, eol: bytes = b"\r\n") -> bytes:
    blob = base64.encodebytes(attachment)
    msg = (
        b"From: A <a@example.org>\nSubject: Re: news\nMessage-ID: <x@example.org>\n"
        b'MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="outer"\n\n'
        b"This is a multi-part message in MIME format.\n"
        b'--outer\nContent-Type: multipart/alternative; boundary="alt"\n\n'
        b"--alt\nContent-Type: text/plain; charset=utf-8\n\nPlease remove me.\n-- \nA signature\n"
        b"--alt\nContent-Type: text/html\n\n<p>Please remove me.</p>\n--alt--\n"
        b'--outer\nContent-Type: application/pdf; name="x.pdf"\n'
        b"Content-Transfer-Encoding: base64\n\n" + blob +
        b"--outer\nContent-Type: message/rfc822\n\n"
        b"From: Press <press@example.org>\nSubject: news\n\nThe original text.\n"
        b"--outer--\nepilogue\n"
    )
    return msg.replace(b"\n", eol)


@pytest.mark.parametrize("eol", [b"\r\n", b"\n"])
def test_the_view_keeps_headers_and_text_and_drops_attachment_bodies(eol):
    data = reply(eol=eol)
    got = view(data)
    assert len(got) < 2_000 < len(data)
    parsed = email.message_from_bytes(got, policy=email.policy.default)
    original = email.message_from_bytes(data, policy=email.policy.default)
    assert [p.get_content_type() for p in parsed.walk()] == \
        [p.get_content_type() for p in original.walk()]  # the same structure
    assert parsed["Message-ID"] == "<x@example.org>"
    text = parsed.get_body(("plain",)).get_content()
    assert "Please remove me." in text and "A signature" in text
    parts = list(parsed.walk())
    assert parts[4].get_filename() == "x.pdf" and parts[4].get_payload(decode=True) == b""
    assert "The original text." in parts[5].get_payload()[0].get_payload()


def test_a_message_without_attachments_is_its_own_view():
    data = reply().replace(b"multi-part message", b"multi-part message")
    small = data[:data.index(b"--outer\r\nContent-Type: application/pdf")] + b"--outer--\r\n"
    assert view(small) == small


def test_text_parts_are_capped_at_a_line_end():
    body = b"".join(b"line %05d of a long text\r\n" % i for i in range(20_000))
    data = b"Subject: long\r\nContent-Type: text/plain\r\n\r\n" + body
    got = view(data, part_cap=10_000)
    assert got.startswith(b"Subject: long\r\n") and got.endswith(b"\r\n")
    assert 9_000 < len(got) <= 10_100 and data.startswith(got)


def test_an_endless_line_and_a_huge_header_stay_bounded():
    data = b"Subject: x\r\nX-Long: " + b"a" * 5_000_000 + b"\r\n\r\n" + b"b" * 5_000_000
    got = view(data, piece=1 << 20)
    assert len(got) < 600_000


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=5000), st.sampled_from([b"\r\n", b"\n"]))
def test_the_view_does_not_depend_on_how_the_bytes_are_cut(piece, eol):
    data = reply(attachment=bytes(range(256)) * 80, eol=eol)
    assert view(data, piece) == view(data)


def test_digest_and_view_hash_the_whole_message():
    data = reply()
    digest, size, got = digest_and_view(data[i:i + 4096] for i in range(0, len(data), 4096))
    assert digest == hashlib.sha256(data).hexdigest() and size == len(data) and got == view(data)


def _corpus() -> list[pathlib.Path]:
    places = [ROOT / "tests" / "classify" / "corpus", ROOT / ".." / "shared" / "corpora" / "sisimai",
              ROOT / "data" / "cache" / "flufl"]
    found = []
    for place in places:
        for path in sorted(place.rglob("*")) if place.is_dir() else ():
            if path.is_file() and (path.suffix == ".eml" or path.parent.name == "data"):
                found.append(path)
    return found


def test_the_classifier_decides_the_same_from_the_view_on_every_corpus_message(tmp_path):
    from optdesk.daemon.ingest import build_classifier
    from optdesk.settings import Settings

    files = _corpus()
    if len(files) < 100:
        pytest.skip("the corpora are not here")
    (tmp_path / "key").write_bytes(b"k" * 40)
    classify = build_classifier(Settings(secret_file=str(tmp_path / "key"))).classify
    differ = []
    for path in files:
        data = path.read_bytes()
        whole, seen = classify(data), classify(view(data, piece=97))
        if (whole.kind, whole.addresses, whole.review) != (seen.kind, seen.addresses, seen.review):
            differ.append(f"{path.name}: {whole.kind} → {seen.kind}")
    assert not differ, differ
