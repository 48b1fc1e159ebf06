"""The conformance backend for a real Dovecot account (see tests/fixtures/dovecot.py)."""

from __future__ import annotations

from optdesk.sources import open_source

from .conftest import message_id


class ImapBackend:
    counts_commands = True

    def __init__(self, account, use_move: bool = True) -> None:
        self.account = account
        self.use_move = use_move
        self.name = "imap" if use_move else "imap-copy"

    def source(self, **kw):
        settings = self.account.settings()
        return open_source(self.account.url(), settings, use_move=self.use_move, **kw)

    def deliver(self, data: bytes, flags=()) -> None:
        self.account.append(data, flags)

    def contents(self, folder: str = "INBOX") -> dict[bytes, set[str]]:
        server_name = folder.replace("/", ".")  # Dovecot's Maildir++ default delimiter
        got = self.account.contents(server_name)
        return {message_id(data): flags for flags, data in got.values()}
