"""Who failed, and what the notice says about each: the DSN first, then a provider's own format,
then flufl.bounce, then the notice's text, then the returned message's To.

Each Failure carries the texts the reason finder reads, in order of authority: the server's
reply (DSN Diagnostic-Code, or the SMTP reply quoted next to the address), the paragraph about
the address, the whole notice when it concerns one recipient only, and the subject.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from optdesk.classify.bounce.anchors import Anchored
from optdesk.classify.bounce.detectors import all_failures
from optdesk.classify.bounce.notice import DAEMON_LOCAL, DsnRecipient, Notice
from optdesk.classify.bounce.providers import provider_failures, remote_reply

_ADDRESS = re.compile(r"(?<![\w.+-])([\w.!#$%&'*+/=?^`{|}~-]+@[a-z0-9](?:[a-z0-9-]*[a-z0-9])?"
                      r"(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+)", re.IGNORECASE)
_STATUS = re.compile(r"(?<![\d.])([245])\.(\d{1,3})\.(\d{1,3})(?![\d.])")
_CODE = re.compile(r"(?<![\d.\-#])([245][0-5]\d)(?:[ -]|$)(?![.\d]*%)", re.MULTILINE)
_REMOTE = re.compile(
    r"(?:host|server|mta|from|by)\s+\[?([a-z0-9][a-z0-9.-]*\.[a-z]{2,})\]?\s*(?:\[[\d.:a-f]+\]|"
    r"\([\d.:a-f]+\)|\s+said|\s+says|\s+replied|\s+responded|:\s*\d{3}|\s+did not|"
    r"\s+refused|\s+rejected)", re.IGNORECASE)
_REMOTE_BARE = re.compile(r"\b([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+\.[a-z]{2,})\s*\[\d{1,3}(?:\.\d{1,3}){3}\]",
                          re.IGNORECASE)
_STATUS_AT, _CODE_AT, _REMOTE_AT = Anchored(_STATUS), Anchored(_CODE), Anchored(_REMOTE)
_IN_URL = re.compile(r"(https?://|www\.)\S*$", re.IGNORECASE)
_ENVELOPE_FROM = re.compile(r"\b(mail from|from|envelope-from|return-path|sender)\s*[:=]?\s*<?$",
                            re.IGNORECASE)
_CONTACT = re.compile(r"\b(contact|write to|send (mail|e-?mail|it) to|questions|assistance|helpdesk|"
                      r"support)\W+(\w+\W+){0,4}$", re.IGNORECASE)
_ADDRESS_ONLY = re.compile(r"^[\s<>\"'(]*[^\s@]+@[^\s@]+[\s<>\"'):,.]*$")
_SMTP_REPLY = re.compile(r"(?:^|[\s:;(\[])(?:[245]\d\d[ -](?:[245]\.\d{1,3}\.\d{1,3}\s)?|"
                         r"[245]\.\d{1,3}\.\d{1,3}\s)", re.MULTILINE)


_COMMAND_PARTS = (
    r"in reply to (?:the )?(?:end of )?(data|rcpt to|rcpt|mail from|mail|helo|ehlo|starttls|"
    r"auth|bdat|quit)\b",
    r"after (?:the )?(end of data|data|rcpt to|rcpt|mail from|mail|initial connection|helo|ehlo|"
    r"starttls|auth|pipelined)\b",
    r"did not like our (data|rcpt to|mail from|helo|ehlo)\b",
    r"does not like (recipient|sender|message)\b",
    r"\[(rcpt_to|mail_from|data)\]",
    r"\bsmtp:(rcpt|mail|data)\b",
)
_TRANSCRIPT_PART = r"^\s*>>> (data|rcpt to|rcpt|mail from|mail|helo|ehlo|starttls|quit)\b"
_COMMAND = re.compile("|".join((*_COMMAND_PARTS, _TRANSCRIPT_PART)), re.IGNORECASE | re.MULTILINE)
# Without a ">>> " the last alternative cannot match: the others alone, tried where they start.
_COMMAND_UNLESS_TRANSCRIPT = Anchored(re.compile("|".join(_COMMAND_PARTS),
                                                 re.IGNORECASE | re.MULTILINE))
_COMMANDS = {"data": "data", "end of data": "data", "bdat": "data", "rcpt to": "rcpt",
             "rcpt": "rcpt", "mail from": "mail", "mail": "mail", "helo": "connect",
             "ehlo": "connect", "initial connection": "connect", "starttls": "connect",
             "auth": "connect", "pipelined": "", "quit": "", "recipient": "rcpt",
             "sender": "mail", "message": "data", "rcpt_to": "rcpt", "mail_from": "mail"}


def command_in(text: str) -> str:
    """The SMTP command the failing reply answered (data, rcpt, mail, connect), '' unknown.
    Several in a text (a session transcript): the last one."""
    text = text or ""
    matches = _COMMAND.finditer(text) if ">>>" in text else _COMMAND_UNLESS_TRANSCRIPT.finditer(text)
    found = [next(g for g in m.groups() if g) for m in matches]
    return _COMMANDS.get(found[-1].lower(), "") if found else ""


@dataclass
class Failure:
    address: str
    found_by: str
    action: str = ""
    status: str = ""
    code: str = ""
    diagnostic: str = ""
    paragraph: str = ""
    remote: str = ""
    permanent: bool | None = None
    command: str = ""
    texts: list[tuple[str, str]] = field(default_factory=list)


def _status_in(text: str) -> str:
    """The most specific status code in a text (x.0.0 only when there is no other)."""
    found = ["{}.{}.{}".format(*m.groups()) for m in _STATUS_AT.finditer(text)]
    failing = [s for s in found if s[0] != "2"] or found  # a transcript has 2.x.x "Ok" too
    specific = [s for s in failing if not s.endswith(".0.0")]
    return (specific or failing or [""])[0]


def _code_in(text: str) -> str:
    m = _CODE_AT.search(text)
    return m.group(1) if m else ""


def _remote_in(text: str) -> str:
    m = _REMOTE_AT.search(text)
    if m is None and "[" in text:  # _REMOTE_BARE needs a "[" (the IP address)
        m = _REMOTE_BARE.search(text)
    return m.group(1).lower().rstrip(".") if m else ""


def _blocks(notice: str, lowered: str, address: str, others: list[str]) -> str:
    """The notice's words about ``address``: at each place it is named (five at most), its line
    and the lines that follow, up to a blank line or a line naming another failed recipient.
    When the address stands alone on its line, what follows the blank line too (Sendmail, Exim,
    Lotus Notes put the reason there)."""
    lines = notice.split("\n")
    low = lowered.split("\n")
    found: list[str] = []
    i = 0
    while i < len(lines) and len(found) < 5:
        if address not in low[i]:
            i += 1
            continue
        block = [lines[i]]
        alone = bool(_ADDRESS_ONLY.match(lines[i]))
        j = i + 1
        blanks = 0
        while j < len(lines) and len(block) < 12:
            if not lines[j].strip():
                if not alone or blanks or len(block) > 1:
                    break
                blanks += 1
                j += 1
                continue
            if address in low[j] or any(o in low[j] for o in others):
                break
            if not alone and lines[j][:1] not in (" ", "\t"):
                break  # a line of its own (a session transcript), not a continuation
            block.append(lines[j])
            j += 1
        found.append("\n".join(block))
        i = j if j > i else i + 1
    return "\n".join(found)[:3000]


def _reply_in(paragraph: str) -> str:
    """The SMTP reply quoted in a paragraph: from the first reply code or status to the end."""
    m = _SMTP_REPLY.search(paragraph)
    return paragraph[m.start():].strip()[:1500] if m else ""


def _from_dsn(notice: Notice, records: list[DsnRecipient]) -> list[Failure]:
    out = []
    for rec in records:
        action = rec.action
        status = rec.status
        failure = Failure(rec.address, "dsn", action=action, status=status,
                          diagnostic=rec.diagnostic, remote=rec.remote)
        if action in ("failed", "delayed", "delivered", "relayed", "expanded"):
            failure.permanent = action == "failed" and not status.startswith("4")
        elif status:
            failure.permanent = status.startswith("5")
        out.append(failure)
    return out


def _listed(text: str, address: str) -> bool:
    """The notice lists the address on a line of its own (``<address>:``, qmail and Postfix)."""
    return bool(re.search(r"^[ \t]*<?" + re.escape(address) + r">?:?[ \t]*$", text,
                          re.IGNORECASE | re.MULTILINE))


def _scan_text(notice: Notice, strict: bool = True) -> list[str]:
    """Addresses in the notice's own words that are not ours, in order."""
    text = notice.text
    found: list[str] = []
    contacts: set[str] = set()
    for m in _ADDRESS.finditer(text):
        address = m.group(1).lower().strip(".")
        line_start = text.rfind("\n", 0, m.start()) + 1
        if _CONTACT.search(text[max(0, m.start() - 80):m.start()]):
            contacts.add(address)
            continue
        if _IN_URL.search(text[line_start:m.start()]) or \
                _ENVELOPE_FROM.search(text[max(line_start, m.start() - 20):m.start()]):
            continue
        if notice.is_ours(address) if strict else DAEMON_LOCAL.match(address.split("@")[0]):
            continue
        if address not in found:
            found.append(address)
    return [a for a in found if a not in contacts]


