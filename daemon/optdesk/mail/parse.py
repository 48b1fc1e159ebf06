"""Parse raw mail bytes into the few things the classifier reads. Never raises on bad charsets.

The stdlib ``compat32`` policy is used on purpose: it is about four times faster than
``policy.default`` and it is what flufl.bounce expects (its detectors read ``Message`` objects of the
compat32 API: ``get_payload``, string headers).
"""

from __future__ import annotations

import email
import re
from datetime import datetime
from email.header import Header, decode_header
from email.message import Message
from email.utils import parsedate_to_datetime
from functools import cached_property

from optdesk.mail.html import html_to_text

MAX_PARTS = 300  # parts looked at when searching for the body; deeper nesting is ignored
MAX_BODY_CHARS = 200_000

_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to")
_MSGID = re.compile(r"<[^<>\s]+>")
_LINE_BREAK = re.compile(r"\s*\r?\n\s*")
_PARENS = re.compile(r"[()]")
_REPORT_TYPE = re.compile(r"report-type\s*=\s*\"?([\w.-]+)", re.IGNORECASE)


class _Message(Message):
    """The compat32 ``Message``, its content type worked out once: the classifier and
    flufl.bounce's detectors ask each part for it a dozen times or more, and each asking scans
    the headers. Any change to the headers or the default type forgets it."""

    _content_type: tuple[object, int, str, str] | None = None

    def get_content_type(self) -> str:
        cached = self._content_type
        headers = self._headers
        if cached is not None and cached[0] is headers and cached[1] == len(headers) \
                and cached[2] == self._default_type:
            return cached[3]
        found = super().get_content_type()
        self._content_type = (headers, len(headers), self._default_type, found)
        return found


def _forgetting(name: str):
    method = getattr(Message, name)

    def changed(self, *args, **kwargs):
        self._content_type = None
        return method(self, *args, **kwargs)

    changed.__name__ = name
    changed.__doc__ = method.__doc__
    return changed


for _name in ("__setitem__", "__delitem__", "add_header", "replace_header", "set_raw", "set_param",
              "del_param", "set_type", "set_boundary", "set_charset", "set_default_type",
              "set_payload"):
    setattr(_Message, _name, _forgetting(_name))


class ParsedMail:
    """What a message says, decoded on first use. ``text`` is the whole body (quotes included).

    Attributes: msg, sender, sender_name, null_sender, recipients, subject, message_id,
    in_reply_to, date, content_type, report_type, text, html_new_text, defects.
    """

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self._headers: dict[str, list] = {}
        self._decoded: dict[str, str] = {}  # header() by lower-case name
        for name, value in msg.raw_items():  # one pass over the raw pairs, no policy calls
            self._headers.setdefault(name.lower(), []).append(value)
        self.sender, self.sender_name, self.null_sender = _sender(self)
        self.content_type = msg.get_content_type()

    def header(self, name: str) -> str:
        """A header's decoded value ('' when absent); the first one when repeated."""
        key = name.lower()
        decoded = self._decoded.get(key)
        if decoded is None:  # decoded once: the stages and the gate ask for the same ones
            values = self._headers.get(key)
            decoded = self._decoded[key] = decode_header_value(values[0]) if values else ""
        return decoded

    def headers(self, name: str) -> list[str]:
        """Every value of a header, decoded."""
        return [decode_header_value(v) for v in self._headers.get(name.lower(), ())]

    @cached_property
    def recipients(self) -> tuple[str, ...]:
        values = [v for h in _RECIPIENT_HEADERS for v in self.headers(h)]
        return tuple(dict.fromkeys(addresses_in(values)))

    @cached_property
    def subject(self) -> str:
        return self.header("subject")

    @cached_property
    def message_id(self) -> str | None:
        found = _MSGID.findall(self.header("message-id"))
        return found[0] if found else None

    @cached_property
    def in_reply_to(self) -> tuple[str, ...]:
        ids = _MSGID.findall(self.header("in-reply-to")) + _MSGID.findall(self.header("references"))
        return tuple(dict.fromkeys(ids))

    @cached_property
    def date(self) -> datetime | None:
        try:
            return parsedate_to_datetime(self.header("date"))
        except (TypeError, ValueError, IndexError):
            return None

    @cached_property
    def report_type(self) -> str | None:
        if self.content_type != "multipart/report":
            return None
        m = _REPORT_TYPE.search(self.header("content-type"))
        return m.group(1).lower() if m else None

    @cached_property
    def _body(self) -> tuple[str, str | None]:
        return body_text(self.msg)

    @property
    def text(self) -> str:
        return self._body[0]

    @property
    def html_new_text(self) -> str | None:
        return self._body[1]

    @property
    def defects(self) -> tuple[str, ...]:
        return tuple(type(d).__name__ for d in self.msg.defects)


