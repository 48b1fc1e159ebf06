"""Opt-in invitations: check the fields, render (preview = send), send them as one run with guardrails.

One message per contact, to their primary address (or per outlet, to its own address: an outlet
that opted out is invited back as an outlet, and its acceptance opts the outlet back in), with a per-recipient token in the Reply-To
(``optin+TOKEN@<reply_domain>``) and a recorded Message-ID, so that the daemon can match the
answer by token or by In-Reply-To (``Store.accept_invitation``). Guardrails (who may be invited)
are ``optdesk.store.invitations.refusal``; they are checked again, atomically, when each
invitation is reserved just before its send.

Fields are checked as mail readers will read them (RFC 2047 encoded words decoded) and capped
in length, before anything is written. Addresses follow the one address rule
(``optdesk.addresses``). Each message is built, and checked against the SMTP server (SMTPUTF8
for a non-ASCII local part), inside the transaction that reserves its invitation: a message
that cannot be built or sent reserves nothing, and the contact is skipped with the reason while
the rest of the run goes on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import logging
import pathlib
import re
import smtplib
import string
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from optdesk import addresses
from optdesk.errors import HeaderInjection, InvalidField, OptdeskError
from optdesk.outgoing.smtp import check_headers, safe_header, unwritable
from optdesk.settings import Settings, signing_key
from optdesk.store.base import utcnow
from optdesk.store.invitations import Reservation, refusal
from optdesk.tokens import make_token

log = logging.getLogger(__name__)

LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt")
EACH = "each"  # the message language: each contact's own (their record's), else English
FALLBACK = "en"
TEMPLATE_DIR = pathlib.Path(__file__).resolve().parent / "templates"
MAX_COMMENTS = 5000
MAX_NAME = 128      # sender name, contact name, organisation (characters)
MAX_SUBJECT = 200   # the subject, default or typed (characters)

Progress = Callable[[int, int, "InviteResult"], None]


@dataclass(frozen=True)
class InvitationFields:
    """What the analyst chooses. An empty subject means the language's default subject."""

    sender_name: str
    sender_email: str
    subject: str = ""
    comments: str = ""
    language: str = "en"


@dataclass(frozen=True)
class Template:
    language: str
    subject: str
    body: str


@dataclass(frozen=True)
class InviteResult:
    """One contact's (or outlet's) outcome: status is sent, skipped, failed or "would send"
    (dry run). An outlet's has contact_id None and its ``outlet_id``."""

    contact_id: int | None
    status: str
    reason: str = ""
    email: str | None = None
    invitation_id: int | None = None
    message_id: str | None = None
    name: str | None = None
    outlet_id: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        """("contact", key) or ("outlet", key): whom this result is about."""
        return row_key({"contact_id": self.contact_id, "outlet_id": self.outlet_id})

    def line(self, shown_id: str | None = None) -> str:
        """One line for the CLI: ``contact c-12: sent to a@b.org (invitation 3)`` (``outlet
        OUT-7: …`` for an outlet), named by ``shown_id`` (the team's id) when given."""
        word, key = self.key
        text = f"{word} {shown_id if shown_id is not None else key}: {self.status}"
        if self.email and self.status in ("sent", "would send", "failed"):
            text += f" to {self.email}"
        if self.invitation_id is not None:
            text += f" (invitation {self.invitation_id})"
        return text + (f": {self.reason}" if self.reason else "")


def row_key(row: dict) -> tuple[str, int]:
    """("contact", key) for a contact's candidate row, ("outlet", key) for an outlet's."""
    if row.get("contact_id") is None:
        return "outlet", int(row["outlet_id"])
    return "contact", int(row["contact_id"])


