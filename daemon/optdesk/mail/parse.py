"""Parse raw mail bytes into the few things the classifier reads. Never raises on bad charsets.

The stdlib ``compat32`` policy is used on purpose: it is about four times faster than
``policy.default`` and it is what flufl.bounce expects (see PLATFORM-NOTES).
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from datetime import datetime
from email.header import Header, decode_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from optdesk.mail.html import html_to_text

MAX_PARTS = 300  # parts looked at when searching for the body; deeper nesting is ignored
MAX_BODY_CHARS = 200_000

_RECIPIENT_HEADERS = ("to", "cc", "delivered-to", "x-original-to", "envelope-to", "x-envelope-to")
_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass(frozen=True)
class ParsedMail:
    """What a message says, decoded. ``text`` is the whole body as text (quotes included)."""

    msg: Message
    sender: str | None
    sender_name: str
    null_sender: bool
    recipients: tuple[str, ...]
    subject: str
    message_id: str | None
    in_reply_to: tuple[str, ...]
    date: datetime | None
    content_type: str
    report_type: str | None
    text: str
    html_new_text: str | None = None
    defects: tuple[str, ...] = field(default=())

    def header(self, name: str) -> str:
        """A header's decoded value, or '' when absent."""
        return decode_header_value(self.msg.get(name))


def _clean(text: str) -> str:
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return re.sub(r"\s*\r?\n\s*", " ", text).strip()


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


def _addresses(values: list[str]) -> list[tuple[str, str]]:
    try:
        pairs = getaddresses(values)
    except Exception:
        return []
    return [(name, addr.strip().lower()) for name, addr in pairs if "@" in addr]


def addresses_in(values: list[str]) -> list[str]:
    """Lower-case addresses found in decoded address-header values."""
    return [addr for _, addr in _addresses(values)]


def _message_ids(msg: Message) -> tuple[str, ...]:
    ids: list[str] = []
    for name in ("in-reply-to", "references"):
        ids.extend(_MSGID.findall(decode_header_value(msg.get(name))))
    return tuple(dict.fromkeys(ids))


def _date(msg: Message) -> datetime | None:
    try:
        return parsedate_to_datetime(decode_header_value(msg.get("date")))
    except (TypeError, ValueError, IndexError):
        return None


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


def _sender(msg: Message) -> tuple[str | None, str, bool]:
    from_value = decode_header_value(msg.get("from"))
    found = _addresses([from_value]) if from_value else []
    return_path = decode_header_value(msg.get("return-path"))
    null = return_path.replace(" ", "") == "<>" or not found
    if found:
        return found[0][1], found[0][0], null
    return None, from_value, null


def parse_message(raw: bytes) -> ParsedMail:
    """Parse raw bytes. Raises only when the stdlib parser itself gives up (very rare)."""
    msg = email.message_from_bytes(raw)
    sender, sender_name, null = _sender(msg)
    recipients = [decode_header_value(v) for h in _RECIPIENT_HEADERS for v in msg.get_all(h, [])]
    text, html_new = body_text(msg)
    mid = _MSGID.findall(decode_header_value(msg.get("message-id")))
    return ParsedMail(
        msg=msg,
        sender=sender,
        sender_name=sender_name,
        null_sender=null,
        recipients=tuple(dict.fromkeys(a for _, a in _addresses(recipients))),
        subject=decode_header_value(msg.get("subject")),
        message_id=mid[0] if mid else None,
        in_reply_to=_message_ids(msg),
        date=_date(msg),
        content_type=msg.get_content_type(),
        report_type=(msg.get_param("report-type") or None) and str(msg.get_param("report-type")).lower(),
        text=text,
        html_new_text=html_new,
        defects=tuple(type(d).__name__ for d in msg.defects),
    )
