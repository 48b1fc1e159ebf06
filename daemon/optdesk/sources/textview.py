"""What the classifier reads of a large message: every header, the text parts, capped.

A reply with a 25 MB attachment must not cost the daemon 25 MB several times over (the raw
bytes, the parsed message, the decoded attachment). ``TextView`` reads a message as a stream of
chunks (from an IMAP partial FETCH or a file) and keeps a much smaller message that has the
same MIME structure:

* every header block (capped at ``header_cap`` bytes each), every boundary line;
* the bodies of ``text/*`` parts and of the report parts bounces and complaints are read from
  (``message/delivery-status``, ``message/feedback-report``, ``text/rfc822-headers`` …), each
  capped at ``part_cap`` bytes, cut at a line end so that base64 and quoted-printable stay
  decodable;
* the headers and text of attached messages (``message/rfc822``), recursively;
* the preamble and epilogue of multiparts, capped the same way;
* of every other part (images, PDFs, archives) the headers only: the body is left out.

Bodies stop at ``total_cap`` bytes of view, header blocks at twice that, boundary lines at
three times that. It feeds the classifier only: the ledger key stays the
SHA-256 of the exact bytes, computed on the same stream (``digest_and_view``), and the message
itself is never changed or truncated in the mailbox.

Boundary lines are recognised as the ``email`` package does: ``--`` + boundary at the start of
a line, optionally ``--`` after it (the close delimiter), then optional spaces or tabs; a
boundary of an enclosing multipart also ends the parts inside it.
"""

from __future__ import annotations

import email.parser
import email.policy
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass

HEADER_CAP = 256 * 1024
PART_CAP = 256 * 1024
TOTAL_CAP = 2 * 1024 * 1024
LONG_LINE = 64 * 1024  # a line longer than this cannot be a boundary; it is cut into pieces

KEPT = frozenset({
    "message/delivery-status", "message/global-delivery-status", "message/feedback-report",
    "message/disposition-notification", "message/global-disposition-notification",
    "message/global-headers", "message/partial",
})
NESTED = frozenset({"message/rfc822", "message/global"})
_HEADER_LINE = re.compile(rb"^(From |[\041-\071\073-\176]*:|[\t ])")  # email.feedparser's
_HEADER_PARSER = email.parser.BytesHeaderParser(policy=email.policy.compat32)


@dataclass
class _Multipart:
    boundary: bytes
    digest: bool  # multipart/digest: parts default to message/rfc822