@dataclass(frozen=True)
class Preview:
    """What one contact would get: the message as the send builds it, or why they are skipped."""

    contact_id: int | None
    email: str | None
    skip_reason: str | None
    message: EmailMessage | None
    outlet_id: int | None = None

    @property
    def key(self) -> tuple[str, int]:
        return row_key({"contact_id": self.contact_id, "outlet_id": self.outlet_id})

    @property
    def text(self) -> str:
        """The message as a person reads it: the main headers decoded, then the body."""
        if self.message is None:
            return ""
        heads = ("From", "To", "Reply-To", "Subject", "Date", "Message-ID")
        lines = [f"{h}: {self.message[h]}" for h in heads if self.message[h] is not None]
        return "\n".join(lines) + "\n\n" + self.message.get_content()

    def headers(self, names: Sequence[str]) -> list[tuple[str, str]]:
        """(name, decoded value) of these headers, those present, in this order."""
        if self.message is None:
            return []
        return [(h, str(self.message[h])) for h in names if self.message[h] is not None]

    @property
    def body(self) -> str:
        return "" if self.message is None else self.message.get_content()


# -- fields and templates ----------------------------------------------------------------------
def check_header(field: str, value: str, limit: int | None = None) -> str:
    """The value, stripped. HeaderInjection when it holds CR, LF or another control character,
    written out or in an RFC 2047 encoded word (``optdesk.outgoing.smtp.safe_header``); InvalidField
    when it is longer than ``limit`` characters (the email package folds what is left)."""
    value = safe_header(value or "", field).strip()
    if limit is not None and len(value) > limit:
        raise InvalidField(f"{field} is {len(value):,} characters long; at most {limit}")
    return value


PLAIN_HEADER = 900  # characters: a plain value this short needs no folding check


def check_writable(field: str, header: str, value: str | Address) -> None:
    """The value as the email package holds it in that header: HeaderInjection naming the field
    when it reads a control character there (its address parser decodes more than a subject's),
    InvalidField when it cannot write the header out (a rare mix of characters makes its
    folder raise). A short value of printable characters only (no tab, no line or format
    character) and without an encoded word is always written: it skips the email package's
    parse and fold, which cost one to two milliseconds a contact."""
    text = str(value)
    if text.isprintable() and "=?" not in text and len(text) <= PLAIN_HEADER:
        return
    msg = EmailMessage(policy=SMTP)
    try:
        msg[header] = value  # the address parser refuses a line break an encoded word decodes to
    except ValueError as exc:
        raise HeaderInjection(f"{field}: {exc}") from None
    try:
        check_headers(msg)
    except HeaderInjection as exc:
        raise HeaderInjection(f"{field}: {exc}") from None
    problem = unwritable(msg)
    if problem:
        raise InvalidField(f"{field} cannot go into a mail header: {problem}")


def check_email(field: str, value: str) -> str:
    """The address, stripped; HeaderInjection or InvalidField (``addresses.InvalidAddress``)
    naming the field with the reason."""
    value = check_header(field, value)
    addresses.check(value, field)
    return value


@functools.lru_cache(maxsize=16)
def load_template(language: str) -> Template:
    """The template for a language (``templates/invitation.<lang>.txt``: a Subject line, a blank
    line, then the body, with ``${name}``, ``${organisation}``, ``${comments}``, ``${expires}``,
    ``${sender_name}``, ``${sender_email}`` placeholders)."""
    if language not in LANGUAGES:
        raise InvalidField(f"language {language!r} has no template; one of {', '.join(LANGUAGES)}")
    path = TEMPLATE_DIR / f"invitation.{language}.txt"
    head, sep, body = path.read_text(encoding="utf-8").partition("\n\n")
    if not sep or not head.startswith("Subject:"):
        raise OptdeskError(f"{path}:1: a template starts with 'Subject: …' and a blank line")
    return Template(language, head.removeprefix("Subject:").strip(), body)


def default_subject(language: str, organisation: str) -> str:
    return string.Template(load_template(language).subject).safe_substitute(
        organisation=organisation)


