"""What a delivery notice says, read once: its human-readable text, its DSN fields, the headers
of the message it returns, and the addresses that are ours (never a failed recipient).

Works on RFC 3464 reports (``message/delivery-status``), on DSN fields written into the text (some
MTAs do), and on plain-text notices with the original message appended after a marker line.
"""

from __future__ import annotations

import email
import re
from dataclasses import dataclass, field
from email.message import Message
from functools import cached_property

from optdesk.classify.bounce.anchors import Anchored
from optdesk.mail import decode_header_value, html_to_text
from optdesk.mail.parse import ParsedMail, addresses_in, decode_bytes

MAX_PARTS = 200
MAX_NOTICE = 60_000

# Lines where the returned message (or its headers) begins in a plain-text notice.
RETURNED = re.compile(
    r"^[ \t]*(?:"
    r"-+ ?(?:original message|this is a copy|the original message|below this line|"
    r"message header follows|undelivered message follows|original message follows|"
    r"returned message|headers of the original|unsent message|"
    r"the header of the original message)"
    r"|[-=_*#]{3,}[^\n]{0,30}(?:original|returned|message headers?|headers of|copy of)"
    r"[^\n]{0,40}[-=_*#]{2,}[ \t]*$"
    r"|(?:original (?:message|mail) (?:as )?follows|message headers follow|the original message(?: headers?)? "
    r"(?:follows?|is attached|was attached|is below|appears below|is enclosed)|"
    r"a copy of the original message|below is a copy of|"
    r"headers? of the original message|original message headers|"
    r"undelivered message headers?|the following is a copy of)[^\n]*$"
    r")"
    r"|^(?:received|return-path|x-original-to|delivered-to|dkim-signature|"
    r"message-id|x-mailer|mime-version): [^\n]*\n(?:[ \t][^\n]*\n)*"
    r"(?:[a-z][a-z0-9-]*: |[ \t]+\S)",
    re.IGNORECASE | re.MULTILINE,
)
# "Message-ID: <id>" and the like: what findall gave (the one group), tried where it may start
_MESSAGE_ID = Anchored(re.compile(
    r"(?:message-id|msgid|message id|in-reply-to|references)\s*[:=]?\s*<([^<>\s]+@[^<>\s]+)>",
    re.IGNORECASE))
_FIELD = re.compile(r"^([A-Za-z][A-Za-z0-9-]*)[ \t]*:[ \t]*(.*)$")
_DSN_START = re.compile(r"^(final-recipient|original-recipient|reporting-mta)[ \t]*:", re.I | re.M)
DAEMON_LOCAL = re.compile(r"^(mailer[-_]?daemon|mail[-_]daemon|mdaemon|double-bounce|nobody)$",
                          re.IGNORECASE)
ROLE_LOCAL = re.compile(r"^(postmaster|post_master|abuse|hostmaster|bounces?|.+-(ctl|request|admin|"
                        r"owner|bounces?)|owner-.+)$", re.IGNORECASE)


@dataclass
class DsnRecipient:
    """One per-recipient block of a DSN (fields lower-case, values decoded and unfolded)."""

    address: str
    fields: dict[str, str] = field(default_factory=dict)

    @property
    def action(self) -> str:
        return self.fields.get("action", "").strip().lower().split(" ", 1)[0]

    @property
    def status(self) -> str:
        m = re.search(r"[245]\.\d{1,3}\.\d{1,3}", self.fields.get("status", ""))
        return m.group(0) if m else ""

    @property
    def diagnostic(self) -> str:
        text = self.fields.get("diagnostic-code", "")
        return re.sub(r"^\s*(smtp|x-[\w-]+|mail|x400|unix)\s*;\s*", "", text, flags=re.I)

    @property
    def remote(self) -> str:
        value = self.fields.get("remote-mta", "")
        return value.split(";", 1)[-1].strip().strip("[]<> ").lower()


@dataclass
class Returned:
    """Headers of the returned original message, when the notice carries them."""

    to: tuple[str, ...] = ()
    sender: tuple[str, ...] = ()
    message_id: str | None = None
    subject: str = ""


def _unfold(lines: list[str]) -> list[tuple[str, str]]:
    """Header-like lines → (name lower-case, value) with continuation lines joined."""
    out: list[tuple[str, str]] = []
    for line in lines:
        if line[:1] in (" ", "\t") and out:
            out[-1] = (out[-1][0], f"{out[-1][1]} {line.strip()}")
            continue
        m = _FIELD.match(line)
        if m:
            out.append((m.group(1).lower(), m.group(2).strip()))
        elif line.strip():
            out.append(("", line.strip()))
    return out