class TextView:
    """Feed a message's bytes with ``feed()``; ``result()`` is the reduced message."""

    def __init__(self, part_cap: int = PART_CAP, header_cap: int = HEADER_CAP,
                 total_cap: int = TOTAL_CAP) -> None:
        self.part_cap, self.header_cap, self.total_cap = part_cap, header_cap, total_cap
        self.truncated = False  # something was left out
        self._out: list[bytes] = []
        self._size = 0
        self._pending = b""  # an incomplete last line
        self._midline = False  # the pending bytes continue a line already handled in pieces
        self._stack: list[_Multipart] = []
        self._in_header = True
        self._header: list[bytes] = []
        self._header_len = 0
        self._default_type = "text/plain"
        self._keep = False  # the current body is kept
        self._left = 0  # bytes of the current body still kept
        self._done = False

    # -- input ----------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        if not data:
            return
        buf = self._pending + data if self._pending else data
        pos, end = 0, len(buf)
        while pos < end:
            if not self._in_header and not self._keep and not self._midline:
                pos = self._skip(buf, pos)  # a dropped body: jump to the next "--" line
                if pos >= end:
                    break
            nl = buf.find(b"\n", pos)
            if nl < 0:
                break
            self._line(buf[pos:nl + 1], self._midline)
            self._midline = False
            pos = nl + 1
        rest = buf[pos:]
        if len(rest) > LONG_LINE:  # no line end in sight: handle it as a piece of a long line
            self._line(rest, True)
            self._midline, rest = True, b""
        self._pending = rest

    def _skip(self, buf: bytes, pos: int) -> int:
        """Offset of the next line that may be a boundary line ('--' at a line start)."""
        if buf.startswith(b"--", pos):
            return pos
        hit = buf.find(b"\n--", pos)
        if hit >= 0:
            self.truncated = True
            return hit + 1
        last = buf.rfind(b"\n", pos)
        if last >= 0 and last + 1 > pos:
            self.truncated = True
            return last + 1  # keep the last (partial) line: it may become "--…"
        return pos

    def result(self) -> bytes:
        """The reduced message (call once, after the last ``feed``)."""
        if not self._done:
            if self._pending:
                self._line(self._pending, self._midline)
                self._pending = b""
            if self._in_header:
                self._end_header()
            self._done = True
        return b"".join(self._out)

    # -- one line -------------------------------------------------------------------------
    def _line(self, line: bytes, continued: bool) -> None:
        if not continued and line.startswith(b"--") and self._stack and self._boundary(line):
            return
        if self._in_header:
            if not continued and line in (b"\r\n", b"\n"):
                self._header.append(line)
                self._end_header()
                return
            if continued or _HEADER_LINE.match(line):
                if self._header_len + len(line) <= self.header_cap:
                    self._header.append(line)
                    self._header_len += len(line)
                else:
                    self.truncated = True
                return
            self._end_header()  # not a header line: the body starts here (as in email)
            if self._in_header:  # an attached message, whose header block starts here
                self._line(line, continued)
                return
        if self._keep and len(line) <= self._left and self._size < self.total_cap:
            self._emit(line)
            self._left -= len(line)
        else:
            self._keep = False  # cut at a line end: later lines of this part are left out too
            self.truncated = True

    def _boundary(self, line: bytes) -> bool:
        """Handle a boundary line of any open multipart; False when it is not one."""
        text = line.rstrip(b"\r\n").rstrip(b" \t")
        for level in range(len(self._stack) - 1, -1, -1):
            mark = b"--" + self._stack[level].boundary
            if text == mark or text == mark + b"--":
                if self._in_header:
                    self._end_header()  # a part that ends inside its header block
                closing = text != mark
                digest = self._stack[level].digest
                del self._stack[level + (0 if closing else 1):]
                self._emit(line, force=True)
                if closing:  # the epilogue, up to the next boundary of an outer level
                    self._in_header, self._keep, self._left = False, True, self.part_cap
                else:
                    self._in_header, self._header, self._header_len = True, [], 0
                    self._default_type = "message/rfc822" if digest else "text/plain"
                return True
        return False

    def _end_header(self) -> None:
        block = b"".join(self._header)
        self._header, self._header_len = [], 0
        if self._size < 2 * self.total_cap:
            self._emit(block, force=True)
        else:
            self.truncated = True
        msg = _HEADER_PARSER.parsebytes(block)
        msg.set_default_type(self._default_type)
        ctype = msg.get_content_type()
        self._in_header, self._keep = False, False
        self._default_type = "text/plain"
        if msg.get_content_maintype() == "multipart":
            boundary = msg.get_boundary()
            if boundary:
                self._stack.append(_Multipart(boundary.encode("utf-8", "surrogateescape"),
                                              ctype == "multipart/digest"))
                self._keep, self._left = True, self.part_cap  # the preamble (all of the body
                return  # when the boundary never comes: the email package then reads it as text)
            ctype = "text/plain"  # no boundary: the email package reads it as text too
        if ctype in NESTED and not _encoded(msg):
            self._in_header = True  # the attached message's own header block follows
            return
        self._keep = ctype.startswith("text/") or ctype in KEPT or ctype in NESTED
        self._left = self.part_cap

    def _emit(self, data: bytes, force: bool = False) -> None:
        if self._size < (3 * self.total_cap if force else self.total_cap):
            self._out.append(data)
            self._size += len(data)


def _encoded(msg) -> bool:
    """An attached message in base64 or quoted-printable (not allowed, but seen): a leaf."""
    cte = (msg.get("content-transfer-encoding") or "").strip().lower()
    return cte in ("base64", "quoted-printable")


def digest_and_view(chunks: Iterable[bytes], **caps: int) -> tuple[str, int, bytes]:
    """(SHA-256 hex of all the bytes, their length, the TextView of them) in one pass."""
    sha, size, view = hashlib.sha256(), 0, TextView(**caps)
    for chunk in chunks:
        sha.update(chunk)
        size += len(chunk)
        view.feed(chunk)
    return sha.hexdigest(), size, view.result()
