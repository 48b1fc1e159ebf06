"""Backends for the source conformance suite: each gives sources over one mailbox, plus a
second, independent view of that mailbox (to deliver mail and read flags) that does not go
through the source under test."""

from __future__ import annotations

import itertools
import os
import pathlib
import re
import time

import pytest

from optdesk.sources.maildir import FLAG_LETTERS, MaildirSource, flags_of, folder_dir
from optdesk.testing import FakeMailbox, FakeSource

_counter = itertools.count(1)
MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>]+>)", re.I | re.M)


def make_message(subject: str = "hello", body: str = "please remove me") -> bytes:
    """A small CRLF message with a unique Message-ID."""
    n = next(_counter)
    return (
        f"From: Contact {n} <contact{n}@example.org>\r\n"
        f"To: press@example.org\r\n"
        f"Subject: {subject} {n}\r\n"
        f"Message-ID: <{n}.{time.time_ns()}@test.example>\r\n"
        f"Date: Thu, 26 Nov 2026 10:00:00 +0000\r\n"
        f"\r\n{body} ({n})\r\n"
    ).encode()


def message_id(data: bytes) -> bytes:
    match = MESSAGE_ID.search(data)
    assert match, data[:200]
    return match.group(1)


class FakeBackend:
    name = "fake"
    counts_commands = True

    def __init__(self) -> None:
        self.box = FakeMailbox()

    def source(self, **kw):
        return FakeSource(self.box, **kw)

    def deliver(self, data: bytes, flags=()) -> None:
        self.box.deliver(data, flags)

    def contents(self, folder: str = "INBOX") -> dict[bytes, set[str]]:
        msgs = self.box.folders.get(folder, {})
        return {message_id(m.data): set(m.flags) for m in msgs.values()}


class MaildirBackend:
    name = "maildir"
    counts_commands = False
    letters = {v: k for k, v in FLAG_LETTERS.items()}

    def __init__(self, root: pathlib.Path) -> None:
        self.root = root
        for sub in ("cur", "new", "tmp"):
            (root / sub).mkdir(parents=True)

    def source(self, **kw):
        return MaildirSource(self.root, **kw)

    def deliver(self, data: bytes, flags=()) -> None:
        name = f"{time.time_ns()}.M{next(_counter)}P{os.getpid()}.test"
        tmp = self.root / "tmp" / name
        tmp.write_bytes(data)
        if flags:
            info = "".join(sorted(self.letters[f] for f in flags))
            os.rename(tmp, self.root / "cur" / f"{name}:2,{info}")
        else:
            os.rename(tmp, self.root / "new" / name)

    def contents(self, folder: str = "INBOX") -> dict[bytes, set[str]]:
        path = folder_dir(self.root, folder)
        out = {}
        for sub in ("new", "cur"):
            if (path / sub).is_dir():
                for f in (path / sub).iterdir():
                    out[message_id(f.read_bytes())] = flags_of(f.name)
        return out


BACKENDS = [
    "fake",
    "maildir",
    pytest.param("imap", marks=pytest.mark.imap),
    pytest.param("imap-copy", marks=pytest.mark.imap),
]


@pytest.fixture(params=BACKENDS)
def backend(request, tmp_path):
    if request.param == "fake":
        return FakeBackend()
    if request.param == "maildir":
        return MaildirBackend(tmp_path / "Maildir")
    from .imap_backend import ImapBackend

    account = request.getfixturevalue("dovecot")
    return ImapBackend(account, use_move=request.param == "imap")
