"""``imap://`` and ``imaps://`` — an IMAP mailbox through imapclient (the only module importing it).

Commands per operation (``commands`` counts IMAP tags after login):

* connect: CAPABILITY when the login response did not carry it, NAMESPACE, SELECT;
* ``folder_state``: one SELECT (re-selecting refreshes UIDNEXT and never expunges);
* ``new_uids``: one ``UID FETCH n+1:* (RFC822.SIZE)`` (the new UIDs and their sizes, for the
  price of a ``UID SEARCH``), preceded by a NOOP unless the previous command was the SELECT of
  ``folder_state`` (Dovecot shows new mail to a session only between commands);
* ``fetch``: one ``UID FETCH (BODY.PEEK[] INTERNALDATE)`` per ``fetch_size`` UIDs (at most
  2,000) and per ``fetch_bytes`` (16 MB) of messages; a message over ``large_message`` (1 MB)
  alone, one ``UID FETCH (BODY.PEEK[]<offset.chunk>)`` per 4 MB (see ``imap_fetch``); sizes
  that ``new_uids`` did not see cost one ``UID FETCH (RFC822.SIZE)`` per 2,000 UIDs;
* ``move``: one ``UID MOVE`` per ~8 KB of UID set; without MOVE: ``UID COPY``,
  ``UID STORE +FLAGS.SILENT (\\Deleted)``, ``UID EXPUNGE`` of exactly those UIDs (UIDPLUS). Without
  UIDPLUS the copies are flagged ``\\Deleted`` but nothing is expunged (a plain EXPUNGE could
  remove other people's deleted mail). A missing target folder costs CREATE + SUBSCRIBE once.
* ``wait_for_new``: IDLE (+ DONE) when the server has it, else NOOP every few seconds.

The source never sends CLOSE or plain EXPUNGE, and never STOREs ``\\Seen``.
"""

from __future__ import annotations

import contextlib
import imaplib
import logging
import socket
import ssl
import time
from collections.abc import Iterator, Mapping, Sequence

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientAbortError, IMAPClientError, LoginError

from optdesk.errors import (
    ConfigError,
    MailboxAuthError,
    MailboxError,
    MailboxTLSError,
    MailboxUnavailable,
)
from optdesk.settings import ImapSettings
from optdesk.sources import (
    CHUNK,
    FETCH_BYTES,
    LARGE_MESSAGE,
    FolderState,
    MessageKey,
    RawMessage,
    SourceBase,
    fetch_groups,
    imap_fetch,
    imap_resume,
    split_folder,
    uid_ranges,
)
from optdesk.sources.imap_config import ImapTarget, credential, ssl_context

log = logging.getLogger(__name__)

MOVE_SET_LEN = 8000
MAX_FETCH_BATCH = 2000  # imapclient sends UID lists uncompressed; keeps the line under ~16 KB
IDLE_FALLBACK_POLL = 5.0