def _clean(text: str) -> str:
    if not text.isascii():  # raw 8-bit bytes come in as surrogates: UTF-8, else Latin-1
        text = decode_bytes(text.encode("utf-8", "surrogateescape"), None)
        text = text.encode("utf-8", "replace").decode("utf-8")
    if "\n" not in text:  # every match of _LINE_BREAK holds a "\n"
        return text.strip()
    return _LINE_BREAK.sub(" ", text).strip()


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode with the declared charset, then UTF-8, then Latin-1: never raises."""
    for cs in (charset, "utf-8"):
        if not cs:
            continue
        try:
            return data.decode(cs)
        except (LookupError, UnicodeDecodeError, ValueError):
            continue
    return data.decode("latin-1")


def decode_header_value(value: object) -> str:
    """Decode RFC 2047 words and raw 8-bit bytes in a header value into text."""
    if value is None:
        return ""
    try:
        if isinstance(value, Header):
            parts = decode_header(value)
        else:
            text = str(value)
            if "=?" not in text:
                return _clean(text)
            parts = decode_header(text)
    except Exception:  # malformed encoded words: keep the raw text
        return _clean(str(value))
    out = []
    for chunk, charset in parts:
        out.append(decode_bytes(chunk, charset) if isinstance(chunk, bytes) else chunk)
    return _clean("".join(out))


_ANGLE = re.compile(r"<\s*([^<>\s@]+@[^<>\s]+?)\s*>")
_BARE = re.compile(r"(?<![^\s<>,;:(\"'])([^\s<>,;:()\"']+@[^\s<>,;:()\"']+\.[^\s<>,;:()\"']+)")


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    """(display name, lower-case address) pairs; tolerant and fast (no RFC 5322 grammar)."""
    out = []
    for value in values:
        for chunk in _split_addresses(value):
            m = _ANGLE.search(chunk)
            if m:
                name = chunk[: m.start()].strip().strip('"').strip()
                out.append((name, m.group(1).lower()))
                continue
            m = _BARE.search(chunk)
            if m:
                name = _PARENS.sub("", chunk[m.end():]).strip()
                out.append((name, m.group(1).lower().strip(".")))
    return out


def _split_addresses(value: str) -> list[str]:
    """Split an address list on commas outside quotes and angle brackets."""
    if "," not in value:
        return [value]
    parts, depth, quoted, start = [], 0, False, 0
    for i, ch in enumerate(value):
        if ch == '"':
            quoted = not quoted
        elif ch == "<" and not quoted:
            depth += 1
        elif ch == ">" and not quoted and depth:
            depth -= 1
        elif ch == "," and not quoted and not depth:
            parts.append(value[start:i])
            start = i + 1
    parts.append(value[start:])
    return parts


def addresses_in(values: list[str]) -> list[str]:
    """Lower-case addresses found in decoded address-header values."""
    return [addr for _, addr in _addresses(values)]


def _iter_parts(msg: Message):
    """Leaf parts in order, not descending into attached messages, bounded in count."""
    stack = [msg]
    seen = 0
    while stack and seen < MAX_PARTS:
        part = stack.pop()
        seen += 1
        if part.is_multipart():
            if part.get_content_maintype() == "message":
                continue
            payload = part.get_payload()
            if isinstance(payload, list):
                stack.extend(reversed(payload))
            continue
        yield part


def _part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:
        data = None
    if not isinstance(data, bytes | bytearray):
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    return decode_bytes(bytes(data[: MAX_BODY_CHARS * 4]), part.get_content_charset())


def body_text(msg: Message) -> tuple[str, str | None]:
    """(text of the body, new text derived from HTML or None): first text/plain, else HTML."""
    html_part = None
    for part in _iter_parts(msg):
        ctype = part.get_content_type()
        disposition = str(part.get("content-disposition", "")).lower()
        if disposition.startswith("attachment"):
            continue
        if ctype == "text/plain":
            return _part_text(part)[:MAX_BODY_CHARS], None
        if ctype == "text/html" and html_part is None:
            html_part = part
    if html_part is None:
        return "", None
    new, full = html_to_text(_part_text(html_part)[:MAX_BODY_CHARS])
    return full, new


def _sender(mail: ParsedMail) -> tuple[str | None, str, bool]:
    from_value = mail.header("from")
    found = _addresses([from_value]) if from_value else []
    null = mail.header("return-path").replace(" ", "") == "<>" or not found
    if found:
        return found[0][1], found[0][0], null
    return None, from_value, null


def parse_message(raw: bytes) -> ParsedMail:
    """Parse raw bytes. Raises only when the stdlib parser itself gives up (very rare)."""
    return ParsedMail(email.message_from_bytes(raw, _class=_Message))
