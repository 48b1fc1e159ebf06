"""check_writable skips the email package for short printable values without an encoded word:
every such value must be one the email package writes out (the slow path agrees)."""

from __future__ import annotations

import random
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP

import pytest

from optdesk.errors import HeaderInjection
from optdesk.outgoing import invitations as inv
from optdesk.outgoing.smtp import check_headers, unwritable

ALPHABET = [chr(c) for c in [*range(32, 127), *range(0xA0, 0x250), 0x2019, 0x201C, 0x4E2D,
                             0x65E5, 0x1F600, 0x3000, 0x0301]]


def _slow_problem(name: str) -> str | None:
    msg = EmailMessage(policy=SMTP)
    try:
        msg["To"] = Address(display_name=name, addr_spec="ann@news.example")
        check_headers(msg)
        return unwritable(msg)
    except Exception as exc:  # noqa: BLE001 - any refusal is a disagreement
        return f"{type(exc).__name__}: {exc}"


def test_every_value_the_fast_path_accepts_is_written_by_the_email_package():
    rng = random.Random(20261202)
    tried = 0
    for _ in range(3000):
        name = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 70)))
        header = str(Address(display_name=name, addr_spec="ann@news.example"))
        if not (header.isprintable() and "=?" not in header):
            continue
        tried += 1
        inv.check_writable("contact name", "To", header)  # the fast path: no error
        assert _slow_problem(name) is None, repr(name)
    assert tried > 2000


def test_an_encoded_word_still_goes_through_the_email_package():
    """Printable, but its encoded word decodes to a line break: refused, as before."""
    value = "=?utf-8?q?Ann=0D=0ABcc:_x@evil.example?= <ann@news.example>"
    assert value.isprintable()
    with pytest.raises(HeaderInjection, match="contact name"):
        inv.check_writable("contact name", "To", value)
    row = {"contact_id": 7, "name": "=?utf-8?q?Ann=0D=0ABcc:_x@evil.example?=",
           "email": "ann@news.example"}
    assert "line break or control character" in inv.recipient_problem(row)  # skipped, not a crash
