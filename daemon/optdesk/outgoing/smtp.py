"""SMTP: the one module that talks to a mail submission server (invitations, report emails).

Use::

    from optdesk.outgoing.smtp import SmtpSender, build_message

    msg = build_message(sender="Press <press@example.org>", to=["a@example.org"],
                        subject="Hello", text="plain body", html="<p>optional</p>")
    with SmtpSender(settings.smtp) as smtp:      # one connection for the whole batch
        message_id = smtp.send(msg)              # paced to smtp.rate_per_second

``smtp.url`` is ``smtp://host:port`` (no TLS; refused with a user unless the host is loopback),
``smtp+starttls://user@host:587`` or ``smtps://user@host:465`` (implicit TLS). Certificates are
verified against the system's CAs, or ``smtp.ca_file``. The password comes from the environment
variable ``smtp.password_env`` (``OPTDESK_SMTP_PASSWORD``) or ``smtp.password_file``, never from
the URL. Every header value is checked by ``safe_header``: CR, LF or another control character,
written out or inside an RFC 2047 encoded word (``=?utf-8?q?=0D=0A?=``, which the email package
and mail readers decode), raises ``HeaderInjection`` naming the field, before anything is sent.
Every address passes the one address rule, ``optdesk.addresses``; a non-ASCII local part goes
only to a server that offers SMTPUTF8, and is refused up front, with that reason, otherwise.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import re
import smtplib
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping
from email.errors import HeaderParseError, MessageError
from email.header import decode_header, make_header
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import getaddresses, make_msgid, parseaddr
from urllib.parse import unquote, urlsplit

from optdesk import addresses
from optdesk.errors import ConfigError, HeaderInjection, SmtpAuthError, SmtpError, SmtpTLSError
from optdesk.settings import SmtpSettings, read_secret

log = logging.getLogger(__name__)

SCHEMES = {"smtp": ("plain", 25), "smtp+starttls": ("starttls", 587), "smtps": ("tls", 465)}
# CR, LF, every other C0 control but TAB, DEL, and NEL and the Unicode line/paragraph separators
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f\x85\u2028\u2029]")
_NAMES = {"\r": "a carriage return (CR)", "\n": "a line feed (LF)"}


@dataclasses.dataclass(frozen=True)
class SmtpTarget:
    """A parsed ``smtp.url``: security is "plain", "starttls" or "tls"."""

    security: str
    host: str
    port: int
    username: str | None = None

    @property
    def is_loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_smtp_url(url: str) -> SmtpTarget:
    """``smtp://``, ``smtp+starttls://`` or ``smtps://`` [user@]host[:port] → SmtpTarget."""
    parts = urlsplit(url.strip())
    if parts.scheme not in SCHEMES:
        raise ConfigError(f"smtp.url {url!r}: scheme must be one of {', '.join(SCHEMES)}")
    if parts.password is not None:
        raise ConfigError(f"smtp.url for {parts.hostname}: put the password in "
                          "OPTDESK_SMTP_PASSWORD or smtp.password_file, not in the URL")
    if not parts.hostname:
        raise ConfigError(f"smtp.url {url!r}: no host")
    if parts.path not in ("", "/") or parts.query:
        raise ConfigError(f"smtp.url {url!r}: unexpected path or query")
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"smtp.url {url!r}: bad port") from exc
    security, default_port = SCHEMES[parts.scheme]
    user = unquote(parts.username) if parts.username else None
    return SmtpTarget(security, parts.hostname, port or default_port, user)


def _decoded(text: str) -> Iterator[str]:
    """The value as it reads once its RFC 2047 encoded words are decoded: by the email package
    (what ``msg[field] = text`` makes of it) and by a lenient reader (encoded words anywhere)."""
    if "=?" not in text:
        return
    try:
        yield str(SMTP_POLICY.header_factory("subject", text))
    except (ValueError, IndexError, TypeError, AttributeError, MessageError):
        pass
    try:
        yield str(make_header(decode_header(text)))
    except (HeaderParseError, LookupError, UnicodeError, ValueError):
        pass  # not decodable: no reader turns it into anything else


