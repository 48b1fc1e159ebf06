"""The bounce gate: which messages may be delivery notices at all (``bounce_gate`` rules).

Only a message that passes the gate is read as a bounce; a reply that merely quotes a bounce, or
talks about one, does not pass (no null sender, no report type, no notice subject or sender).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from optdesk.classify.bounce.anchors import AnchorIndex, lowered
from optdesk.classify.context import Context
from optdesk.classify.prefilter import combined
from optdesk.classify.ruletypes import Rule


def _gate_value(ctx: Context, field: str) -> str:
    mail = ctx.mail
    if field == "sender":
        return (mail.sender or "").split("@", 1)[0]
    if field == "sender_name":
        return mail.sender_name
    if field == "subject":
        return mail.subject
    if field == "content_type":
        return f"{mail.content_type}; report-type={mail.report_type or ''}"
    return mail.header(field.split(":", 1)[1])


class _Group(NamedTuple):
    """Consecutive gate rules on the same field, and two quick tests of whether any of their
    patterns can match a value: ``literals``, a scanner for the strings every match of some
    pattern contains (prefilter.required_literals; None when one pattern needs none), on the
    lower-cased value; else ``quick``, one alternation of all their patterns, which matches
    somewhere exactly when one of them does (None when it cannot stand for them)."""

    field: str
    literals: re.Pattern[str] | None
    quick: re.Pattern[str] | None
    rules: tuple[Rule, ...]


def _groups(ctx: Context) -> list[_Group]:
    """The gate rules in order, in groups (cached on the RuleSet)."""
    rules = ctx.rules
    cached = getattr(rules, "_bounce_gate_groups", None)
    if cached is not None:
        return cached
    runs: list[tuple[str, list[Rule]]] = []
    for rule in rules.of("bounce_gate"):
        if runs and runs[-1][0] == rule.field:
            runs[-1][1].append(rule)
        else:
            runs.append((rule.field, [rule]))
    groups = []
    for name, members in runs:
        patterns = [p for r in members for p in r.patterns]
        needed = combined((p.pattern, p.flags) for p in patterns)
        literals = AnchorIndex.of_strings([needed])._scan if needed else None
        quick = None
        # a backreference or a group condition would read another group in the alternation
        if literals is None and len(patterns) > 1 and len({p.flags for p in patterns}) == 1 \
                and not any(_BACKREF.search(p.pattern) for p in patterns):
            try:
                quick = re.compile("|".join(f"(?:{p.pattern})" for p in patterns),
                                   patterns[0].flags)
            except re.error:  # e.g. flags set inside a pattern: search them one by one
                quick = None
        groups.append(_Group(name, literals, quick, tuple(members)))
    rules._bounce_gate_groups = groups  # type: ignore[attr-defined]
    return groups


_BACKREF = re.compile(r"\\[1-9]|\\g<|\(\?P=|\(\?\(")


def _may_fire(group: _Group, value: str) -> bool:
    """False only when no pattern of the group matches ``value``."""
    if group.literals is not None:
        low, plain = lowered(value)
        if plain:
            return group.literals.search(low) is not None
    return group.quick is None or group.quick.search(value) is not None


def gate(ctx: Context) -> list[dict]:
    """Every gate signal that fired: rule id, field, matched text, strength."""
    hits = []
    if ctx.mail.null_sender:
        hits.append({"rule": "null-sender", "field": "return-path", "matched": "<>",
                     "strength": "weak"})
    for group in _groups(ctx):
        value = _gate_value(ctx, group.field)
        if not value or not _may_fire(group, value):
            continue
        for rule in group.rules:
            for pattern in rule.patterns:
                m = pattern.search(value)
                if m:
                    hits.append({"rule": rule.id, "field": rule.field, "matched": m.group(0)[:80],
                                 "strength": rule.strength})
                    break
    return hits