def find_failures(notice: Notice) -> tuple[list[Failure], str | None]:
    """The failed (and delivered) recipients and how they were found; an error from flufl.bounce
    on malformed input is returned, not raised."""
    _, records = notice.dsn
    failures = _from_dsn(notice, [r for r in records if len(records) == 1
                                  or not notice.is_ours(r.address)])
    error = None
    if not failures:
        failures = provider_failures(notice)
    if not failures:
        try:
            temporary, permanent = all_failures(notice.mail.msg)
        except Exception as exc:  # noqa: BLE001 - flufl.bounce on malformed input
            temporary, permanent, error = set(), set(), f"flufl.bounce: {type(exc).__name__}: {exc}"
        seen: dict[str, Failure] = {}
        # flufl.bounce answers with sets: sorted, so that the order never depends on hashing
        for raw, is_permanent in [(a, False) for a in sorted(temporary)] + [(a, True) for a in sorted(permanent)]:
            address = (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw))
            address = address.strip().strip("<>").lower()
            if "@" not in address or notice.is_ours(address):
                continue
            prior = seen.get(address)
            if prior is None or is_permanent:
                seen[address] = Failure(address, "flufl", permanent=is_permanent)
        failures = list(seen.values())
    if not failures:
        failures = [Failure(a, "text") for a in _scan_text(notice)]
    if not failures:
        to = [a for a in notice.returned.to if not notice.is_ours(a)]
        failures = [Failure(a, "returned-to") for a in to[:1]]
    if not failures:  # the recipient is also one of "our" addresses (a test, a forward to self)
        named = _scan_text(notice, strict=False)
        failures = [Failure(a, "text") for a in named
                    if a in notice.returned.to or _listed(notice.text, a)][:1]
    _describe(notice, failures)
    return failures, error