def header_problem(value: object) -> str | None:
    """Why the value cannot be one header line, or None: a CR, LF, another C0 control character
    (a tab is allowed), DEL, NEL or a Unicode line or paragraph separator, written out or
    inside an RFC 2047 encoded word."""
    text = str(value)
    for form, where in ((text, ""), *((d, " once its RFC 2047 encoded words are decoded")
                                       for d in _decoded(text))):
        found = _CONTROL.search(form)
        if found:
            char = found.group()
            what = _NAMES.get(char, f"the control character U+{ord(char):04X}")
            at = f" at position {found.start() + 1}" if not where else ""
            return f"{what}{at}{where}"
    return None


def safe_header(value: object, field: str) -> str:
    """The value as a string, unchanged; ``HeaderInjection`` naming the field when
    ``header_problem`` finds one. Use for every value that goes into a header."""
    text = str(value)
    problem = header_problem(text)
    if problem:
        raise HeaderInjection(f"{field} contains {problem}; refused: header values must be "
                              "one line")
    return text


def header_address(value: str, field: str) -> Address:
    """One address, bare or as ``Name <addr@domain>``, as an ``Address`` for a header (the
    domain in its ASCII form). ``HeaderInjection`` when it is not header-safe or not one
    address by the address rule."""
    text = safe_header(value, field).strip()
    try:
        msg = EmailMessage()
        msg[field] = text
        found = msg[field].addresses
        groups = msg[field].groups
    except (ValueError, IndexError, TypeError, AttributeError, MessageError) as exc:
        raise HeaderInjection(f"{field}: not an email address: {text!r}") from exc
    if any(g.display_name is not None for g in groups):
        raise HeaderInjection(f"{field}: a group is not one address: {text!r}")
    if len(found) != 1 or not found[0].username or not found[0].domain:
        raise HeaderInjection(f"{field}: expected one email address, got {text!r}")
    # the address as written (the parser would unquote a quoted local part)
    start = text.rfind("<")
    written = text[start + 1:-1].strip() if start >= 0 and text.endswith(">") else text
    try:
        checked = addresses.check(written, f"{field} address")
    except addresses.InvalidAddress as exc:
        raise HeaderInjection(str(exc)) from None
    return checked.header(safe_header(found[0].display_name, f"{field} name"))


def safe_address(value: str, field: str) -> str:
    """One address, bare or as ``Name <addr@domain>``, unchanged when ``header_address``
    takes it; ``HeaderInjection`` otherwise."""
    header_address(value, field)
    return value.strip()


def build_message(
    *, sender: str, to: Iterable[str] | str, subject: str, text: str, html: str | None = None,
    reply_to: str | None = None, headers: Mapping[str, str] | None = None,
    msgid_domain: str | None = None,
) -> EmailMessage:
    """A checked message: plain text, with ``html`` as the alternative when given. Every header
    value passes ``safe_header``; addresses pass ``header_address``. A Message-ID is added."""
    recipients = [to] if isinstance(to, str) else list(to)
    if not recipients:
        raise ValueError("a message needs at least one recipient")
    msg = EmailMessage(policy=SMTP_POLICY)
    msg["From"] = header_address(sender, "From")
    msg["To"] = [header_address(r, "To") for r in recipients]
    msg["Subject"] = safe_header(subject, "Subject")
    if reply_to:
        msg["Reply-To"] = header_address(reply_to, "Reply-To")
    for name, value in (headers or {}).items():
        msg[safe_header(name, "header name")] = safe_header(value, name)
    domain = msgid_domain or _domain(msg["From"].addresses[0])
    msg["Message-ID"] = make_msgid(domain=domain)
    msg.set_content(text)
    if html is not None:
        msg.add_alternative(html, subtype="html")
    check_headers(msg)
    return msg


def _domain(address: Address) -> str:
    return address.domain or "localhost"