def parse_dsn_fields(text: str) -> tuple[dict[str, str], list[DsnRecipient]]:
    """DSN fields in text (a delivery-status part, or the same fields written into a notice):
    the per-message fields and one DsnRecipient per recipient block."""
    per_message: dict[str, str] = {}
    recipients: list[DsnRecipient] = []
    current: DsnRecipient | None = None
    for name, value in _unfold(text.replace("\r\n", "\n").split("\n")):
        if not name:
            if current is not None and "diagnostic-code" in current.fields and len(value) < 300:
                current.fields["diagnostic-code"] += " " + value  # unindented continuation
            continue
        value = decode_header_value(value)
        if name in ("final-recipient", "original-recipient", "x-actual-recipient"):
            address = _dsn_address(value)
            if current is not None and name != "final-recipient" and (
                    name not in current.fields and "final-recipient" in current.fields
                    or current.address == address):
                current.fields[name] = value
                continue
            if current is not None and name == "final-recipient" and \
                    "final-recipient" not in current.fields and "action" not in current.fields:
                current.fields[name] = value  # Original-Recipient came first
                current.address = address or current.address
                continue
            current = DsnRecipient(address, {name: value})
            recipients.append(current)
        elif current is None:
            per_message.setdefault(name, value)
        else:
            current.fields.setdefault(name, value)
    for r in recipients:  # the address as we sent it: that is the one our store knows
        original = _dsn_address(r.fields.get("original-recipient", ""))
        if "@" in original and "." in original.rsplit("@", 1)[1] and \
                r.fields.get("original-recipient", "").split(";", 1)[0].strip().lower() == "rfc822":
            r.address = original
    return per_message, [r for r in recipients if "@" in r.address]


def _dsn_address(value: str) -> str:
    value = value.split(";", 1)[-1].strip()
    found = addresses_in([value])
    return found[0] if found else value.strip(" <>\"'").lower()


def _part_text(part: Message) -> str:
    try:
        data = part.get_payload(decode=True)
    except Exception:  # noqa: BLE001 - a broken transfer encoding: use what is there
        data = None
    if not isinstance(data, bytes | bytearray):
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    return decode_bytes(bytes(data[:400_000]), part.get_content_charset())


def _block_text(block: Message) -> str:
    return "\n".join(f"{k}: {v}" for k, v in block.raw_items())