def default_fields(settings: Settings, language: str = "en") -> InvitationFields:
    """The fields as configured in ``[invitations]``, with the language's default subject."""
    inv = settings.invitations
    return InvitationFields(inv.sender_name, inv.sender_email,
                            default_subject(language, inv.organisation), "", language)


def contact_language(row: dict) -> str:
    """The language a contact's invitation is written in by default: theirs, when we have a
    template for it, else English."""
    language = (row.get("language") or "").strip().lower()
    return language if language in LANGUAGES else FALLBACK


def fields_for(fields: InvitationFields, row: dict, settings: Settings) -> InvitationFields:
    """The checked fields of one contact's message (``EACH`` becomes the contact's language)."""
    if fields.language != EACH:
        return fields
    return check_fields(dataclasses.replace(fields, language=contact_language(row)), settings)


def check_fields(fields: InvitationFields, settings: Settings) -> InvitationFields:
    """Validate every field before anything is sent; return them cleaned (subject filled in).

    Raises HeaderInjection for a CR/LF/control character in a header field, InvalidField for
    an unknown language, a bad address or overlong comments. With language ``EACH`` the fields
    are checked as for English and returned with the typed subject (empty: each language's
    default), to be completed per contact by ``fields_for``.
    """
    if (fields.language or "").strip().lower() == EACH:
        checked = check_fields(dataclasses.replace(fields, language=FALLBACK), settings)
        typed = check_header("subject", fields.subject, MAX_SUBJECT)
        return dataclasses.replace(checked, language=EACH, subject=typed)
    language = (fields.language or "").strip().lower()
    load_template(language)
    name = check_header("sender name", fields.sender_name, MAX_NAME)
    email = check_email("sender email", fields.sender_email)
    check_header("organisation (settings invitations.organisation)",
                 settings.invitations.organisation, MAX_NAME)
    subject = check_header("subject", fields.subject, MAX_SUBJECT)
    subject = check_header("subject", subject or default_subject(
        language, settings.invitations.organisation), MAX_SUBJECT)
    field = "reply domain (settings invitations.reply_domain)"
    addresses.check_domain(check_header(field, settings.invitations.reply_domain), field)
    check_writable("sender name", "From", addresses.parse(email).header(name))
    check_writable("subject", "Subject", subject)
    comments = (fields.comments or "").replace("\r\n", "\n").replace("\r", "\n").strip()
    if "\x00" in comments or len(comments) > MAX_COMMENTS:
        raise InvalidField(f"comments must be text of at most {MAX_COMMENTS} characters")
    return InvitationFields(name, email, subject, comments, language)


# -- rendering ----------------------------------------------------------------------------------
def render_body(fields: InvitationFields, *, name: str, organisation: str,
                expires_at: dt.datetime) -> str:
    """The body text in the fields' language; an empty comment leaves no empty paragraph."""
    text = string.Template(load_template(fields.language).body).safe_substitute(
        name=name or "", organisation=organisation, comments=fields.comments,
        expires=f"{expires_at:%Y-%m-%d}", sender_name=fields.sender_name or organisation,
        sender_email=fields.sender_email)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def build_message(
    fields: InvitationFields, *, to_name: str, to_email: str, organisation: str, reply_to: str,
    message_id: str, expires_at: dt.datetime, date: dt.datetime | None = None,
) -> EmailMessage:
    """The invitation as it goes over SMTP. ``fields`` must have passed ``check_fields``.

    Addresses carry their domain in its ASCII form; a non-ASCII local part stays as it is (the
    send needs a server that offers SMTPUTF8). Every header is checked again as built.
    """
    to_name = check_header("contact name", to_name or "", MAX_NAME)
    msg = EmailMessage(policy=SMTP)
    msg["From"] = addresses.check(fields.sender_email, "sender email").header(fields.sender_name)
    msg["To"] = addresses.check(check_header("contact address", to_email),
                                "contact address").header(to_name)
    msg["Reply-To"] = addresses.check(check_header("reply address", reply_to),
                                      "reply address").header()
    msg["Subject"] = fields.subject
    msg["Date"] = format_datetime((date or utcnow()).replace(tzinfo=dt.UTC))
    msg["Message-ID"] = check_header("message id", message_id)
    msg.set_content(render_body(fields, name=to_name, organisation=organisation,
                                expires_at=expires_at))
    msg["Content-Language"] = fields.language  # after set_content, which drops Content-*
    check_headers(msg)
    problem = unwritable(msg)
    if problem:
        raise InvalidField(f"the invitation to {to_email} cannot be sent: {problem}")
    return msg


