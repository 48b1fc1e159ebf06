"""Mailbox sources: one Protocol, three implementations (IMAP, Maildir, and a fake in optdesk.testing).

A source is a connection to one mailbox and its *inbox folder* (``INBOX`` unless the IMAP URL
names another). The poller (``optdesk.daemon.ingest``) drives it like this::

    with open_source(settings.mailbox, settings) as src:
        state = src.folder_state()           # (folder, uidvalidity, uidnext)
        for uid_batch in chunks(src.new_uids(last_uid), n):
            for msg in src.fetch(uid_batch): # RawMessage(uid, data, internaldate); never sets \\Seen
                ...
            src.move(done_uids, settings.folders["opt_out"])  # only after the store committed

Contract, identical for every implementation (tests/sources/test_conformance.py checks it):

* UIDs are positive, strictly increasing with arrival, never reused while ``uidvalidity`` stays
  the same. When ``uidvalidity`` changes, all remembered UIDs are void: re-scan from 0.
* ``fetch`` yields only messages that still exist, ascending by UID, and never changes flags.
  A message that vanished meanwhile (expunged or moved by another client, a second daemon, a
  mail client renaming a file) is skipped and named once in the log. Memory is bounded by bytes,
  not only by messages: whole messages are fetched in groups of at most ``FETCH_BYTES``, and a
  message larger than ``LARGE_MESSAGE`` is read alone, as a stream, into its SHA-256 and a
  ``TextView`` (headers and text parts, capped: what the classifier reads); its ``RawMessage``
  then has ``digest`` and ``size`` of the whole message and ``data`` is only that view.
* ``move`` never deletes: MOVE, or COPY + ``\\Deleted`` + ``UID EXPUNGE`` of exactly those UIDs.
  Flags travel with the message. Folder names use ``/`` as the hierarchy separator; each source
  maps it to its own (IMAP: the server's delimiter; Maildir++: ``.``). Missing folders are created.
* Errors: ``MailboxAuthError`` (wrong or missing credentials: retrying will not help until the
  configuration changes), ``MailboxUnavailable`` (server down, connection dropped, timeout:
  back off and call ``connect()`` again, see ``optdesk.daemon.scheduler.Backoff``), both
  subclasses of ``MailboxError``. After an error the source is disconnected; the next method call
  reconnects by itself, or call ``connect()`` explicitly.
* ``commands`` counts protocol commands issued since login (IMAP tags; the fake counts one per
  operation or batch; Maildir issues none). An empty poll (``folder_state`` + ``new_uids``)
  costs at most 3.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from optdesk.errors import ConfigError

if TYPE_CHECKING:
    from optdesk.settings import Settings

__all__ = [
    "FolderState",
    "RawMessage",
    "MailboxSource",
    "MessageKey",
    "SourceBase",
    "open_source",
    "split_folder",
    "uid_ranges",
    "fetch_groups",
    "LARGE_MESSAGE",
    "FETCH_BYTES",
    "CHUNK",
]

LARGE_MESSAGE = 1 << 20  # bytes: a larger message is read alone, as a stream, into a TextView
FETCH_BYTES = 16 << 20  # bytes of whole messages fetched together (besides fetch_size messages)
CHUNK = 4 << 20  # bytes per partial FETCH (or file read) of a large message


@dataclass(frozen=True)
class FolderState:
    """What the poller must remember about the inbox folder between polls."""

    folder: str
    uidvalidity: int
    uidnext: int


@dataclass(frozen=True)
class RawMessage:
    """One message: its bytes, and when the server received it (tz-aware) if known.

    ``data`` is the exact message, or, for a message larger than ``LARGE_MESSAGE``, only its
    ``TextView`` (headers and text parts, capped); then ``digest`` is the SHA-256 (hex) and
    ``size`` the length of the whole message, read as a stream. ``sha256`` is the ledger key
    either way."""

    uid: int
    data: bytes
    internaldate: dt.datetime | None = None
    digest: str | None = None
    size: int | None = None

    @property
    def complete(self) -> bool:
        """True when ``data`` is the whole message."""
        return self.digest is None

    @property
    def sha256(self) -> str:
        """SHA-256 (hex) of the whole message's bytes."""
        return self.digest or hashlib.sha256(self.data).hexdigest()


@dataclass(frozen=True)
class MessageKey:
    """How to recognise a copy of a message in another folder: its SHA-256 (the ledger's hash)
    and, when it has one, its Message-ID."""

    sha256: str
    message_id: str | None = None


