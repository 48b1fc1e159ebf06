"""What each setting may hold: one check per setting, applied by ``optdesk.settings``.

A check takes a value as read — a TOML value, or a string from an ``OPTDESK_*`` variable or the
command line — and returns it converted, or raises ``ValueError`` saying what the value must be.
``load_settings`` turns that into one line naming the file (or variable) and the key:
``optdesk.toml: fetch_size = 0: must be a whole number, at least 1``.

``RULES`` has an entry for every field of every settings class (a test holds it to that).
Checks that need two settings at once (the mailbox URL and ``imap.allow_plaintext``) are in
``check_whole``, run once every layer is applied.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from typing import Any

Check = Callable[[Any], Any]

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WHOLE = re.compile(r"\s*[+-]?\d+\s*")
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off")
FOLDER_KINDS = ("opt_out", "complaint", "bounce_hard", "bounce_soft", "auto_reply", "opt_in")


def text(value: Any) -> str:
    if isinstance(value, os.PathLike):
        value = os.fspath(value)
    if not isinstance(value, str):
        raise ValueError("must be a string (in quotes)")
    return value


def one_line(value: Any) -> str:
    value = text(value)
    found = _CONTROL.search(value)
    if found:
        raise ValueError(f"contains the control character {found.group()!r}")
    return value


def nonempty(value: Any) -> str:
    value = one_line(value)
    if not value.strip():
        raise ValueError("must not be empty")
    return value


def optional(check: Check) -> Check:
    """``None`` stays ``None`` (a setting that is off); anything else must pass ``check``."""
    return lambda value: None if value is None else check(value)


def whole(minimum: int) -> Check:
    def check(value: Any) -> int:
        if isinstance(value, str) and _WHOLE.fullmatch(value):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"must be a whole number, at least {minimum}")
        return value
    return check


def number(minimum: float, maximum: float | None = None, *, above: bool = False) -> Check:
    bounds = (f"above {minimum:g}" if above else f"at least {minimum:g}") + (
        f" and at most {maximum:g}" if maximum is not None else "")

    def check(value: Any) -> float:
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                raise ValueError(f"must be a number {bounds}") from None
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            raise ValueError(f"must be a number {bounds}")
        if (value <= minimum if above else value < minimum) or (maximum is not None and value > maximum):
            raise ValueError(f"must be a number {bounds}")
        return float(value)
    return check


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in _TRUE + _FALSE:
        return value.strip().lower() in _TRUE
    raise ValueError("must be true or false")


def env_name(value: Any) -> str:
    value = text(value)
    if not _ENV_NAME.fullmatch(value):
        raise ValueError("must be the name of an environment variable (letters, digits, _)")
    return value


def domain(value: Any) -> str:
    from optdesk.addresses import InvalidAddress, parse

    value = nonempty(value)
    try:
        parse(f"x@{value}")
    except InvalidAddress as exc:
        raise ValueError(f"is not a domain name: {exc}") from None
    return value


def address(value: Any) -> str:
    from optdesk.addresses import problem

    value = nonempty(value)
    reason = problem(value)
    if reason:
        raise ValueError(f"is not an email address: {reason}")
    return value


def addresses(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        items = [v.strip() for v in value.split(",") if v.strip()]
    elif isinstance(value, list | tuple):
        items = [text(v).strip() for v in value]
    else:
        raise ValueError("must be a list of email addresses")
    return tuple(address(v) for v in items)


def _items(value: Any, what: str) -> list[str]:
    """A TOML list of strings, or one string of items separated by commas (a variable)."""
    if isinstance(value, str):
        return [v.strip() for v in value.split(",") if v.strip()]
    if isinstance(value, list | tuple):
        return [text(v).strip() for v in value]
    raise ValueError(f"must be a list of {what}")


def complaint_sender(value: Any) -> str:
    """A feedback-loop sender: an address (exactly it) or a domain (and its sub-domains)."""
    value = nonempty(value).strip().lower()
    if "@" in value.lstrip("@"):
        try:
            return address(value)
        except ValueError as exc:
            raise ValueError(f"{value!r} {exc}") from None
    try:
        domain(value.lstrip("@"))
    except ValueError as exc:
        raise ValueError(f"{value!r} is neither an email address nor a domain name: "
                         f"{str(exc).removeprefix('is not a domain name: ')}") from None
    return value


def complaint_senders(value: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(complaint_sender(v)
                               for v in _items(value, "addresses or domains")))


def authserv_ids(value: Any) -> tuple[str, ...]:
    """The authserv-ids (RFC 8601) of the team's own MX: host names, as its headers write them."""
    found = []
    for item in _items(value, "authserv-ids (host names)"):
        item = nonempty(item).strip().lower()
        if any(c.isspace() or c in ";()\"" for c in item):
            raise ValueError(f"{item!r} is not an authserv-id (a host name such as mx.example.org)")
        found.append(item)
    return tuple(dict.fromkeys(found))