class ImapSource(SourceBase):
    """An IMAP mailbox. ``open_source("imaps://user@host/INBOX", settings)`` builds one."""

    def __init__(
        self,
        target: ImapTarget,
        imap: ImapSettings,
        fetch_size: int = 500,
        use_move: bool = True,
        env: Mapping[str, str] | None = None,
        large_message: int = LARGE_MESSAGE,
        fetch_bytes: int = FETCH_BYTES,
        chunk: int = CHUNK,
    ):
        self.target = target
        self.imap = imap
        self.url = target.url
        self.fetch_size = max(1, min(fetch_size, MAX_FETCH_BATCH))
        self.use_move = use_move
        self.large_message, self.fetch_bytes, self.chunk = large_message, fetch_bytes, chunk
        self._sizes: dict[int, int] = {}  # UID → RFC822.SIZE, from the last new_uids
        self._env = env
        self._ssl = ssl_context(imap) if target.tls != "none" else None
        self._client: IMAPClient | None = None
        self._done_commands = 0
        self._tag_base = 0
        self._prefix = ""
        self._delimiter: str | None = "/"
        self._folders: set[str] = set()
        self._warned_no_uidplus = False
        self._synced_tag = -1
        self.noop_every = IDLE_FALLBACK_POLL  # seconds between NOOPs when the server lacks IDLE

    # -- connection -------------------------------------------------------------------------

    @property
    def commands(self) -> int:
        """IMAP commands issued after login, over every connection this source made."""
        live = self._client._imap.tagnum - self._tag_base if self._client else 0
        return self._done_commands + live

    @property
    def connected(self) -> bool:
        return self._client is not None

    def connect(self) -> None:
        if self._client is not None:
            return
        client = self._open()
        try:
            self._login(client)
            client.normalise_times = False
            self._tag_base = client._imap.tagnum
            self._client = client
            self._sizes = {}  # a new session may see another UIDVALIDITY
            with self._guard("setup"):
                self._learn_namespace()
                self._client.select_folder(self.folder)
                self._synced_tag = client._imap.tagnum
        except BaseException:
            self._drop(client)
            raise
        log.info("connected to %s", self.url)

    def _open(self) -> IMAPClient:
        t = self.target
        client = None
        try:
            client = IMAPClient(
                t.host, t.port, ssl=t.tls == "implicit", ssl_context=self._ssl, timeout=self.imap.timeout
            )
            if t.tls == "starttls":
                client.starttls(self._ssl)
            return client
        except ssl.SSLCertVerificationError as exc:
            self._drop(client)
            raise MailboxTLSError(
                f"{self.url}: TLS certificate not trusted ({exc.verify_message}); "
                "set imap.ca_file to the CA that signed it"
            ) from None
        except (OSError, IMAPClientError) as exc:
            self._drop(client)  # e.g. STARTTLS refused on an open connection
            raise MailboxUnavailable(f"{self.url}: cannot connect: {_reason(exc)}") from None

    def _login(self, client: IMAPClient) -> None:
        cred = credential(self.imap, self.url, self._env)
        try:
            if cred.kind == "xoauth2":
                client.oauth2_login(self.target.user, cred.secret)
            elif (self.target.user + cred.secret).isascii():
                client.login(self.target.user, cred.secret)
            else:
                self._plain_login(client, cred.secret)
        except LoginError as exc:
            raise MailboxAuthError(
                f"{self.url}: login as {self.target.user} refused ({cred.kind}): {_reason(exc)}"
            ) from None
        except (OSError, IMAPClientError) as exc:
            raise MailboxUnavailable(f"{self.url}: connection lost during login: {_reason(exc)}") from None

    def _plain_login(self, client: IMAPClient, secret: str) -> None:
        """LOGIN can carry ASCII only; a non-ASCII user or password goes as UTF-8 in AUTHENTICATE
        PLAIN (RFC 4616), when the server offers it."""
        if not client.has_capability("AUTH=PLAIN"):
            raise MailboxAuthError(
                f"{self.url}: the user name or password has non-ASCII characters, which IMAP LOGIN "
                "cannot send, and the server does not offer AUTHENTICATE PLAIN (UTF-8): use an "
                "ASCII password (or XOAUTH2)"
            )
        client.plain_login(self.target.user, secret)

    def _learn_namespace(self) -> None:
        client = self._client
        if client.has_capability("NAMESPACE"):
            personal = client.namespace().personal
            if personal:
                self._prefix, self._delimiter = personal[0][0], personal[0][1]
                return
        listed = client.list_folders("", "")
        self._delimiter = listed[0][1].decode() if listed and listed[0][1] else None

    def close(self) -> None:
        client, self._client = self._client, None
        if client is None:
            return
        self._done_commands += client._imap.tagnum - self._tag_base
        try:
            client.logout()
        except (OSError, IMAPClientError):
            self._drop(client)

    def _drop(self, client: IMAPClient | None) -> None:
        if client is self._client and client is not None:
            self._done_commands += client._imap.tagnum - self._tag_base
            self._client = None
        if client is not None:
            with contextlib.suppress(Exception):
                client.shutdown()

    @contextlib.contextmanager
    def _guard(self, what: str) -> Iterator[None]:
        """Translate imapclient/socket errors; a broken connection is dropped for reconnecting."""
        try:
            yield
        except (IMAPClientAbortError, OSError, imaplib.IMAP4.abort) as exc:
            self._drop(self._client)
            if isinstance(exc, ssl.SSLCertVerificationError):
                raise MailboxTLSError(f"{self.url}: {what}: {_reason(exc)}") from None
            raise MailboxUnavailable(f"{self.url}: {what}: connection lost: {_reason(exc)}") from None
        except IMAPClientError as exc:
            raise MailboxError(f"{self.url}: {what} failed: {_reason(exc)}") from None

    def _live(self) -> IMAPClient:
        self.connect()
        assert self._client is not None
        return self._client

    # -- folders ----------------------------------------------------------------------------

    @property
    def folder(self) -> str:
        return self.server_folder(self.target.folder)

    def server_folder(self, folder: str) -> str:
        """The server's name for a ``/``-separated folder (its delimiter and personal prefix)."""
        if folder.upper() == "INBOX":
            return "INBOX"
        parts = split_folder(folder)
        name = (self._delimiter or "/").join(parts)
        if self._prefix and not name.upper().startswith(self._prefix.upper()):
            name = self._prefix + name
        return name

    def ensure_folder(self, folder: str, create: bool = True) -> None:
        """Before the first poll: ConfigError unless ``folder`` can take moved mail (not the
        inbox; no part holding the server's hierarchy separator), then CREATE it when missing
        (unless ``create`` is False). A CREATE the server refuses is a ConfigError with its
        reason. Checks existence with STATUS, not LIST (no wildcards)."""
        client = self._live()
        target = self.server_folder(folder)
        if target == self.folder:
            raise ConfigError(f"that is the inbox the daemon reads ({self.folder})")
        sep = self._delimiter
        if sep and sep != "/" and any(sep in part for part in split_folder(folder)):
            raise ConfigError(f"{sep!r} is this server's hierarchy separator: use '/' between "
                              f"levels and no {sep!r} inside a name")
        if target in self._folders:
            return
        with self._guard(f"check folder {target}"):
            try:
                client.folder_status(target, [b"UIDNEXT"])
            except IMAPClientAbortError:
                raise
            except IMAPClientError:
                if not create:
                    return
                try:
                    client.create_folder(target)
                except IMAPClientAbortError:
                    raise
                except IMAPClientError as exc:
                    if "ALREADYEXISTS" not in str(exc).upper():
                        raise ConfigError(f"the server refused to create {target}: "
                                          f"{_reason(exc)}") from None
                with contextlib.suppress(IMAPClientError):
                    client.subscribe_folder(target)
                log.info("%s: created folder %s", self.url, target)
            self._folders.add(target)

    # -- reading ----------------------------------------------------------------------------

    def folder_state(self) -> FolderState:
        client = self._live()
        with self._guard(f"SELECT {self.folder}"):
            info = client.select_folder(self.folder)
            if b"UIDNEXT" not in info:
                info.update(client.folder_status(self.folder, [b"UIDNEXT"]))
            self._synced_tag = client._imap.tagnum
        return FolderState(self.target.folder, int(info[b"UIDVALIDITY"]), int(info[b"UIDNEXT"]))

    def new_uids(self, after_uid: int) -> list[int]:
        client = self._live()
        with self._guard(f"UID FETCH of the sizes after UID {after_uid}"):
            if client._imap.tagnum != self._synced_tag:
                client.noop()  # the server shows new mail to a session only between commands
            self._sizes = imap_fetch.new_sizes(client, after_uid)
        return sorted(self._sizes)

    def fetch(self, uids: Sequence[int]) -> Iterator[RawMessage]:
        ordered = sorted(set(uids))
        vanished: list[int] = []
        try:
            sizes = self._sizes_of(ordered)
            vanished.extend(u for u in ordered if u not in sizes)
            groups = fetch_groups([u for u in ordered if u in sizes], sizes, self.fetch_size,
                                  self.fetch_bytes, self.large_message)
            for large, group in groups:
                if large:
                    message = self._stream(group[0], sizes[group[0]])
                    found = {message.uid: message} if message else {}
                else:
                    with self._guard(f"UID FETCH of {len(group)} UIDs from {group[0]}"):
                        found = imap_fetch.whole(self._live(), group)
                for uid in group:
                    if uid in found:
                        yield found[uid]
                    else:
                        vanished.append(uid)
                del found
        finally:
            if vanished:
                log.info("%s: UID %s vanished from %s before it could be read (expunged or moved "
                         "by another client): skipped", self.url, ",".join(uid_ranges(vanished)),
                         self.folder)

    def _sizes_of(self, uids: list[int]) -> dict[int, int]:
        """RFC822.SIZE of ``uids``: those ``new_uids`` saw, the others looked up (one command per
        2,000); UIDs that no longer exist are absent."""
        known = {u: self._sizes[u] for u in uids if u in self._sizes}
        missing = [u for u in uids if u not in known]
        for start in range(0, len(missing), MAX_FETCH_BATCH):
            part = missing[start : start + MAX_FETCH_BATCH]
            with self._guard(f"UID FETCH of the sizes of {len(part)} UIDs from {part[0]}"):
                known.update(imap_fetch.sizes(self._live(), part))
        return known

    def _stream(self, uid: int, size: int) -> RawMessage | None:
        """A large message, piece by piece: its SHA-256 and TextView (see ``imap_fetch``)."""
        stream = imap_fetch.Stream(uid, size, self.chunk)
        more = True
        while more:
            with self._guard(f"UID FETCH of UID {uid} ({size} bytes) from byte {stream.offset}"):
                more = stream.step(self._live())
        message = stream.message()
        if message is not None:
            log.debug("%s: UID %s: %d bytes read as a stream, %d kept for classification",
                      self.url, uid, message.size, len(message.data))
        return message

    # -- moving -----------------------------------------------------------------------------

    def move(self, uids: Sequence[int], folder: str) -> None:
        if not uids:
            return
        client = self._live()
        target = self.server_folder(folder)
        if target == self.folder:
            raise MailboxError(f"{self.url}: cannot move messages from {target} into itself")
        for uid_set in uid_ranges(uids, MOVE_SET_LEN):
            self._with_folder(client, target, lambda s=uid_set: self._move_set(client, s, target))

    def _with_folder(self, client: IMAPClient, target: str, action) -> None:
        """Run ``action``; if the target folder is missing (TRYCREATE), create it and retry once."""
        with self._guard(f"move to {target}"):
            try:
                action()
            except IMAPClientError as exc:
                if target in self._folders or isinstance(exc, IMAPClientAbortError):
                    raise
                if "TRYCREATE" not in str(exc).upper() and client.folder_exists(target):
                    raise
                try:
                    client.create_folder(target)
                except IMAPClientError as exc:  # another client created it meanwhile: fine
                    if isinstance(exc, IMAPClientAbortError) or "ALREADYEXISTS" not in str(exc).upper():
                        raise
                with contextlib.suppress(IMAPClientError):
                    client.subscribe_folder(target)
                log.info("%s: created folder %s", self.url, target)
                action()
            self._folders.add(target)

    def _move_set(self, client: IMAPClient, uid_set: str, target: str) -> None:
        if self.use_move and client.has_capability("MOVE"):
            _despite_expunges(client, client.move, uid_set, target)
            return
        _despite_expunges(client, client.copy, uid_set, target)
        self._expunge_originals(client, uid_set)

    def _expunge_originals(self, client: IMAPClient, uid_set: str) -> None:
        """The end of a move without MOVE: flag the originals \\Deleted, UID EXPUNGE exactly them."""
        _despite_expunges(client, client.add_flags, uid_set, [b"\\Deleted"], silent=True)
        if client.has_capability("UIDPLUS"):
            _despite_expunges(client, client.uid_expunge, uid_set)
        elif not self._warned_no_uidplus:
            self._warned_no_uidplus = True
            log.warning(
                "%s: server has neither MOVE nor UIDPLUS: moved messages stay in %s flagged "
                "\\Deleted (a plain EXPUNGE could remove other people's mail)",
                self.url,
                self.folder,
            )

    def finish_move(self, uids: Sequence[int], folder: str, keys: Mapping[int, MessageKey]) -> None:
        """Move again after an interrupted move. With MOVE a move is atomic: this is ``move``.
        Without it, messages whose exact copy is already in ``folder`` (a crash between COPY and
        UID EXPUNGE) are only flagged and expunged, not copied again (see ``imap_resume``)."""
        if not uids:
            return
        client = self._live()
        if self.use_move and client.has_capability("MOVE"):
            self.move(uids, folder)
            return
        target = self.server_folder(folder)
        if target == self.folder:
            raise MailboxError(f"{self.url}: cannot move messages from {target} into itself")
        known = {u: keys[u] for u in uids if u in keys}
        sizes = self._sizes_of(sorted(known))
        with self._guard(f"look for copies already in {target}"):
            copied = imap_resume.copies_in(client, target, self.folder, known, sizes, self.chunk)
            self._synced_tag = client._imap.tagnum
        if copied:
            log.info("%s: UID %s already copied to %s by an interrupted move: finishing it "
                     "(\\Deleted + UID EXPUNGE) without copying again", self.url,
                     ",".join(uid_ranges(sorted(copied))), target)
            for uid_set in uid_ranges(sorted(copied), MOVE_SET_LEN):
                with self._guard(f"finish the move to {target}"):
                    self._expunge_originals(client, uid_set)
        self.move([u for u in uids if u not in copied], folder)

    # -- waiting ----------------------------------------------------------------------------

    def wait_for_new(self, timeout: float) -> bool:
        client = self._live()
        deadline = time.monotonic() + timeout
        with self._guard("IDLE"):
            if not client.has_capability("IDLE"):
                return self._poll_noop(client, deadline)
            client.idle()
            arrived = False
            try:
                while not arrived and (remaining := deadline - time.monotonic()) > 0:
                    responses = client.idle_check(timeout=remaining)
                    arrived = _has_exists(responses)
                    if not responses and deadline - time.monotonic() > 0.05:
                        break  # woke early with nothing: EOF; idle_done() tells a drop apart
            finally:
                _, rest = client.idle_done()
            return arrived or _has_exists(rest)

    def _poll_noop(self, client: IMAPClient, deadline: float) -> bool:
        while True:
            if _has_exists(client.noop()[1]):
                return True
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            time.sleep(min(self.noop_every, remaining))


def _despite_expunges(client: IMAPClient, command, *args, **kwargs):
    """Run one command; when the server refuses it because another client expunged some of
    its messages meanwhile (``NO [EXPUNGEISSUED]``: Dovecot then does nothing), take in the
    news with a NOOP and run it once more: the vanished UIDs are then simply absent."""
    try:
        return command(*args, **kwargs)
    except IMAPClientAbortError:
        raise
    except IMAPClientError as exc:
        if "EXPUNGEISSUED" not in str(exc).upper():
            raise
        log.info("some of UIDs %s were expunged by another client meanwhile: going on without "
                 "them", args[0] if args else "?")
        client.noop()
        return command(*args, **kwargs)


def _has_exists(responses) -> bool:
    return any(isinstance(r, tuple) and len(r) > 1 and r[1] == b"EXISTS" for r in responses or ())


def _reason(exc: BaseException) -> str:
    if isinstance(exc, socket.timeout):
        return "timed out"
    text = str(exc).strip() or type(exc).__name__
    return text[:300]
