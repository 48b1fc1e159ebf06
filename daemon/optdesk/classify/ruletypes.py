"""The rule types: a name-keyed table of field specs. Unknown types and fields are refused.

Each entry documents itself (``doc``); rules/README.md must describe every type (a test checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from optdesk.classify.bounce_reasons import FAMILIES, REASONS

FLAGS = re.IGNORECASE | re.MULTILINE
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "sv", "da", "no", "fi", "pl", "cs", "any")


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # str, float, int, bool, regex, regexes, choice, codes (DSN status codes)
    required: bool = False
    default: Any = None
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSpec:
    doc: str
    fields: dict[str, FieldSpec]
    check: Callable[[dict[str, Any]], str | None] | None = None  # returns a reason or None


def _req(kind: str, choices: tuple[str, ...] = ()) -> FieldSpec:
    return FieldSpec(kind, True, None, choices)


def _opt(kind: str, default: Any, choices: tuple[str, ...] = ()) -> FieldSpec:
    return FieldSpec(kind, False, default, choices)


def _has_date_group(values: dict[str, Any]) -> str | None:
    for pattern in values["patterns"]:
        if "date" not in pattern.groupindex:
            return f"pattern {pattern.pattern!r} has no (?P<date>...) group"
    return None


def _unit_interval(name: str) -> Callable[[dict[str, Any]], str | None]:
    def check(values: dict[str, Any]) -> str | None:
        if not 0.0 <= values[name] <= 1.0:
            return f"{name} must be between 0 and 1, got {values[name]}"
        return None

    return check


def _scoring(values: dict[str, Any]) -> str | None:
    for name in ("weight", "half_life_days", "threshold"):
        if values[name] <= 0:
            return f"{name} must be positive, got {values[name]}"
    return None


def _bounce_reason(values: dict[str, Any]) -> str | None:
    family = REASONS[values["reason"]][0]
    if values["family"] != family:
        return f"reason {values['reason']!r} belongs to family {family!r}, not {values['family']!r}"
    if not values["patterns"] and not values["status"]:
        return "give patterns, status codes or both"
    confirms = (values["confirm_command"] != "none" or values["confirm_status"]
                or values["confirm_named"])
    if bool(confirms) != (values["else_reason"] != "none"):
        return "else_reason goes with confirm_command or confirm_status, and they with it"
    return None


_COMMANDS = ("any", "connect", "mail", "rcpt", "data")
_LANG = _req("choice", LANGUAGES)
_CONF = "confidence"

RULE_TYPES: dict[str, RuleSpec] = {
    "auto_reply_header": RuleSpec(
        "A header whose value marks an automatic reply (RFC 3834 Auto-Submitted, X-Autoreply, "
        "Precedence …). `unless` is a value pattern that cancels it (Auto-Submitted: no).",
        {"header": _req("str"), "pattern": _req("regex"), "unless": _opt("regex", None),
         _CONF: _opt("float", 0.99)},
        _unit_interval(_CONF),
    ),
    "auto_reply_subject": RuleSpec(
        "Subject patterns of out-of-office and other automatic replies.",
        {"language": _LANG, "patterns": _req("regexes"), _CONF: _opt("float", 0.95)},
        _unit_interval(_CONF),
    ),
    "auto_reply_body": RuleSpec(
        "Body patterns of out-of-office notices, matched in the new text. `leaver: true` marks a "
        "notice that the person has left (the address is gone).",
        {"language": _LANG, "patterns": _req("regexes"), _CONF: _opt("float", 0.85),
         "leaver": _opt("bool", False)},
        _unit_interval(_CONF),
    ),
    "return_date": RuleSpec(
        "Where an automatic reply states the return date; each pattern has a (?P<date>…) group "
        "that the date reader parses (numeric dates, ISO dates, month names in 7 languages).",
        {"language": _LANG, "patterns": _req("regexes")},
        _has_date_group,
    ),
    "bounce_gate": RuleSpec(
        "What makes a message look like a bounce, so that flufl.bounce runs on it. `field` is "
        "sender (local part of From), sender_name, subject, content_type or header:NAME. A weak "
        "gate alone gives lower confidence.",
        {"field": _req("str"), "patterns": _req("regexes"),
         "strength": _opt("choice", "strong", ("strong", "weak"))},
        lambda v: None if v["field"] in ("sender", "sender_name", "subject", "content_type")
        or v["field"].startswith("header:") else f"unknown field {v['field']!r}",
    ),
    "bounce_reason": RuleSpec(
        "One reason a recipient's delivery failed, as sisimai names them (userunknown, "
        "mailboxfull, blocked …): `patterns` in the server's reply and the notice's text, "
        "`status` the DSN status codes that mean it when no pattern matches, `command` the SMTP "
        "command the reply must answer (data, rcpt …) and `unless_command` one it must not, "
        "`when_status` the status codes it needs, `unless_status` codes that rule it out; "
        "with `else_reason`, the reason holds only when `confirm_command`, `confirm_status` or "
        "`confirm_named` (the reply names the recipient: `<address>: …`) confirms it, else it "
        "is `else_reason`. `family` must be the reason's family (gone, trouble, filtered, "
        "sending, none); it decides the effect.",
        {"family": _req("choice", tuple(FAMILIES)), "reason": _req("choice", tuple(REASONS)),
         "patterns": _opt("regexes", ()), "status": _opt("codes", ()),
         "priority": _opt("int", 0), "when_status": _opt("codes", ()),
         "unless_status": _opt("codes", ()), "command": _opt("choice", "any", _COMMANDS),
         "unless_command": _opt("choice", "none", ("none", *_COMMANDS[1:])),
         "confirm_command": _opt("choice", "none", ("none", *_COMMANDS[1:])),
         "confirm_status": _opt("codes", ()), "confirm_named": _opt("bool", False),
         "else_reason": _opt("choice", "none", ("none", *REASONS))},
        _bounce_reason,
    ),
    "footer": RuleSpec(
        "First line of our own mail footer; the reply text is cut from there.",
        {"patterns": _req("regexes")},
    ),
    "quote_marker": RuleSpec(
        "Extra lines that start quoted text (added to the built-in attribution and Outlook "
        "markers); the reply text is cut from there.",
        {"patterns": _req("regexes")},
    ),
    "bounce_scoring": RuleSpec(
        "Soft-bounce scoring used by the daemon: each soft bounce adds `weight`, the score "
        "halves every `half_life_days`, and an address is undeliverable at `threshold`. One only.",
        {"weight": _req("float"), "half_life_days": _req("float"), "threshold": _req("float")},
        _scoring,
    ),
}


@dataclass(frozen=True)
class Rule:
    """One validated rule; ``values`` holds every field of its type (defaults filled in)."""

    id: str
    type: str
    file: str
    line: int
    values: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def __post_init__(self) -> None:
        for name, value in self.values.items():  # plain attributes: fast access in hot loops
            if name not in ("id", "type", "file", "line", "values", "description"):
                object.__setattr__(self, name, value)

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["values"][name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def location(self) -> str:
        return f"{self.file}:{self.line}"
