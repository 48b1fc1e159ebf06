"""Reading messages over IMAP within a memory bound (used by ``ImapSource``; no error handling
here: the caller wraps each call in its guard).

* ``new_sizes``: ``UID FETCH n+1:* (RFC822.SIZE)``: the new UIDs *and* their sizes in the one
  command a ``UID SEARCH`` would cost;
* ``sizes``: ``UID FETCH (RFC822.SIZE)`` for UIDs whose size is not known yet;
* ``whole``: ``UID FETCH (BODY.PEEK[] INTERNALDATE)`` of a group of small messages;
* ``stream``: a large message in ``UID FETCH (BODY.PEEK[]<offset.chunk>)`` pieces, hashed and
  reduced to a ``TextView`` on the way, so that only one piece is in memory at a time.

Dovecot answers ``BODY[] NIL`` (and ``RFC822.SIZE 0``) for a message another session expunged
after this one last looked; such a message is reported missing (None), never an error.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError
from imapclient.response_parser import parse_fetch_response

from optdesk.sources import CHUNK, RawMessage
from optdesk.sources.textview import TextView

BODY = b"BODY[]"
SIZE = b"RFC822.SIZE"


def new_sizes(client: IMAPClient, after_uid: int) -> dict[int, int]:
    """UID → RFC822.SIZE of every message with a UID above ``after_uid``."""
    typ, data = client._imap.uid("FETCH", f"{after_uid + 1}:*", "(RFC822.SIZE)")
    if typ != "OK":
        raise IMAPClientError(f"UID FETCH {after_uid + 1}:* (RFC822.SIZE): {data!r}")
    return {u: s for u, s in _uid_sizes(data).items() if u > after_uid}  # "n:*" matches the last


def _uid_sizes(data: list) -> dict[int, int]:
    """UID → size from raw FETCH responses; unsolicited ones (FLAGS of another message, no UID)
    are ignored."""
    if not data or data == [None]:
        return {}
    parsed = parse_fetch_response(data, normalise_times=False, uid_is_key=False)
    return {int(item[b"UID"]): int(item[SIZE]) for item in parsed.values()
            if b"UID" in item and item.get(SIZE) is not None}


def sizes(client: IMAPClient, uids: Sequence[int]) -> dict[int, int]:
    """UID → RFC822.SIZE of those of ``uids`` that still exist."""
    found = client.fetch(list(uids), ["RFC822.SIZE"])
    return {uid: int(item[SIZE]) for uid, item in found.items() if item.get(SIZE) is not None}


def whole(client: IMAPClient, uids: Sequence[int]) -> dict[int, RawMessage]:
    """The complete messages of ``uids``; vanished ones are absent."""
    found = client.fetch(list(uids), ["BODY.PEEK[]", "INTERNALDATE"])
    out = {}
    for uid in uids:
        item = found.get(uid) or {}
        body = item.get(BODY)
        if body is not None:
            out[uid] = RawMessage(uid, bytes(body), item.get(b"INTERNALDATE"), size=len(body))
    return out


class Stream:
    """One large message read piece by piece: call ``step()`` until it returns False, then
    ``message()`` (None when the message vanished on the way)."""

    def __init__(self, uid: int, size: int, chunk: int = CHUNK, view: bool = True) -> None:
        self.uid, self.size, self.chunk = uid, size, chunk
        self.offset = 0
        self.vanished = False
        self._sha = hashlib.sha256()
        self._view = TextView() if view else None
        self._internaldate = None

    def step(self, client: IMAPClient) -> bool:
        """Fetch the next piece; True while there is more to read."""
        items = [f"BODY.PEEK[]<{self.offset}.{self.chunk}>"]
        if self.offset == 0:
            items.append("INTERNALDATE")
        item = client.fetch([self.uid], items).get(self.uid) or {}
        piece = item.get(f"BODY[]<{self.offset}>".encode())
        if piece is None:
            self.vanished = True
            return False
        if self.offset == 0:
            self._internaldate = item.get(b"INTERNALDATE")
        self._sha.update(piece)
        if self._view is not None:
            self._view.feed(piece)
        self.offset += len(piece)
        return len(piece) == self.chunk  # read to the end, whatever the size said

    def message(self) -> RawMessage | None:
        if self.vanished:
            return None
        view = self._view.result() if self._view is not None else b""
        return RawMessage(self.uid, view, self._internaldate, digest=self._sha.hexdigest(),
                          size=self.offset)


def digest(client: IMAPClient, uid: int, size: int, chunk: int = CHUNK) -> str | None:
    """SHA-256 (hex) of a message in the selected folder, read piece by piece; None if gone."""
    stream = Stream(uid, size, chunk, view=False)
    while stream.step(client):
        pass
    message = stream.message()
    return message.digest if message else None
