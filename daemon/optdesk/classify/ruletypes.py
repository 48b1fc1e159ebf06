"""The rule types: a name-keyed table of field specs. Unknown types and fields are refused.

Each entry documents itself (``doc``); rules/README.md must describe every type (a test checks).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

FLAGS = re.IGNORECASE | re.MULTILINE
LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "any")


@dataclass(frozen=True)
class FieldSpec:
    kind: str  # str, float, int, bool, regex, regexes, choice
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


_LANG = _req("choice", LANGUAGES)
_CONF = "confidence"

RULE_TYPES: dict[str, RuleSpec] = {
    "opt_out_phrase": RuleSpec(
        "Phrases asking to be removed, matched in the new text of a reply (and in the subject "
        "when subject is true). A match preceded by a negation of the same language is ignored.",
        {"language": _LANG, "patterns": _req("regexes"), _CONF: _opt("float", 0.9),
         "subject": _opt("bool", True)},
        _unit_interval(_CONF),
    ),
    "negation": RuleSpec(
        "Words that cancel an opt-out or opt-in phrase when they appear within `window` "
        "characters before (or after, or around) it, in the same clause.",
        {"language": _LANG, "patterns": _req("regexes"), "window": _opt("int", 30),
         "where": _opt("choice", "before", ("before", "after", "around"))},
    ),
    "opt_in_answer": RuleSpec(
        "Affirmative (answer: accept) or declining (answer: decline) phrases in a reply to an "
        "opt-in invitation.",
        {"language": _LANG, "answer": _req("choice", ("accept", "decline")),
         "patterns": _req("regexes"), _CONF: _opt("float", 0.9)},
        _unit_interval(_CONF),
    ),
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
        "Body patterns of out-of-office notices, matched in the new text.",
        {"language": _LANG, "patterns": _req("regexes"), _CONF: _opt("float", 0.85)},
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
    "bounce_diagnostic": RuleSpec(
        "Patterns in a failed recipient's diagnostic text. treat_as: policy (sender-side "
        "refusal, never counted against the contact), recipient (overrides policy: the address "
        "itself is bad) or soft (e.g. mailbox full: a soft bounce even when permanent).",
        {"treat_as": _req("choice", ("policy", "recipient", "soft")),
         "patterns": _req("regexes")},
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