@runtime_checkable
class MailboxSource(Protocol):
    """The mailbox seam. See the module docstring for the full contract."""

    url: str
    commands: int

    def connect(self) -> None:
        """Connect and log in; a no-op when connected. Raises MailboxAuthError / MailboxUnavailable."""

    def close(self) -> None:
        """Log out and release the connection; safe to call twice or after an error."""

    def folder_state(self) -> FolderState:
        """UIDVALIDITY and UIDNEXT of the inbox folder, fresh from the server."""

    def new_uids(self, after_uid: int) -> list[int]:
        """Ascending UIDs greater than ``after_uid`` in the inbox folder, read or unread alike."""

    def fetch(self, uids: Sequence[int]) -> Iterator[RawMessage]:
        """The messages with these UIDs (missing ones skipped), ascending, in batches; flags untouched."""

    def move(self, uids: Sequence[int], folder: str) -> None:
        """Move exactly these UIDs from the inbox to ``folder`` (created if missing), flags kept."""

    def finish_move(self, uids: Sequence[int], folder: str, keys: Mapping[int, MessageKey]) -> None:
        """Move these UIDs again after a move that may have been interrupted (a crash after the
        store's commit): a message whose copy is already in ``folder`` (found by ``keys``) is
        not copied a second time; only the interrupted move is finished."""

    def wait_for_new(self, timeout: float) -> bool:
        """Block up to ``timeout`` seconds; True as soon as new mail arrived since the last look."""

    def __enter__(self) -> MailboxSource: ...

    def __exit__(self, *exc: object) -> None: ...


class SourceBase:
    """Context-manager support shared by the implementations: ``with src:`` connects, then closes."""

    def connect(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def close(self) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def finish_move(self, uids: Sequence[int], folder: str, keys: Mapping[int, MessageKey]) -> None:
        """A move is all or nothing here (MOVE, a rename, the fake): moving again is finishing."""
        self.move(uids, folder)  # type: ignore[attr-defined]

    def __enter__(self):
        self.connect()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def split_folder(folder: str) -> list[str]:
    """The parts of a ``/``-separated folder name; raises ConfigError on an empty part."""
    parts = folder.split("/")
    if not folder or any(not p.strip() for p in parts):
        raise ConfigError(f"bad folder name {folder!r}: empty part between '/' separators")
    return parts


def uid_ranges(uids: Sequence[int], max_len: int = 4000) -> list[str]:
    """Compact IMAP sequence sets (``"1:5,9,12:14"``) covering ``uids``, each at most ~max_len chars."""
    out: list[str] = []
    parts: list[str] = []
    length = 0
    ordered = sorted(set(uids))
    i = 0
    while i < len(ordered):
        j = i
        while j + 1 < len(ordered) and ordered[j + 1] == ordered[j] + 1:
            j += 1
        part = str(ordered[i]) if i == j else f"{ordered[i]}:{ordered[j]}"
        if parts and length + len(part) + 1 > max_len:
            out.append(",".join(parts))
            parts, length = [], 0
        parts.append(part)
        length += len(part) + 1
        i = j + 1
    if parts:
        out.append(",".join(parts))
    return out


def fetch_groups(
    uids: Sequence[int], sizes: Mapping[int, int], max_count: int, max_bytes: int = FETCH_BYTES,
    large: int = LARGE_MESSAGE,
) -> Iterator[tuple[bool, list[int]]]:
    """Ascending ``(large, uids)`` groups to fetch: whole messages together, at most ``max_count``
    of them and at most ``max_bytes`` in all (a group holds at least one), or one message larger
    than ``large`` alone (``large`` True). ``sizes`` maps UID → RFC822.SIZE (missing: 0)."""
    group: list[int] = []
    total = 0
    for uid in sorted(set(uids)):
        size = sizes.get(uid, 0)
        if size > large:
            if group:
                yield False, group
                group, total = [], 0
            yield True, [uid]
            continue
        if group and (len(group) >= max_count or total + size > max_bytes):
            yield False, group
            group, total = [], 0
        group.append(uid)
        total += size
    if group:
        yield False, group


def open_source(url: str, settings: Settings | None = None, **kwargs) -> MailboxSource:
    """A source for ``maildir:PATH``, ``imap://user@host[:port][/FOLDER]`` or ``imaps://…``.

    Not connected yet: call ``connect()`` or use it as a context manager. ``settings`` supplies
    ``imap`` (credentials, TLS) and ``fetch_size``; extra keyword arguments go to the constructor.
    """
    from optdesk.settings import Settings

    settings = settings or Settings()
    kwargs.setdefault("fetch_size", settings.fetch_size)
    scheme, sep, rest = url.partition(":")
    scheme = scheme.lower()
    if sep and scheme == "maildir":
        from optdesk.sources.maildir import MaildirSource

        path = rest[2:] if rest.startswith("//") else rest
        if not path:
            raise ConfigError(f"mailbox URL {url!r}: maildir: needs a path, e.g. maildir:data/demo-mailbox")
        return MaildirSource(path, **kwargs)
    if sep and scheme in ("imap", "imaps"):
        from optdesk.sources.imap import ImapSource
        from optdesk.sources.imap_config import parse_imap_url

        return ImapSource(parse_imap_url(url, settings.imap), settings.imap, **kwargs)
    raise ConfigError(
        f"mailbox URL {url!r}: unknown scheme; use maildir:PATH, imap://user@host/FOLDER "
        "or imaps://user@host/FOLDER"
    )
