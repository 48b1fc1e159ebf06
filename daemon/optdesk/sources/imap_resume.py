"""Finishing a move that a crash interrupted, on a server without MOVE (used by ``ImapSource``).

Without MOVE a move is three commands: ``UID COPY`` to the target, ``UID STORE +FLAGS.SILENT
(\\Deleted)``, ``UID EXPUNGE``. A crash after the COPY leaves the message in both folders, and
the next poll (which finds it in the ledger, not yet marked moved) would copy it a second time.
So before copying again, ``copies_in`` looks in the target folder for each message: candidates
are found by ``UID SEARCH`` on the Message-ID (when it has one) and the exact size, and a
candidate counts as the copy only when its SHA-256 is the ledger's hash of the original (a COPY
is byte for byte). Cost: EXAMINE of the target, one SEARCH per ``SEARCH_GROUP`` messages, one
FETCH per candidate (per 4 MB of it), and the SELECT back to the inbox.
"""

from __future__ import annotations

from collections.abc import Mapping

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

from optdesk.sources import CHUNK, MessageKey, imap_fetch

SEARCH_GROUP = 20


def _criteria(key: MessageKey, size: int | None) -> list:
    one: list = []
    mid = key.message_id
    if mid and mid.isascii() and mid.isprintable() and len(mid) < 1000:
        one += ["HEADER", "Message-ID", mid]
    if size:
        one += ["LARGER", max(size - 1, 0), "SMALLER", size + 1]
    return one or ["ALL"]


def _any_of(parts: list[list]) -> list:
    expr = parts[-1]
    for part in reversed(parts[:-1]):
        expr = ["OR", part, expr]
    return [expr]


def copies_in(client: IMAPClient, target: str, inbox: str, keys: Mapping[int, MessageKey],
              sizes: Mapping[int, int], chunk: int = CHUNK) -> set[int]:
    """Inbox UIDs (keys of ``keys``) whose exact copy is already in ``target``. Selects
    ``target`` read-only for the look, and ``inbox`` again afterwards (even on an error)."""
    if not keys:
        return set()
    try:
        try:
            client.select_folder(target, readonly=True)
        except IMAPClientAbortError:
            raise
        except IMAPClientError:
            return set()  # no such folder yet: nothing was copied there
        uids = sorted(keys)
        candidates: set[int] = set()
        for start in range(0, len(uids), SEARCH_GROUP):
            group = uids[start : start + SEARCH_GROUP]
            parts = [_criteria(keys[u], sizes.get(u)) for u in group]
            candidates.update(client.search(_any_of(parts)))
        wanted = {k.sha256 for k in keys.values()}
        lengths = {sizes[u] for u in uids if u in sizes}
        found: set[str] = set()
        if candidates:
            for uid, size in imap_fetch.sizes(client, sorted(candidates)).items():
                if lengths and size not in lengths:
                    continue  # not the length of any original: not a copy
                sha = imap_fetch.digest(client, uid, size, chunk)
                if sha in wanted:
                    found.add(sha)
        return {u for u, k in keys.items() if k.sha256 in found}
    finally:
        client.select_folder(inbox)
