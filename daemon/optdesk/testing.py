"""Fakes shared by tests and demos. Each one honours the same contract as the real thing.

``FakeMailbox`` is the server side (folders of messages with flags, thread-safe);
``FakeSource`` is a client of it implementing ``optdesk.sources.MailboxSource``. Several sources
may share one mailbox, like several IMAP clients. Failures can be injected for the poller's tests::

    box = FakeMailbox()
    uid = box.deliver(b"From: a@example.org\\r\\n\\r\\nremove me\\r\\n")
    src = FakeSource(box)
    box.fail("fetch", MailboxUnavailable("connection dropped"))   # next fetch raises once
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from optdesk.errors import MailboxError, MailboxUnavailable
from optdesk.sources import FolderState, RawMessage, SourceBase, split_folder

INBOX = "INBOX"


@dataclass
class FakeMessage:
    data: bytes
    flags: set[str] = field(default_factory=set)
    internaldate: dt.datetime | None = None


class FakeMailbox:
    """In-memory server state: folder → {uid: FakeMessage}, per-folder UIDVALIDITY and UIDNEXT."""

    def __init__(self, uidvalidity: int = 1) -> None:
        self._lock = threading.Condition()
        self._base_validity = uidvalidity
        self.folders: dict[str, dict[int, FakeMessage]] = {}
        self.uidvalidity: dict[str, int] = {}
        self.uidnext: dict[str, int] = {}
        self.failures: dict[str, list[BaseException]] = {}
        self.create(INBOX)

    def create(self, folder: str) -> None:
        with self._lock:
            if folder not in self.folders:
                self.folders[folder] = {}
                self.uidvalidity[folder] = self._base_validity + len(self.uidvalidity)
                self.uidnext[folder] = 1

    def deliver(
        self,
        data: bytes,
        flags: Iterable[str] = (),
        folder: str = INBOX,
        internaldate: dt.datetime | None = None,
    ) -> int:
        """Add a message as a mail server would; returns its UID and wakes ``wait_for_new``."""
        with self._lock:
            self.create(folder)
            uid = self.uidnext[folder]
            self.uidnext[folder] = uid + 1
            when = internaldate or dt.datetime.now(dt.UTC).replace(microsecond=0)
            self.folders[folder][uid] = FakeMessage(bytes(data), set(flags), when)
            self._lock.notify_all()
            return uid

    def flags(self, folder: str = INBOX) -> dict[int, set[str]]:
        """UID → flags of every message in ``folder`` (a copy)."""
        with self._lock:
            return {uid: set(m.flags) for uid, m in self.folders.get(folder, {}).items()}

    def reset_uidvalidity(self, folder: str = INBOX) -> None:
        """Renumber ``folder`` from UID 1 under a new UIDVALIDITY, as a server rebuild would."""
        with self._lock:
            msgs = [self.folders[folder][u] for u in sorted(self.folders[folder])]
            self.uidvalidity[folder] += 1000
            self.folders[folder] = {i + 1: m for i, m in enumerate(msgs)}
            self.uidnext[folder] = len(msgs) + 1

    def fail(self, operation: str, error: BaseException, times: int = 1) -> None:
        """Make the next ``times`` calls of ``operation`` (a FakeSource method name) raise ``error``."""
        with self._lock:
            self.failures.setdefault(operation, []).extend([error] * times)

    def _check(self, operation: str) -> None:
        with self._lock:
            queue = self.failures.get(operation)
            error = queue.pop(0) if queue else None
        if error is not None:
            raise error


class FakeSource(SourceBase):
    """A ``MailboxSource`` over a FakeMailbox. ``commands`` counts one per operation or fetch batch."""

    def __init__(self, mailbox: FakeMailbox | None = None, folder: str = INBOX, fetch_size: int = 500):
        self.mailbox = mailbox or FakeMailbox()
        self.folder = folder
        self.fetch_size = fetch_size
        self.url = f"fake:{folder}"
        self.commands = 0
        self.connected = False
        self._seen_next = 0

    def connect(self) -> None:
        if not self.connected:
            self.mailbox._check("connect")
            self.mailbox.create(self.folder)
            self.connected = True

    def close(self) -> None:
        self.connected = False

    def _op(self, name: str) -> None:
        self.connect()
        try:
            self.mailbox._check(name)
        except MailboxUnavailable:
            self.connected = False
            raise
        self.commands += 1

    def folder_state(self) -> FolderState:
        self._op("folder_state")
        box = self.mailbox
        with box._lock:
            self._seen_next = box.uidnext[self.folder]
            return FolderState(self.folder, box.uidvalidity[self.folder], box.uidnext[self.folder])

    def new_uids(self, after_uid: int) -> list[int]:
        self._op("new_uids")
        with self.mailbox._lock:
            self._seen_next = self.mailbox.uidnext[self.folder]
            return sorted(u for u in self.mailbox.folders[self.folder] if u > after_uid)

    def fetch(self, uids: Sequence[int]) -> Iterator[RawMessage]:
        ordered = sorted(set(uids))
        for start in range(0, len(ordered), self.fetch_size):
            self._op("fetch")
            with self.mailbox._lock:
                box = self.mailbox.folders[self.folder]
                batch = [
                    RawMessage(u, box[u].data, box[u].internaldate)
                    for u in ordered[start : start + self.fetch_size]
                    if u in box
                ]
            yield from batch

    def move(self, uids: Sequence[int], folder: str) -> None:
        split_folder(folder)
        if folder == self.folder:
            raise MailboxError(f"cannot move messages from {self.folder} into itself")
        self._op("move")
        box = self.mailbox
        with box._lock:
            box.create(folder)
            source = box.folders[self.folder]
            for uid in sorted(set(uids)):
                if uid in source:
                    message = source.pop(uid)
                    box.folders[folder][box.uidnext[folder]] = message
                    box.uidnext[folder] += 1

    def wait_for_new(self, timeout: float) -> bool:
        self._op("wait_for_new")
        deadline = time.monotonic() + timeout
        box = self.mailbox
        with box._lock:
            while box.uidnext[self.folder] <= self._seen_next:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                box._lock.wait(remaining)
            return True