def reply_address(key: bytes, reservation: Reservation, domain: str) -> str:
    """``optin+TOKEN@domain``: the token binds contact (or outlet), data group, address, nonce
    and expiry."""
    token = make_token(key, "optin", reservation.subject, reservation.data_group,
                       reservation.email, expires_at=reservation.expires_at,
                       nonce=reservation.nonce)
    return f"optin+{token}@{domain}"


def message_for(fields: InvitationFields, reservation: Reservation, settings: Settings,
                key: bytes) -> EmailMessage:
    inv = settings.invitations
    return build_message(
        fields, to_name=reservation.name, to_email=reservation.email,
        organisation=inv.organisation, reply_to=reply_address(key, reservation, inv.reply_domain),
        message_id=make_msgid(f"optdesk.invitation.{reservation.invitation_id}",
                              domain=inv.reply_domain),
        expires_at=reservation.expires_at)


# -- planning, preview --------------------------------------------------------------------------
def plan(store, data_group: str, contact_ids: Iterable[int], *, cooloff_days: int,
         now: dt.datetime | None = None, outlet_ids: Iterable[int] = ()
         ) -> list[tuple[dict, str | None]]:
    """(candidate row, refusal reason or None) per distinct contact id, in the order given,
    then per distinct outlet id (``outlet_ids``: outlets invited at their own address)."""
    now = now or utcnow()
    ids = list(dict.fromkeys(int(c) for c in contact_ids))
    outlets = list(dict.fromkeys(int(o) for o in outlet_ids))
    rows = {r["contact_id"]: r for r in store.invitation_candidates(data_group, ids).to_dicts()}
    out = []
    for cid in ids:
        row = rows[cid]
        out.append((row, refusal(row, data_group, now, cooloff_days) or recipient_problem(row)))
    if outlets:
        found = {r["outlet_id"]: r for r in
                 store.outlet_invitation_candidates(data_group, outlets).to_dicts()}
        for oid in outlets:
            row = found[oid]
            out.append((row, refusal(row, data_group, now, cooloff_days)
                        or recipient_problem(row)))
    return out


def recipient_problem(row: dict) -> str | None:
    """Why the contact's name or primary address cannot go into the To header, or None."""
    try:
        address = addresses.parse(row["email"])
    except addresses.InvalidAddress as problem:
        which = "the outlet's address" if row.get("contact_id") is None else "primary address"
        return f"{which} {row['email']!r} is not an email address: {problem}; fix it first"
    try:  # the To header as build_message writes it
        name = check_header("contact name", row["name"] or "", MAX_NAME)
        check_writable("contact name", "To", address.header(name))
    except HeaderInjection:
        return "the contact's name contains a line break or control character; fix it first"
    except InvalidField as exc:  # too long, or not writable as a header
        return f"{exc}; fix it first"
    return None


