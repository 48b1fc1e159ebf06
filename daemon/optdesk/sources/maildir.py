"""``maildir:PATH`` — a local Maildir, the embedded default source.

The inbox folder is the Maildir root (``cur/``, ``new/``, ``tmp/``). Processed mail goes to
Maildir++ subfolders: ``optdesk/opt_out`` is the directory ``PATH/.optdesk.opt_out`` (``/`` maps
to ``.``; a ``.`` inside a part is refused), with a ``maildirfolder`` marker, exactly as Dovecot
lays out the same folder, so a Maildir written here can later be served over IMAP.

UIDs come from ``optdesk-uidlist`` (see ``optdesk.sources.uidlist``). Reading never renames a
file or touches its flags: a message in ``new/`` stays there; ``:2,S`` (seen) is left as it is.
Moving renames the file into the same subdirectory (``new/`` or ``cur/``) of the target folder,
keeping its name and so its flags. No Maildir operation is a protocol command: ``commands``
stays 0.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import pathlib
import time
from collections.abc import Iterator, Sequence

from optdesk.errors import ConfigError, MailboxError, MailboxUnavailable
from optdesk.sources import (
    CHUNK,
    LARGE_MESSAGE,
    FolderState,
    RawMessage,
    SourceBase,
    split_folder,
)
from optdesk.sources import uidlist as uidlist_mod
from optdesk.sources.textview import digest_and_view

log = logging.getLogger(__name__)

SUBDIRS = ("new", "cur")
FLAG_LETTERS = {"D": "\\Draft", "F": "\\Flagged", "R": "\\Answered", "S": "\\Seen", "T": "\\Deleted"}


def split_name(name: str) -> tuple[str, str]:
    """(base, flag letters) of a Maildir file name: ``"123.M1.host:2,FS"`` → ``("123.M1.host", "FS")``."""
    base, sep, info = name.partition(":")
    return base, info[2:] if sep and info.startswith("2,") else ""


def flags_of(name: str) -> set[str]:
    """IMAP flags encoded in a Maildir file name (unknown letters are keywords, ignored)."""
    return {FLAG_LETTERS[c] for c in split_name(name)[1] if c in FLAG_LETTERS}


def folder_dir(root: pathlib.Path, folder: str) -> pathlib.Path:
    """The Maildir++ directory of a ``/``-separated folder name (``INBOX`` is the root)."""
    if folder.upper() == "INBOX":
        return root
    parts = split_folder(folder)
    if any("." in p for p in parts):
        raise ConfigError(f"folder {folder!r}: '.' is the Maildir++ separator; use '/' between parts")
    return root / ("." + ".".join(parts))


def ensure_folder(path: pathlib.Path, subfolder: bool = True) -> None:
    """Create a Maildir (and the Maildir++ ``maildirfolder`` marker) if it does not exist."""
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    if subfolder:
        (path / "maildirfolder").touch(exist_ok=True)


def scan(path: pathlib.Path, skipped: dict[str, str] | None = None) -> dict[str, tuple[str, str]]:
    """base → (subdir, file name) of every message file in ``new/`` and ``cur/``.

    Only files count (a symlink to a file too): directories, symlinks to them, broken symlinks,
    FIFOs and sockets are left out and, when ``skipped`` is given, noted in it ("new/x" → what).
    """
    found: dict[str, tuple[str, str]] = {}
    for sub in SUBDIRS:
        try:
            entries = list(os.scandir(path / sub))
        except FileNotFoundError as exc:
            raise MailboxUnavailable(f"Maildir {path}: {sub}/ is missing") from exc
        for entry in entries:
            if entry.name.startswith("."):
                continue
            try:
                is_file = entry.is_file()
            except OSError:
                is_file = False
            if is_file:
                found[split_name(entry.name)[0]] = (sub, entry.name)
            elif skipped is not None:
                skipped[f"{sub}/{entry.name}"] = _what(entry)
    return found


def _what(entry: os.DirEntry) -> str:
    try:
        if entry.is_symlink():
            return "a symlink to a directory" if entry.is_dir() else "a broken symlink or a special file"
        return "a directory" if entry.is_dir(follow_symlinks=False) else "not a regular file"
    except OSError:
        return "not readable"


class MaildirSource(SourceBase):
    """A Maildir on the local disk. See the module docstring for the layout."""

    def __init__(self, path: str | os.PathLike, fetch_size: int = 500, poll_every: float = 0.2,
                 large_message: int = LARGE_MESSAGE, chunk: int = CHUNK):
        self.root = pathlib.Path(path)
        self.url = f"maildir:{path}"
        self.fetch_size = fetch_size
        self.poll_every = poll_every
        self.commands = 0
        self.connected = False
        self.large_message, self.chunk = large_message, chunk
        self._files: dict[int, tuple[str, str]] = {}
        self._known: set[str] = set()
        self._warned: set[str] = set()  # entries of new/ and cur/ already reported as not files

    def connect(self) -> None:
        if not all((self.root / sub).is_dir() for sub in ("cur", "new", "tmp")):
            raise MailboxUnavailable(f"Maildir {self.root} does not exist (needs cur/, new/, tmp/)")
        self.connected = True

    def close(self) -> None:
        self.connected = False

    def _sync(self) -> uidlist_mod.UidList:
        """Scan the inbox, give new files UIDs, drop vanished ones; refresh the UID → file index."""
        if not self.connected:
            self.connect()
        found = self._scan()
        with uidlist_mod.locked(self.root):
            ul = uidlist_mod.load(self.root)
            repaired = ul.repaired
            dropped = ul.retain(set(found))
            fresh = sorted((b for b in found if b not in ul.uids), key=lambda b: self._age(found[b], b))
            if ul.assign(fresh) or dropped or repaired or not (self.root / uidlist_mod.FILENAME).exists():
                uidlist_mod.save(self.root, ul)
        self._files = {uid: found[base] for base, uid in ul.uids.items()}
        self._known = set(found)
        return ul

    def _scan(self) -> dict[str, tuple[str, str]]:
        """``scan`` of the inbox; what is not a file is skipped with one warning per entry."""
        skipped: dict[str, str] = {}
        found = scan(self.root, skipped)
        for name, what in skipped.items():
            if name not in self._warned:
                log.warning("Maildir %s: %s is %s, not a message file: skipped", self.root, name, what)
        self._warned = set(skipped)
        return found

    def _age(self, entry: tuple[str, str], base: str) -> tuple[int, str]:
        try:
            return (os.stat(self.root / entry[0] / entry[1]).st_mtime_ns, base)
        except FileNotFoundError:
            return (0, base)

    def folder_state(self) -> FolderState:
        ul = self._sync()
        return FolderState("INBOX", ul.uidvalidity, ul.uidnext)

    def new_uids(self, after_uid: int) -> list[int]:
        self._sync()
        return sorted(uid for uid in self._files if uid > after_uid)

    def _read(self, uid: int) -> RawMessage | None:
        for attempt in range(2):
            entry = self._files.get(uid)
            if entry is None:
                return None
            path = self.root / entry[0] / entry[1]
            try:
                return self._read_file(uid, path)
            except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
                if attempt == 0:
                    self._sync()  # a mail client renamed it (new/ → cur/, flags): look again
        log.info("Maildir %s: UID %s vanished before it could be read (renamed away or deleted "
                 "by another program): skipped", self.root, uid)
        return None

    def _read_file(self, uid: int, path: pathlib.Path) -> RawMessage:
        """The message, or for one over ``large_message`` bytes its SHA-256 and TextView, read
        in ``chunk`` pieces (see ``optdesk.sources.textview``)."""
        with open(path, "rb") as fh:
            info = os.fstat(fh.fileno())
            when = dt.datetime.fromtimestamp(int(info.st_mtime), dt.UTC)
            if info.st_size <= self.large_message:
                return RawMessage(uid, fh.read(), when)
            digest, size, view = digest_and_view(iter(lambda: fh.read(self.chunk), b""))
        return RawMessage(uid, view, when, digest=digest, size=size)

    def fetch(self, uids: Sequence[int]) -> Iterator[RawMessage]:
        if not self._files:
            self._sync()
        for uid in sorted(set(uids)):
            message = self._read(uid)
            if message is not None:
                yield message

    def ensure_folder(self, folder: str, create: bool = True) -> None:
        """Before the first poll: ConfigError unless ``folder`` maps to a Maildir++ subfolder
        (not the root, no '.' in a part); create it when missing (unless ``create`` is False)."""
        if not self.connected:
            self.connect()
        target = folder_dir(self.root, folder)
        if target == self.root:
            raise ConfigError(f"that is the inbox the daemon reads (the Maildir root {self.root})")
        if create:
            try:
                ensure_folder(target)
            except (OSError, ValueError) as exc:
                reason = getattr(exc, "strerror", None) or exc
                raise ConfigError(f"cannot create {target}: {reason}") from None

    def move(self, uids: Sequence[int], folder: str) -> None:
        target = folder_dir(self.root, folder)
        if target == self.root:
            raise MailboxError(f"cannot move messages from INBOX of {self.root} into itself")
        ensure_folder(target)
        wanted = set(uids)
        if not wanted.issubset(self._files):
            self._sync()
        with uidlist_mod.locked(self.root):
            ul = uidlist_mod.load(self.root)
            for uid in sorted(wanted):
                entry = self._files.pop(uid, None)
                if entry is not None and self._move_file(entry, target, uid):
                    ul.uids.pop(split_name(entry[1])[0], None)
            uidlist_mod.save(self.root, ul)

    def _move_file(self, entry: tuple[str, str], target: pathlib.Path, uid: int) -> bool:
        """Rename one file into ``target``; False (logged) when it cannot be: renamed away by
        another program meanwhile, or a file of that name already there (never overwritten)."""
        sub, name = entry
        for attempt in range(2):
            dest = target / sub / name
            if dest.exists():
                log.warning("Maildir %s: UID %s: %s already exists; not overwriting it, the message "
                            "stays in the inbox", self.root, uid, dest)
                return False
            try:
                os.rename(self.root / sub / name, dest)
                return True
            except FileNotFoundError:
                current = scan(self.root).get(split_name(name)[0]) if attempt == 0 else None
                if current is None:
                    break
                sub, name = current  # renamed meanwhile by a mail client (new/ → cur/, flags)
        log.info("Maildir %s: UID %s (%s) vanished before it could be moved (renamed away or "
                 "deleted by another program): skipped", self.root, uid, name)
        return False

    def wait_for_new(self, timeout: float) -> bool:
        if not self.connected:
            self.connect()
        deadline = time.monotonic() + timeout
        while True:
            if set(self._scan()) - self._known:
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(self.poll_every, remaining))