def check_headers(msg: EmailMessage) -> None:
    """``HeaderInjection`` when any header of the message holds CR, LF or a control character,
    as the email package holds it (encoded words decoded)."""
    for name, value in msg.items():
        safe_header(value, name)


def envelope(msg: EmailMessage) -> list[tuple[str, str, str]]:
    """(role, header name, address) for the sender and each recipient, as
    ``smtplib.send_message`` takes them from the headers; the address is "" where the header
    holds none that can be read."""
    prefix = "Resent-" if msg.get_all("Resent-Date") else ""
    out = []
    for name in (f"{prefix}Sender", f"{prefix}From"):
        if msg[name] is not None:
            found = getaddresses([str(msg[name])])
            out.append(("sender", name, found[0][1] if found else ""))
            break
    for name in (f"{prefix}To", f"{prefix}Bcc", f"{prefix}Cc"):
        for value in msg.get_all(name, []):
            out += [("recipient", name, a) for _, a in getaddresses([str(value)])]
    return out


def unwritable(msg: EmailMessage) -> str | None:
    """Why the email package cannot write the message out as ``smtplib`` will (UTF-8 headers
    when an address needs SMTPUTF8), or None. Some values (a non-ASCII character, a tab and
    something like an encoded word) make its folder raise."""
    utf8 = any(not address.isascii() for _, _, address in envelope(msg))
    try:
        msg.as_bytes(policy=msg.policy.clone(utf8=True) if utf8 else msg.policy)
    except (UnicodeError, ValueError, TypeError, IndexError, AttributeError,
            MessageError) as exc:
        return f"the email package cannot write it out ({type(exc).__name__}: {exc})"
    return None


