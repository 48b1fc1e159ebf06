"""Stable UIDs for a Maildir folder, kept in a small text file inside the folder.

Maildir has no UIDs, so each folder gets ``optdesk-uidlist``::

    optdesk-uidlist v2 <uidvalidity> <uidnext>
    <uid> <filename base, percent-escaped>
    ...

The filename base is the part before ``:2,`` (the info/flags suffix changes when a mail client
marks a message read; the base never does). In the file it is percent-escaped (RFC 3986 style,
over the name's bytes): a name may hold a space, a CR, U+2028 or bytes that are not UTF-8, and
none of them may break a line. New files get increasing UIDs from ``uidnext``; entries of
vanished files are dropped; UIDs are never reused. The file is rewritten atomically (temporary
file + rename) under an ``flock`` on ``optdesk-uidlist.lock``, so two processes never hand out
the same UID. Deleting the file starts a new, higher UIDVALIDITY (the last one is also kept in
the lock file), which tells every reader to re-scan.

Version 1 files (names written raw) are still read, line by line on LF only, and are
rewritten as version 2 the next time the list changes. A damaged file is repaired rather than
fatal: a bad line is logged (file and line number) and dropped, so its message gets a new UID
(the ledger's hash keeps it from being applied twice); a bad header starts a new UIDVALIDITY.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import pathlib
import time
import urllib.parse
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

log = logging.getLogger(__name__)

FILENAME = "optdesk-uidlist"
LOCKNAME = "optdesk-uidlist.lock"
MAGIC = "optdesk-uidlist"
VERSION = "v2"
SAFE = ",:=+!~@#$&()[]{}'"  # kept as they are besides letters, digits and "_.-~"


@dataclass
class UidList:
    uidvalidity: int
    uidnext: int = 1
    uids: dict[str, int] = field(default_factory=dict)
    repaired: bool = False  # damage was found and dropped when loading: save to repair the file

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


def escape(base: str) -> str:
    """A file name base as it is written in the uidlist: ASCII, no space, no line break."""
    return urllib.parse.quote_from_bytes(os.fsencode(base), safe=SAFE)


def unescape(text: str) -> str:
    return os.fsdecode(urllib.parse.unquote_to_bytes(text))


def load(folder: pathlib.Path) -> UidList:
    """Read the folder's uidlist, or start a new one (new UIDVALIDITY) when there is none or its
    header is unreadable. Bad lines are logged and dropped (``repaired`` is then True)."""
    path = folder / FILENAME
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return UidList(uidvalidity=_fresh_validity(folder))
    lines = raw.decode("utf-8", "surrogateescape").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    head = lines[0].split(" ") if lines else []
    try:
        if len(head) != 4 or head[0] != MAGIC or head[1] not in ("v1", VERSION):
            raise ValueError
        result = UidList(int(head[2]), int(head[3]))
    except ValueError:
        fresh = UidList(uidvalidity=_fresh_validity(folder), repaired=True)
        log.warning("%s:1: not an optdesk uidlist header (%r): starting again with UIDVALIDITY %s "
                    "(every message is read again; the ledger prevents double application)",
                    path, lines[0][:80] if lines else "", fresh.uidvalidity)
        return fresh
    bad: list[tuple[int, str]] = []
    taken: set[int] = set()
    for number, line in enumerate(lines[1:], start=2):
        uid, _, base = line.partition(" ")
        if head[1] == VERSION:
            try:
                base = unescape(base) if base and " " not in base else ""
            except ValueError:
                base = ""
        if not uid.isdigit() or not base or int(uid) in taken or base in result.uids:
            bad.append((number, line))
            continue
        result.uids[base] = int(uid)
        taken.add(int(uid))
    top = max(taken, default=0)
    if top >= result.uidnext:  # never hand out a UID already listed
        log.warning("%s:1: uidnext %s is not above UID %s listed in it: raised to %s",
                    path, result.uidnext, top, top + 1)
        result.uidnext, result.repaired = top + 1, True
    if bad:
        number, line = bad[0]
        log.warning("%s:%s: bad uidlist line %r%s: dropped (its message gets a new UID; the "
                    "ledger prevents double application)", path, number, line[:120],
                    f" and {len(bad) - 1} more" if len(bad) > 1 else "")
        result.repaired = True
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
    lines = [f"{MAGIC} {VERSION} {uidlist.uidvalidity} {uidlist.uidnext}"]
    lines.extend(f"{uid} {escape(base)}"
                 for base, uid in sorted(uidlist.uids.items(), key=lambda kv: kv[1]))
    with open(tmp, "w", encoding="ascii", newline="\n") as fh:
        fh.write("\n".join(lines) + "\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    (folder / LOCKNAME).write_text(f"{uidlist.uidvalidity}\n")
    uidlist.repaired = False