def data_group(value: Any) -> str:
    value = nonempty(value)
    if len(value.encode("utf-8")) > 255:
        raise ValueError("must be at most 255 bytes (it is signed into every token)")
    return value


def mailbox(value: Any) -> str:
    value = nonempty(value)
    scheme, sep, rest = value.partition(":")
    if not sep or scheme.lower() not in ("maildir", "imap", "imaps"):
        raise ValueError("must be maildir:PATH, imap://user@host[/FOLDER] or imaps://user@host[/FOLDER]")
    if scheme.lower() == "maildir" and not rest.removeprefix("//").strip():
        raise ValueError("maildir: needs a path, e.g. maildir:data/demo-mailbox")
    return value


def folder_problem(name: str) -> str | None:
    """Why ``name`` cannot be a destination folder, on any server; None when it can."""
    if not isinstance(name, str):
        return "must be a string (in quotes)"
    if name.strip().upper() == "INBOX":
        return "that is the inbox the daemon reads; handled mail must go to another folder"
    parts = name.split("/")
    if not name or any(not p.strip() for p in parts):
        return "empty part between '/' separators (use / between levels, e.g. optdesk/opt_out)"
    found = _CONTROL.search(name)
    if found:
        return f"contains the control character {found.group()!r}"
    for char in "*%":
        if char in name:
            return f"contains {char!r}, an IMAP wildcard"
    return None


def folder(value: Any) -> str:
    reason = folder_problem(value)
    if reason:
        raise ValueError(reason)
    return value


def table(value: Any) -> Any:
    if not isinstance(value, Mapping):
        raise ValueError("must be a table of kind = \"folder\" ([folders])")
    return value


def public_url(value: Any) -> str:
    """The public base of the one-click URL: http(s)://host[:port][/path], written into the
    List-Unsubscribe header, so nothing a header or the angle brackets around it would break."""
    from urllib.parse import urlsplit

    value = nonempty(value).strip().rstrip("/")
    if any(c.isspace() or c in '<>,"\\' for c in value):
        raise ValueError("must not contain spaces, quotes, commas, backslashes or angle brackets")
    try:
        parts = urlsplit(value)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as exc:
        raise ValueError(f"is not a URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an https:// (or, for the demo, http://) URL with a host name")
    if parts.query or parts.fragment or parts.username or parts.password:
        raise ValueError("must have no query, fragment or user name (the token is appended as "
                         "/u/TOKEN)")
    return value


def array_of_tables(value: Any) -> list:
    if not isinstance(value, list | tuple) or not all(isinstance(v, Mapping) for v in value):
        raise ValueError("must be an array of tables ([[mailboxes]] entries)")
    if not value:
        raise ValueError("must have at least one [[mailboxes]] entry")
    return list(value)


def port(value: Any) -> int:
    value = whole(1)(value)
    if value > 65535:
        raise ValueError("must be a port number, 1 to 65535")
    return value


def _positive_seconds() -> Check:
    return number(0, above=True)