_SENT = re.compile(r"^\s*>>>\s*(.*)$")
_GOT = re.compile(r"^\s*<<<\s*[45]\d\d\b")


def _transcript_command(text: str, address: str) -> str:
    """In a session transcript (``>>> command`` / ``<<< reply`` lines), the command before the
    first failing reply about ``address`` (or before the first failing reply at all)."""
    if ">>>" not in text:
        return ""
    last, after_reply = "", False
    for line in text.split("\n"):
        m = _SENT.match(line)
        if m:
            last, after_reply = command_in(">>> " + m.group(1)) or last, False
            continue
        if _GOT.match(line):
            if address in line.lower():
                return last
            after_reply = True
            continue
        if after_reply and address in line.lower():  # "554 <address>... reason" right after
            return last
        after_reply = False
    return ""


def _describe(notice: Notice, failures: list[Failure]) -> None:
    text = notice.text
    lowered = text.lower()
    addresses = list(dict.fromkeys(f.address for f in failures))
    single = len(addresses) == 1
    subject = notice.mail.subject
    for f in failures:
        f.diagnostic = remote_reply(f.diagnostic)
        others = [a for a in addresses if a != f.address and f.address not in a]
        paragraph = _blocks(text, lowered, f.address, others)
        f.paragraph = paragraph
        reply = f.diagnostic or _reply_in(paragraph) or (_reply_in(text) if single else "")
        f.texts = [("diagnostic", reply)]
        if paragraph:
            f.texts.append(("paragraph", paragraph))
        if single or not paragraph:
            f.texts.append(("notice", text))
        f.texts.append(("subject", subject))
        scope = " ".join(t for _, t in f.texts[:2])
        if not f.status or f.status.endswith(".0.0"):
            found = _status_in(f.diagnostic) or _status_in(scope)
            if found and not found.endswith(".0.0"):
                f.status = found
            else:
                f.status = f.status or found or (_status_in(text) if single else "")
        f.code = _code_in(f.diagnostic) or _code_in(paragraph) or (_code_in(text) if single else "")
        f.remote = f.remote or _remote_in(f.diagnostic) or _remote_in(paragraph) or (
            _remote_in(text) if single else "")
        f.command = command_in(paragraph) or _transcript_command(text, f.address) or (
            command_in(text) if single else "")
        if f.permanent is None:
            first = (f.status or f.code)[:1]
            f.permanent = first != "4"