class Notice:
    """The parts of one bounce message that the reason finder reads."""

    def __init__(self, mail: ParsedMail) -> None:
        self.mail = mail
        self.texts: list[str] = []  # readable parts, in order, without the returned message
        self.dsn_texts: list[str] = []
        self.returned_parts: list[Message | str] = []
        self.nested: list[Message] = []
        self._walk(mail.msg)
        if not self.dsn_texts:
            for inner in self.nested[:1]:
                for part in inner.walk():
                    if part.get_content_type() == "message/delivery-status":
                        payload = part.get_payload()
                        self.dsn_texts.append("\n\n".join(_block_text(b) for b in payload)
                                              if isinstance(payload, list) else _part_text(part))

    def _walk(self, msg: Message) -> None:
        stack, seen, html = [msg], 0, []
        while stack and seen < MAX_PARTS:
            part = stack.pop()
            seen += 1
            ctype = part.get_content_type()
            payload = part.get_payload()
            if ctype in ("message/delivery-status", "message/global-delivery-status"):
                if isinstance(payload, list):
                    self.dsn_texts.append("\n\n".join(_block_text(b) for b in payload))
                else:
                    self.dsn_texts.append(_part_text(part))
            elif ctype in ("message/rfc822", "message/global", "text/rfc822-headers",
                           "message/rfc822-headers", "message/partial"):
                inner = payload[0] if isinstance(payload, list) and payload else None
                self.returned_parts.append(inner if inner is not None else _part_text(part))
                if isinstance(inner, Message) and inner.get_content_type() == "multipart/report" \
                        and "delivery-status" in str(inner.get("content-type", "")).lower():
                    self.nested.append(inner)  # a notice forwarded inside another one
            elif part.is_multipart() and isinstance(payload, list):
                stack.extend(reversed(payload))
            elif part.get_content_maintype() == "multipart" and isinstance(payload, str):
                self.texts.append(payload)  # a multipart whose boundary could not be read
            elif ctype == "text/plain" or (part.get_content_maintype() == "text"
                                           and ctype != "text/html" and not part.get_filename()):
                text = _part_text(part)
                if text.strip():
                    self.texts.append(text)
            elif ctype == "text/html":
                html.append(part)
            elif not part.get_filename() and isinstance(payload, str) and \
                    part.get_content_maintype() in ("application", "message"):
                # a delivery-status sent under another type (application/octet-stream …)
                text = _part_text(part)
                if _DSN_START.search(text[:4000]):
                    self.dsn_texts.append(text)
        if not self.texts:
            for part in html:
                self.texts.append(html_to_text(_part_text(part)[:200_000])[1])

    # -- the readable notice ----------------------------------------------------------------
    @cached_property
    def full_text(self) -> str:
        """Every readable part, the returned message included when it is inline."""
        text = "\n\n".join(self.texts).replace("\r\n", "\n")
        return text[:MAX_NOTICE * 4]

    @cached_property
    def cut(self) -> int:
        """Where the returned message starts in ``full_text`` (its length when it does not)."""
        text = self.full_text
        for m in RETURNED.finditer(text):
            if m.start() > 0 and text[: m.start()].strip():
                return m.start()
        return len(text)

    @cached_property
    def text(self) -> str:
        """The notice's own words: readable parts up to the returned message."""
        return self.full_text[: min(self.cut, MAX_NOTICE)]

    @cached_property
    def inline_returned(self) -> str:
        return self.full_text[self.cut:]

    # -- DSN fields ---------------------------------------------------------------------
    @cached_property
    def dsn(self) -> tuple[dict[str, str], list[DsnRecipient]]:
        per_message: dict[str, str] = {}
        recipients: list[DsnRecipient] = []
        sources = list(self.dsn_texts)
        if not sources and _DSN_START.search(self.full_text):
            sources = [self.full_text[m.start():] for m in [_DSN_START.search(self.full_text)]]
        for text in sources:
            fields, found = parse_dsn_fields(text)
            for k, v in fields.items():
                per_message.setdefault(k, v)
            recipients.extend(found)
        return per_message, recipients

    @property
    def reporting_mta(self) -> str:
        value = self.dsn[0].get("reporting-mta", "")
        return value.split(";", 1)[-1].strip().lower()

    # -- the returned message --------------------------------------------------------------
    @cached_property
    def returned(self) -> Returned:
        for item in self.returned_parts:
            msg = item if isinstance(item, Message) else email.message_from_string(
                item.lstrip()[:200_000])
            got = _returned_from(msg)
            if got.to or got.sender or got.message_id:
                return got
        tail = self.inline_returned
        if tail:
            start = re.search(r"^[A-Za-z][A-Za-z0-9-]*:[ \t]", tail, re.MULTILINE)
            if start:
                return _returned_from(email.message_from_string(tail[start.start():][:200_000]))
        return Returned()

    @cached_property
    def ours(self) -> frozenset[str]:
        """Addresses that are the sending side's or the notice's own: never a failed recipient."""
        mail = self.mail
        values = [mail.header(h) for h in ("from", "to", "reply-to", "sender", "return-path",
                                           "errors-to", "delivered-to")]
        found = set(addresses_in([v for v in values if v]))
        found.update(self.returned.sender)
        found.update(self.message_ids)
        return frozenset(found)

    @cached_property
    def message_ids(self) -> frozenset[str]:
        """Message-IDs named anywhere in the notice (they look like addresses)."""
        ids = [m.group(1) for m in _MESSAGE_ID.finditer(
            self.full_text + "\n" + self.mail.header("message-id"))]
        if self.returned.message_id:
            ids.append(self.returned.message_id)
        return frozenset(i.strip("<>").lower() for i in ids)

    @cached_property
    def own_domains(self) -> frozenset[str]:
        """The notice's own domains: its sender's and the reporting MTA's."""
        found = {(self.mail.sender or "").rsplit("@", 1)[-1]}
        found.add(self.reporting_mta)
        return frozenset(d for d in found if d)

    def is_ours(self, address: str) -> bool:
        """Ours or the notice's own: our addresses, message ids, the mailer daemon, and role
        addresses (postmaster …) at the notice's own domain."""
        local, _, domain = address.partition("@")
        if address in self.ours or DAEMON_LOCAL.match(local):
            return True
        return bool(ROLE_LOCAL.match(local)) and domain in self.own_domains


def _returned_from(msg: Message) -> Returned:
    def get(name: str) -> str:
        try:
            return decode_header_value(msg.get(name))
        except Exception:  # noqa: BLE001 - a broken header of someone else's message
            return ""

    ids = re.findall(r"<[^<>\s]+>", get("message-id"))
    senders = addresses_in([v for v in (get("from"), get("sender"), get("return-path"),
                                        get("reply-to")) if v])
    to = addresses_in([v for v in (get("to"), get("cc")) if v])
    return Returned(tuple(dict.fromkeys(to)), tuple(dict.fromkeys(senders)),
                    ids[0] if ids else None, get("subject"))
