"""The address rule: what optdesk takes for an email address, written once.

Used by the contact importer (a bad address is named by row and column), the invitations
(sender, contact, Reply-To) and ``optdesk.outgoing.smtp`` (every address of a message it builds or
sends). The check is ``email-validator``'s syntax check, without DNS: an unquoted local part
of at most 64 octets, a domain of valid labels under a real top-level domain and not a
special-use name (``.local``, ``.test``, ``localhost`` …), at most 254 octets in all, no display
name, no IP literal. ``a@x..example`` and ``a@-x.example`` are refused.

Internationalised addresses pass. A non-ASCII domain has an ASCII form (IDNA) that every
server takes, so messages carry that form. A non-ASCII local part (``garcía@example.es``) can
only go to a server that offers SMTPUTF8 (``needs_smtputf8``); the senders refuse it up front,
with that reason, where the server does not.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from email.headerregistry import Address

import email_validator

from optdesk.errors import InvalidField

_OPTIONS = dict(check_deliverability=False, allow_smtputf8=True, allow_quoted_local=False,
                allow_domain_literal=False, allow_display_name=False, allow_empty_local=False,
                globally_deliverable=True, strict=True)


def _memoise_domain_checks() -> bool:
    """Make email-validator check each distinct domain once per process.

    ``validate_email`` checks the domain of every address afresh (two thirds of its 25 µs),
    while the addresses of a contacts file share few domains (outlets, mail providers). The
    domain check is a pure function of the domain and the options, so its results are cached;
    the rule is unchanged (the same function gives the same answers, errors are not cached).
    Returns whether the cache is in place (False if email-validator's layout changed)."""
    module = sys.modules.get("email_validator.validate_email")
    check = getattr(module, "validate_email_domain_name", None)
    if check is None:
        return False
    if not hasattr(check, "cache_info"):
        module.validate_email_domain_name = functools.lru_cache(maxsize=65536)(check)
    return True


DOMAIN_CHECKS_CACHED = _memoise_domain_checks()


class InvalidAddress(InvalidField):
    """Raised when a value is not an email address by the address rule; names the field."""


@dataclass(frozen=True)
class EmailAddress:
    """A checked address: the local part as given, the domain and its ASCII (IDNA) form."""

    local: str
    domain: str
    ascii_domain: str

    @property
    def needs_smtputf8(self) -> bool:
        """True when the local part is not ASCII: only an SMTPUTF8 server can take it."""
        return not self.local.isascii()

    @property
    def for_smtp(self) -> str:
        """The address as it goes on the wire: the domain in its ASCII form."""
        return f"{self.local}@{self.ascii_domain}"

    def header(self, display_name: str = "") -> Address:
        """An ``email.headerregistry.Address`` for a From/To/Reply-To header."""
        return Address(display_name, username=self.local, domain=self.ascii_domain)


def problem(value: object) -> str | None:
    """Why the value is not an email address (email-validator's reason), or None."""
    try:
        parse(value)
    except InvalidAddress as exc:
        return str(exc)
    return None


def parse(value: object) -> EmailAddress:
    """The value as an EmailAddress; ``InvalidAddress`` with the reason otherwise.

    The value is taken as given: surrounding spaces are an error here (callers strip).
    """
    if not isinstance(value, str) or not value:
        raise InvalidAddress("it is empty")
    try:
        checked = email_validator.validate_email(value, **_OPTIONS)
    except email_validator.EmailNotValidError as exc:
        raise InvalidAddress(str(exc).rstrip(".")) from None
    return EmailAddress(checked.local_part, checked.domain, checked.ascii_domain)


def check(value: str, field: str) -> EmailAddress:
    """``parse`` with an error that names the field: "sender email 'a@x..example' is not an
    email address: An email address cannot have two periods in a row"."""
    try:
        return parse(value)
    except InvalidAddress as exc:
        raise InvalidAddress(f"{field} {value!r} is not an email address: {exc}") from None


def check_domain(value: str, field: str) -> str:
    """A domain name by the same rule (as the part after the @); its ASCII form."""
    try:
        return parse(f"x@{value}").ascii_domain
    except InvalidAddress as exc:
        raise InvalidAddress(f"{field} {value!r} is not a domain name: {exc}") from None


def needs_smtputf8(value: str) -> bool:
    """True when the address has a non-ASCII local part (only ASCII after IDNA otherwise)."""
    local, _, _ = value.rpartition("@")
    return not local.isascii()