RULES: dict[tuple[str | None, str], Check] = {
    (None, "db"): nonempty,
    (None, "mailbox"): mailbox,
    (None, "data_group"): data_group,
    (None, "rules_dir"): nonempty,
    (None, "poll_interval"): whole(1),
    (None, "fetch_size"): whole(1),
    (None, "idle"): flag,
    (None, "review_threshold"): number(0, 1),
    (None, "undo_grace_hours"): number(0, 24 * 365),
    (None, "secret_env"): env_name,
    (None, "secret_file"): nonempty,
    (None, "unsubscribe_domain"): domain,
    (None, "public_url"): public_url,
    (None, "mailboxes"): array_of_tables,  # each entry: optdesk.mailbox_settings
    (None, "folders"): table,
    ("folders", "*"): folder,  # each of FOLDER_KINDS
    ("imap", "password_env"): env_name,
    ("imap", "password_file"): optional(nonempty),
    ("imap", "oauth2_token_command"): optional(nonempty),
    ("imap", "oauth2_token_file"): optional(nonempty),
    ("imap", "ca_file"): optional(nonempty),
    ("imap", "allow_plaintext"): flag,
    ("imap", "starttls"): flag,
    ("imap", "timeout"): _positive_seconds(),
    ("smtp", "url"): nonempty,
    ("smtp", "password_env"): env_name,
    ("smtp", "password_file"): optional(nonempty),
    ("smtp", "ca_file"): optional(nonempty),
    ("smtp", "rate_per_second"): number(0),
    ("smtp", "timeout"): _positive_seconds(),
    # the texts of an invitation: their content is checked by optdesk.outgoing.invitations.check_fields
    ("invitations", "sender_name"): text,
    ("invitations", "sender_email"): address,
    ("invitations", "organisation"): text,
    ("invitations", "reply_domain"): domain,
    ("invitations", "cooloff_days"): whole(0),
    ("invitations", "ttl_days"): whole(1),
    ("reports", "cron"): nonempty,
    ("reports", "out_dir"): nonempty,
    ("reports", "recipients"): addresses,
    ("reports", "period_days"): whole(1),
    ("reports", "trend_periods"): whole(1),
    # who may file a spam complaint (optdesk.feedback_loops)
    ("complaints", "senders"): complaint_senders,
    ("complaints", "authserv_ids"): authserv_ids,
    ("complaints", "require_authentication"): flag,
    # the one-click endpoint (optdesk.serve)
    ("serve", "host"): nonempty,
    ("serve", "port"): port,
    ("serve", "rate_per_second"): number(0, above=True),
    ("serve", "rate_burst"): whole(1),
    ("serve", "max_body_bytes"): whole(64),
    ("serve", "forwarded_allow_ips"): one_line,
}


def check_whole(settings) -> list[tuple[str, str]]:
    """Checks across settings, once every layer is applied: [(dotted key, reason)].

    The mailbox URL as the source will read it (with ``imap.allow_plaintext`` and
    ``imap.starttls``), the destination folders against the inbox an IMAP URL names (for the
    one ``mailbox`` or each ``[[mailboxes]]`` entry), and the SMTP URL and report schedule when
    they are not the defaults.
    """
    from optdesk.mailbox_settings import check_mailboxes

    if settings.mailboxes:
        found = check_mailboxes(settings)
    else:
        found = mailbox_problems(settings.mailbox, settings.imap, settings.folders)
    return found + _check_smtp_and_cron(settings)


def mailbox_problems(url: str, imap, folders: Mapping[str, str],
                     prefix: str = "") -> list[tuple[str, str]]:
    """The URL as the source reads it and the folders against its inbox: [(dotted key, reason)]."""
    from optdesk.errors import ConfigError

    found: list[tuple[str, str]] = []
    inbox = "INBOX"
    if url.lower().startswith(("imap:", "imaps:")):
        from optdesk.sources.imap_config import parse_imap_url

        try:
            inbox = parse_imap_url(url, imap).folder
        except ConfigError as exc:
            found.append((f"{prefix}mailbox" if not prefix else f"{prefix}url", str(exc)))
    for kind, name in folders.items():
        if name == inbox:
            found.append((f"{prefix}folders.{kind}", f"that is the inbox the daemon reads ({inbox})"))
    return found


def _check_smtp_and_cron(settings) -> list[tuple[str, str]]:
    from optdesk.errors import ConfigError

    found: list[tuple[str, str]] = []
    if settings.smtp.url != type(settings.smtp)().url:
        from optdesk.outgoing.smtp import parse_smtp_url

        try:
            parse_smtp_url(settings.smtp.url)
        except ConfigError as exc:
            found.append(("smtp.url", str(exc)))
    if settings.reports.cron != type(settings.reports)().cron:
        from optdesk.daemon.crontab import report_trigger

        try:
            report_trigger(settings)
        except ConfigError as exc:
            found.append(("reports.cron", str(exc)))
    return found
