"""Mailbox sources: one Protocol, three implementations (IMAP, Maildir, and a fake in optdesk.testing).

A source is a connection to one mailbox and its *inbox folder* (``INBOX`` unless the IMAP URL
names another). The poller (``optdesk.ingest``) drives it like this::

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
* ``move`` never deletes: MOVE, or COPY + ``\\Deleted`` + ``UID EXPUNGE`` of exactly those UIDs.
  Flags travel with the message. Folder names use ``/`` as the hierarchy separator; each source
  maps it to its own (IMAP: the server's delimiter; Maildir++: ``.``). Missing folders are created.
* Errors: ``MailboxAuthError`` (wrong or missing credentials: retrying will not help until the
  configuration changes), ``MailboxUnavailable`` (server down, connection dropped, timeout:
  back off and call ``connect()`` again, see ``optdesk.scheduler.Backoff``), both
  subclasses of ``MailboxError``. After an error the source is disconnected; the next method call
  reconnects by itself, or call ``connect()`` explicitly.
* ``commands`` counts protocol commands issued since login (IMAP tags; the fake counts one per
  operation or batch; Maildir issues none). An empty poll (``folder_state`` + ``new_uids``)
  costs at most 3.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from optdesk.errors import ConfigError

if TYPE_CHECKING:
    from optdesk.settings import Settings

__all__ = [
    "FolderState",
    "RawMessage",
    "MailboxSource",
    "SourceBase",
    "open_source",
    "split_folder",
    "uid_ranges",
]


@dataclass(frozen=True)
class FolderState:
    """What the poller must remember about the inbox folder between polls."""

    folder: str
    uidvalidity: int
    uidnext: int


@dataclass(frozen=True)
class RawMessage:
    """One message as stored: the exact bytes, and when the server received it (tz-aware) if known."""

    uid: int
    data: bytes
    internaldate: dt.datetime | None = None


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


def open_source(url: str, settings: Settings | None = None, **kwargs) -> MailboxSource:
    """A source for ``maildir:PATH``, ``imap://user@host[:port][/FOLDER]`` or ``imaps://…``.

    Not connected yet: call ``connect()`` or use it as a context manager. ``settings`` supplies
    ``imap`` (credentials, TLS) and ``batch_size``; extra keyword arguments go to the constructor.
    """
    from optdesk.settings import Settings

    settings = settings or Settings()
    kwargs.setdefault("batch_size", settings.batch_size)
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