def preview(store, settings: Settings, data_group: str, contact_ids: Sequence[int],
            fields: InvitationFields, *, limit: int = 3, key: bytes | None = None,
            now: dt.datetime | None = None, outlet_ids: Sequence[int] = ()) -> list[Preview]:
    """The first ``limit`` contacts (then outlets) as the send would treat them, rendered by
    the same code.

    Only the token, the Message-ID and the invitation number differ at the send.
    """
    fields = check_fields(fields, settings)
    now = now or utcnow()
    key = key if key is not None else signing_key(settings)
    inv = settings.invitations
    out = []
    limit = max(limit, 0)
    contacts = list(contact_ids)[:limit]
    outlets = list(outlet_ids)[: limit - len(contacts)]
    for row, reason in plan(store, data_group, contacts, cooloff_days=inv.cooloff_days,
                            now=now, outlet_ids=outlets):
        if reason:
            out.append(Preview(row["contact_id"], row["email"], reason, None, row["outlet_id"]))
            continue
        draft = Reservation(0, row["contact_id"], data_group, row["email"], row["name"] or "",
                            0, now + dt.timedelta(days=inv.ttl_days), row["outlet_id"])
        out.append(Preview(row["contact_id"], row["email"], None,
                           message_for(fields_for(fields, row, settings), draft, settings, key),
                           row["outlet_id"]))
    return out


def open_smtp(settings: Settings):
    """A connected ``optdesk.outgoing.smtp.SmtpSender`` (TLS, login as ``smtp.url`` says). Pacing is
    the run's own, so the session's is switched off.

    What ``send_invitations`` needs of a session: ``send(msg)``, ``close()`` and
    ``refusal(msg)`` (why the server cannot take the message, or None)."""
    from optdesk.outgoing.smtp import SmtpSender

    sender = SmtpSender(dataclasses.replace(settings.smtp, rate_per_second=0.0))
    sender.connect()
    return sender


# -- a run of sends -------------------------------------------------------------------------------
class _Run:
    """Sends one reserved invitation at a time over one SMTP session, at most ``rate`` per second."""

    def __init__(self, store, settings: Settings, data_group: str, fields: InvitationFields,
                 actor: str, connect: Callable[[], object], key: bytes, rate: float) -> None:
        self.store, self.settings, self.group = store, settings, data_group
        self.fields, self.actor, self.key = fields, actor, key
        self.connect = connect
        self.interval = 1.0 / rate if rate and rate > 0 else 0.0
        self.sender = None
        self.broken: str | None = None
        self.next_at = 0.0

    def _session(self):
        if self.sender is None and self.broken is None:
            try:
                self.sender = self.connect()
            except OptdeskError as exc:
                self.broken = str(exc)
            except OSError as exc:
                self.broken = f"cannot reach the SMTP server: {exc}"
        return self.sender

    def _pace(self) -> None:
        delay = self.next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self.next_at = time.monotonic() + self.interval

    def _build(self, fields: InvitationFields, reservation: Reservation) -> EmailMessage:
        """The message for a reservation, refused (InvalidField) when the server cannot take it."""
        msg = message_for(fields, reservation, self.settings, self.key)
        refused = self.sender.refusal(msg)
        if refused:
            raise InvalidField(refused)
        return msg

    def send_one(self, row: dict) -> InviteResult:
        cid, oid, inv = row["contact_id"], row["outlet_id"], self.settings.invitations
        word, key = row_key(row)

        def result(status, reason="", email=None, invitation_id=None, message_id=None):
            return InviteResult(cid, status, reason, email, invitation_id, message_id,
                                outlet_id=oid)

        if self._session() is None:
            return result("failed", self.broken or "no SMTP session", row["email"])
        built: list[EmailMessage] = []
        fields = fields_for(self.fields, row, self.settings)
        try:
            res = self.store.reserve_invitation(
                cid, self.group, sender_name=fields.sender_name,
                sender_email=fields.sender_email, subject=fields.subject,
                comments=fields.comments, language=fields.language, actor=self.actor,
                ttl_days=inv.ttl_days, cooloff_days=inv.cooloff_days, outlet_id=oid,
                build=lambda reservation: built.append(self._build(fields, reservation)))
        except (InvalidField, HeaderInjection) as exc:  # nothing was reserved
            log.warning("%s %s not invited: %s", word, key, exc)
            return result("skipped", f"{exc}; nothing reserved or sent", row["email"])
        if isinstance(res, str):
            return result("skipped", res, row["email"])
        msg = built[0]
        self._pace()
        try:
            self.sender.send(msg)  # optdesk.outgoing.smtp reconnects once when the server drops us
        except (OptdeskError, OSError, smtplib.SMTPException, ValueError) as exc:
            error = f"{type(exc).__name__}: {exc}"
            self.store.mark_invitation_failed(res.invitation_id, error)
            log.warning("invitation %s to %s %s failed: %s", res.invitation_id, word, key, error)
            return result("failed", error, res.email, res.invitation_id)
        self.store.mark_invitation_sent(
            res.invitation_id, message_id=msg["Message-ID"], actor=self.actor,
            evidence={"token_nonce": res.nonce, "reply_to": msg["Reply-To"]})
        return result("sent", "", res.email, res.invitation_id, msg["Message-ID"])

    def close(self) -> None:
        sender, self.sender = self.sender, None
        if sender is not None:
            try:
                sender.close()
            except (OSError, smtplib.SMTPException) as exc:
                log.debug("closing the SMTP session: %s", exc)