class SmtpSender:
    """One SMTP session, opened on ``connect()`` or ``with``, reused for every ``send``.

    Sends are paced to ``rate_per_second`` (0: no limit). A session the server dropped is
    reopened once. Errors: SmtpTLSError, SmtpAuthError, SmtpError (all OptdeskError),
    HeaderInjection for a bad header.
    """

    def __init__(self, settings: SmtpSettings, *, password: str | None = None,
                 env: Mapping[str, str] | None = None) -> None:
        self.settings = settings
        self.target = parse_smtp_url(settings.url)
        if self.target.security == "plain" and self.target.username and not self.target.is_loopback:
            raise ConfigError(f"smtp.url: refusing to send the password for {self.target.username}"
                              f" to {self.target.host} without TLS; use smtp+starttls:// or smtps://")
        self._password = password
        self._env = env
        self._smtp: smtplib.SMTP | None = None
        self._interval = 1.0 / settings.rate_per_second if settings.rate_per_second > 0 else 0.0
        self._last = float("-inf")
        self.sent = 0

    @classmethod
    def from_settings(cls, settings) -> SmtpSender:
        """A connected sender from the whole Settings (``settings.smtp``)."""
        sender = cls(settings.smtp)
        sender.connect()
        return sender

    def __enter__(self) -> SmtpSender:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _tls_context(self) -> ssl.SSLContext:
        try:
            return ssl.create_default_context(cafile=self.settings.ca_file)
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(f"smtp.ca_file {self.settings.ca_file}: {exc}") from exc

    def _where(self) -> str:
        return f"SMTP server {self.target.host}:{self.target.port}"

    def connect(self) -> None:
        """Open the session: TLS as the URL says, then login when the URL names a user."""
        if self._smtp is not None:
            return
        t, timeout = self.target, self.settings.timeout
        try:
            if t.security == "tls":
                smtp = smtplib.SMTP_SSL(t.host, t.port, timeout=timeout, context=self._tls_context())
            else:
                smtp = smtplib.SMTP(t.host, t.port, timeout=timeout)
            try:
                self._secure_and_login(smtp)
            except BaseException:
                smtp.close()
                raise
        except ssl.SSLError as exc:
            raise SmtpTLSError(f"{self._where()}: TLS failed ({exc}); set smtp.ca_file for a "
                               "private CA") from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpError(f"cannot reach the {self._where()}: {exc}") from exc
        self._smtp = smtp
        log.debug("connected to %s (%s)", self._where(), t.security)

    def _secure_and_login(self, smtp: smtplib.SMTP) -> None:
        smtp.ehlo()
        if self.target.security == "starttls":
            if not smtp.has_extn("starttls"):
                raise SmtpTLSError(f"{self._where()} does not offer STARTTLS")
            smtp.starttls(context=self._tls_context())
            smtp.ehlo()
        if self.target.username:
            password = self._password or read_secret(
                self.settings.password_env, self.settings.password_file, self._env)
            if not password:
                raise SmtpAuthError(f"no SMTP password for {self.target.username}: set "
                                    f"{self.settings.password_env} or smtp.password_file")
            try:
                smtp.login(self.target.username, password)
            except smtplib.SMTPAuthenticationError as exc:
                raise SmtpAuthError(f"{self._where()} refused the login of "
                                    f"{self.target.username}: {exc.smtp_code}") from exc

    @property
    def offers_smtputf8(self) -> bool:
        """Whether the server takes non-ASCII addresses (connects when needed)."""
        self.connect()
        return bool(self._smtp.has_extn("smtputf8"))

    def refusal(self, msg: EmailMessage) -> str | None:
        """Why this server cannot take the message, before anything is sent, or None: an
        address the address rule refuses, one with a non-ASCII local part when the server
        does not offer SMTPUTF8, or a message the email package cannot write out."""
        parties = envelope(msg)
        if not any(role == "recipient" for role, _, _ in parties):
            return "the message has no recipient"
        for role, name, address in parties:
            if not address:
                return f"the {role} in {name} is no address that can be read"
            problem = addresses.problem(address)
            if problem:
                return f"{role} {address!r} is not an email address: {problem}"
            if addresses.needs_smtputf8(address) and not self.offers_smtputf8:
                return (f"{role} {address} has a non-ASCII local part, which needs SMTPUTF8; "
                        f"the {self._where()} does not offer it")
        return unwritable(msg)

    def close(self) -> None:
        """End the session politely; safe to call twice."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def _pace(self) -> None:
        wait = self._last + self._interval - time.monotonic()
        if wait > 0:
            time.sleep(wait)

    def send(self, msg: EmailMessage) -> str:
        """Send one message over the session; return its Message-ID (added when missing).

        HeaderInjection for a bad header, SmtpError naming the address for a ``refusal``, both
        before anything is sent."""
        check_headers(msg)
        if msg["Message-ID"] is None:
            sender = parseaddr(str(msg["From"] or ""))[1]
            msg["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2] or "localhost")
        self._pace()
        self.connect()
        refused = self.refusal(msg)
        if refused:
            raise SmtpError(f"not sent: {refused}")
        try:
            refused = self._smtp.send_message(msg)
        except smtplib.SMTPServerDisconnected:
            log.info("%s dropped the session; reconnecting once", self._where())
            self._smtp = None
            self.connect()
            refused = self._send_once(msg)
        except smtplib.SMTPRecipientsRefused as exc:
            raise SmtpError(f"{self._where()} refused every recipient: "
                            f"{', '.join(exc.recipients)}") from exc
        except smtplib.SMTPException as exc:
            raise SmtpError(f"{self._where()} refused message {msg['Message-ID']}: {exc}") from exc
        except OSError as exc:
            self._smtp = None
            raise SmtpError(f"{self._where()}: connection failed sending {msg['Message-ID']}: "
                            f"{exc}") from exc
        finally:
            self._last = time.monotonic()
        if refused:
            log.warning("%s refused recipients of %s: %s", self._where(), msg["Message-ID"],
                        ", ".join(refused))
        self.sent += 1
        return str(msg["Message-ID"])

    def _send_once(self, msg: EmailMessage) -> dict:
        try:
            return self._smtp.send_message(msg)
        except (OSError, smtplib.SMTPException) as exc:
            raise SmtpError(f"{self._where()} failed twice on {msg['Message-ID']}: {exc}") from exc
