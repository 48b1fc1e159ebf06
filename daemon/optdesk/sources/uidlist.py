"""Stable UIDs for a Maildir folder, kept in a small text file inside the folder.

Maildir has no UIDs, so each folder gets ``optdesk-uidlist``::

    optdesk-uidlist v1 <uidvalidity> <uidnext>
    <uid> <filename base>
    ...

The filename base is the part before ``:2,`` (the info/flags suffix changes when a mail client
marks a message read; the base never does). New files get increasing UIDs from ``uidnext``;
entries of vanished files are dropped; UIDs are never reused. The file is rewritten atomically
(temporary file + rename) under an ``flock`` on ``optdesk-uidlist.lock``, so two processes never
hand out the same UID. Deleting the file starts a new, higher UIDVALIDITY (the last one is also
kept in the lock file), which tells every reader to re-scan.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from optdesk.errors import MailboxError

FILENAME = "optdesk-uidlist"
LOCKNAME = "optdesk-uidlist.lock"
MAGIC = "optdesk-uidlist"


@dataclass
class UidList:
    uidvalidity: int
    uidnext: int = 1
    uids: dict[str, int] = field(default_factory=dict)

    def assign(self, bases: Iterable[str]) -> list[str]:
        """Give each base not yet listed the next UID, in the given order; returns those new bases."""
        added = []
        for base in bases:
            if base not in self.uids:
                self.uids[base] = self.uidnext
                self.uidnext += 1
                added.append(base)
        return added

    def retain(self, present: set[str]) -> bool:
        """Drop entries whose file is gone; True if any were dropped."""
        gone = [b for b in self.uids if b not in present]
        for base in gone:
            del self.uids[base]
        return bool(gone)


@contextlib.contextmanager
def locked(folder: pathlib.Path) -> Iterator[None]:
    """Hold the folder's uidlist lock (exclusive flock) for the duration of the block."""
    fd = os.open(folder / LOCKNAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def load(folder: pathlib.Path) -> UidList:
    """Read the folder's uidlist, or start a new one (new UIDVALIDITY) when there is none."""
    path = folder / FILENAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return UidList(uidvalidity=_fresh_validity(folder))
    lines = text.splitlines()
    head = lines[0].split() if lines else []
    if len(head) != 4 or head[0] != MAGIC or head[1] != "v1":
        raise MailboxError(f"{path}:1: not an optdesk uidlist header: {lines[:1]!r}")
    try:
        result = UidList(int(head[2]), int(head[3]))
    except ValueError as exc:
        raise MailboxError(f"{path}:1: bad uidvalidity or uidnext: {lines[0]!r}") from exc
    for number, line in enumerate(lines[1:], start=2):
        uid, _, base = line.partition(" ")
        if not uid.isdigit() or not base or int(uid) >= result.uidnext:
            raise MailboxError(f"{path}:{number}: bad uidlist line {line!r}")
        result.uids[base] = int(uid)
    return result


def _fresh_validity(folder: pathlib.Path) -> int:
    """The clock, but always above the last UIDVALIDITY remembered in the lock file (if the
    uidlist was deleted within the same second, the new one must still differ)."""
    try:
        previous = int((folder / LOCKNAME).read_text().strip() or 0)
    except (FileNotFoundError, ValueError):
        previous = 0
    return max(int(time.time()), previous + 1) & 0xFFFFFFFF or 1


def save(folder: pathlib.Path, uidlist: UidList) -> None:
    """Rewrite the folder's uidlist atomically (write a temporary file, fsync, rename); note its
    UIDVALIDITY in the lock file too."""
    path = folder / FILENAME
    tmp = folder / f".{FILENAME}.{os.getpid()}.tmp"
    lines = [f"{MAGIC} v1 {uidlist.uidvalidity} {uidlist.uidnext}"]
    lines.extend(f"{uid} {base}" for base, uid in sorted(uidlist.uids.items(), key=lambda kv: kv[1]))
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    (folder / LOCKNAME).write_text(f"{uidlist.uidvalidity}\n")