def send_invitations(
    store, settings: Settings, data_group: str, contact_ids: Iterable[int],
    fields: InvitationFields, *, actor: str, dry_run: bool = False,
    progress: Progress | None = None, connect: Callable[[], object] | None = None,
    key: bytes | None = None, rate: float | None = None,
    stop: Callable[[], bool] | None = None, outlet_ids: Iterable[int] = (),
) -> list[InviteResult]:
    """Invite each contact once, in order, then each outlet of ``outlet_ids`` (at its own
    address; an outlet opted out in the group, never after a complaint, once per cool-off);
    one InviteResult per distinct contact or outlet id.

    Fields are checked first: a refused field raises (HeaderInjection, InvalidField) before
    anything is written or sent. A contact whose message cannot be built or sent to this server
    (a bad address, SMTPUTF8 not offered) is skipped with the reason, nothing reserved, and the
    run goes on. ``dry_run`` reports "would send" and touches nothing.
    ``connect()`` returns an object with ``send(msg)``, ``close()`` and ``refusal(msg)``
    (default: an ``optdesk.outgoing.smtp`` session from the settings); ``rate`` (messages per second) defaults to
    ``settings.smtp.rate_per_second``. ``progress(done, total, result)`` follows each contact.
    ``stop()`` is asked before each contact: once true, the message in hand is finished and the
    contacts left are reported "not sent" (nothing reserved for them).
    """
    fields = check_fields(fields, settings)
    planned = plan(store, data_group, contact_ids, cooloff_days=settings.invitations.cooloff_days,
                   outlet_ids=outlet_ids)
    run = None
    if not dry_run:
        run = _Run(store, settings, data_group, fields, actor,
                   connect or functools.partial(open_smtp, settings),
                   key if key is not None else signing_key(settings),
                   settings.smtp.rate_per_second if rate is None else rate)
    results: list[InviteResult] = []
    try:
        for row, reason in planned:
            who = {"outlet_id": row["outlet_id"]}
            if stop is not None and stop():
                result = InviteResult(row["contact_id"], "not sent",
                                      "the send was stopped before this contact", row["email"],
                                      **who)
            elif reason:
                result = InviteResult(row["contact_id"], "skipped", reason, row["email"], **who)
            elif run is None:
                result = InviteResult(row["contact_id"], "would send", "", row["email"], **who)
            else:
                result = run.send_one(row)
            results.append(result := dataclasses.replace(result, name=row["name"]))
            if progress is not None:
                progress(len(results), len(planned), result)
    finally:
        if run is not None:
            run.close()
    return results


def summary(results: Sequence[InviteResult]) -> dict[str, int]:
    """Counts per status, e.g. {"sent": 3, "skipped": 1}."""
    out: dict[str, int] = {}
    for r in results:
        out[r.status] = out.get(r.status, 0) + 1
    return out
