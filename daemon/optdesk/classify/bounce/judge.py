"""The reason of one failed recipient, from the ``bounce_reason`` rules (rules/2x-bounce-*.yaml).

The texts are read in order of authority: the remote server's own reply (the DSN's
Diagnostic-Code, or the SMTP reply quoted in the notice), then the notice's paragraph about the
recipient, then the whole notice (when it is about one recipient), then the subject. The first
text in which some reason's pattern matches decides; among several reasons matching the same text
the one with the highest ``priority`` wins, then the one the DSN status code agrees with, then the
first loaded. When no pattern matches anywhere, the status code decides (the ``status`` lists of
the rules), else the default: ``undefined`` — a sending-side reason, so that a notice we cannot
read never counts against an address.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from optdesk.classify import prefilter
from optdesk.classify.bounce.anchors import AnchorIndex, parse, plain_case
from optdesk.classify.bounce_reasons import REASONS, describe, effect_of, family_of
from optdesk.classify.prefilter import may_match
from optdesk.classify.rules import RuleSet
from optdesk.classify.ruletypes import FLAGS, Rule

DEFAULT_REASON = "undefined"


@dataclass(frozen=True)
class Verdict:
    reason: str
    rule: str | None
    source: str  # diagnostic, paragraph, notice, subject, status, action, default
    matched: str = ""

    @property
    def family(self) -> str:
        return family_of(self.reason)

    @property
    def effect(self) -> str:
        return effect_of(self.reason)

    def as_dict(self) -> dict:
        return {"reason": self.reason, "family": self.family, "effect": self.effect,
                "rule": self.rule, "by": self.source, "matched": self.matched,
                "says": describe(self.reason)}


def status_in(codes: tuple[str, ...], status: str) -> bool:
    """``status`` is one of ``codes`` (x.1.1 stands for 4.1.1 and 5.1.1)."""
    if not status or not codes:
        return False
    return status in codes or (status[0] in "45" and "x" + status[1:] in codes)


def status_matches(rule: Rule, status: str) -> bool:
    return status_in(rule.status, status)


def combined_reasons(rules: RuleSet) -> dict[str, re.Pattern[str]]:
    """One alternation per rule (one search instead of one per pattern), cached on the RuleSet."""
    cache = getattr(rules, "_bounce_combined", None)
    if cache is None:
        cache = {}
        for rule in rules.of("bounce_reason"):
            if rule.patterns:
                try:
                    cache[rule.id] = re.compile("|".join(f"(?:{p.pattern})" for p in rule.patterns),
                                                FLAGS)
                except re.error:  # e.g. a group name used twice: search one by one
                    pass
        rules._bounce_combined = cache  # type: ignore[attr-defined]
    return cache


def _search(rules: RuleSet, rule: Rule, text: str) -> str | None:
    combined = combined_reasons(rules).get(rule.id)
    if combined is not None:
        m = combined.search(text)
        return m.group(0) if m else None
    for pattern in rule.patterns:
        m = pattern.search(text)
        if m:
            return m.group(0)
    return None


class _ReasonIndex:
    """The ``bounce_reason`` patterns behind one AnchorIndex (see anchors.py), cached on the
    RuleSet: which rules match a text, trying each pattern only where it may start."""

    def __init__(self, rules: RuleSet) -> None:
        self.rules = rules.of("bounce_reason")
        patterns, owner, first = [], [], []
        for index, rule in enumerate(self.rules):
            first.append(len(patterns))
            patterns.extend(rule.patterns)
            owner.extend([index] * len(rule.patterns))
        self.patterns: tuple[re.Pattern[str], ...] = tuple(patterns)
        self.owner: tuple[int, ...] = tuple(owner)
        self.first: tuple[int, ...] = tuple(first)
        self.position = {rule.id: i for i, rule in enumerate(self.rules)}  # ids survive a pickle
        trees = [parse(p) for p in patterns]
        self.anchors = AnchorIndex(patterns, parsed=trees)
        self.unanchored = frozenset(self.anchors.unanchored)
        # each rule's necessary literals, from the same parse: prefilter.combined, one parse less
        self.literals: list[frozenset[str] | None] = []
        for index, rule in enumerate(self.rules):
            out: set[str] | None = set()
            for tree in trees[self.first[index]:self.first[index] + len(rule.patterns)]:
                found = None if tree is None else prefilter._sequence(
                    tree.data if hasattr(tree, "data") else list(tree))
                if found is None:
                    out = None
                    break
                out |= found
            self.literals.append(None if out is None else frozenset(out))
        self.open = [bool(rule.patterns) for rule in self.rules]
        self.conditional = tuple(
            i for i, r in enumerate(self.rules)
            if r.patterns and (r.command != "any" or r.unless_command != "none"
                               or r.when_status or r.unless_status))

    @classmethod
    def of(cls, rules: RuleSet) -> _ReasonIndex:
        index = getattr(rules, "_bounce_index", None)
        if index is None:
            index = cls(rules)
            rules._bounce_index = index  # type: ignore[attr-defined]
        return index

    def candidates(self, text: str, lowered: str, command: str, status: str,
                   hits: list) -> list[tuple[Rule, str]]:
        """Like ``_candidates``; ``hits`` receives the anchor positions (for ``first_match``)."""
        eligible = list(self.open)
        for i in self.conditional:
            eligible[i] = _eligible(self.rules[i], command, status)
        hits.extend(self.anchors.hits(lowered))
        done = [False] * len(self.rules)
        owner, patterns = self.owner, self.patterns
        for pos, ids in hits:
            for pid in ids:
                i = owner[pid]
                if eligible[i] and not done[i] and patterns[pid].match(text, pos):
                    done[i] = True
        for pid in self.anchors.unanchored:
            i = owner[pid]
            if eligible[i] and not done[i] and patterns[pid].search(text):
                done[i] = True
        return [(rule, "") for i, rule in enumerate(self.rules)
                if done[i] and may_match(self.literals[i], lowered)]

    def first_match(self, rule: Rule, text: str, hits: list) -> str | None:
        """The leftmost match of the rule's first pattern that matches (``pattern.search``)."""
        start = self.first[self.position[rule.id]]
        for pid in range(start, start + len(rule.patterns)):
            pattern = self.patterns[pid]
            if pid in self.unanchored:
                m = pattern.search(text)
                if m:
                    return m.group(0)
                continue
            for pos, ids in hits:
                if pid in ids and (m := pattern.match(text, pos)):
                    return m.group(0)
        return None


def reason_index(rules: RuleSet) -> _ReasonIndex:
    """The ``bounce_reason`` index of these rules, built on first use and kept on the RuleSet."""
    return _ReasonIndex.of(rules)


def _eligible(rule: Rule, command: str, status: str) -> bool:
    """The rule's command and status conditions allow it (its patterns aside)."""
    if rule.command != "any" and rule.command != command:
        return False
    if rule.unless_command != "none" and rule.unless_command == command:
        return False
    if rule.when_status and not status_in(rule.when_status, status):
        return False
    return not (rule.unless_status and status_in(rule.unless_status, status))


def _candidates(rules: RuleSet, text: str, command: str, status: str) -> list[tuple[Rule, str]]:
    """Every rule that matches the text (its command and status conditions met), in order."""
    lowered = text.lower()
    found = []
    for rule in rules.of("bounce_reason"):
        if not rule.patterns or not may_match(rules.rule_literals(rule), lowered):
            continue
        if rule.command != "any" and rule.command != command:
            continue
        if rule.unless_command != "none" and rule.unless_command == command:
            continue
        if rule.when_status and not status_in(rule.when_status, status):
            continue
        if rule.unless_status and status_in(rule.unless_status, status):
            continue
        matched = _search(rules, rule, text)
        if matched is not None:
            found.append((rule, matched))
    return found


def _best(found: list[tuple[Rule, str]], status: str) -> tuple[Rule, str]:
    order = {id(r): i for i, (r, _) in enumerate(found)}
    return max(found, key=lambda item: (item[0].priority, status_matches(item[0], status),
                                        -order[id(item[0])]))


def _names(text: str, address: str) -> bool:
    """The server's reply names the recipient before its complaint: ``550 <address>: …`` or
    ``550 5.1.1 <address>... …`` (not the notice's own listing of the address), or the notice
    says RCPT TO for that address was the refused command."""
    pattern = r"\b[245]\d\d\b[^<>]{0,24}" + re.escape(f"<{address}>") + r"\s*(:|\.\.\.)"
    # or the notice reports the refused command for it: "RCPT TO: <address>" in its details
    command = r"\brcpt\s+to\s*:?\s*<?" + re.escape(address) + r">?(?![\w.@-])"
    return bool(address) and bool(re.search(pattern, text, re.IGNORECASE)
                                  or re.search(command, text, re.IGNORECASE))


def judge(rules: RuleSet, texts: list[tuple[str, str]], status: str = "",
          action: str = "", command: str = "", address: str = "") -> Verdict:
    """The verdict for one recipient. ``texts``: (source name, text) in order of authority."""
    if action in ("delivered", "relayed", "expanded"):
        return Verdict("delivered", None, "action", action)
    index = _ReasonIndex.of(rules)
    for source, raw in texts:
        text = normalise(raw)
        if not text:
            continue
        lowered = text.lower()
        hits: list = []
        fast = plain_case(text, lowered)
        found = (index.candidates(text, lowered, command, status, hits) if fast
                 else _candidates(rules, text, command, status))
        if found:
            rule, matched = _best(found, status)
            # the rule's first pattern that matches: the telling words
            first = index.first_match(rule, text, hits) if fast else next(
                (m.group(0) for m in (p.search(text) for p in rule.patterns) if m), None)
            matched = first if first is not None else matched
            reason = rule.reason
            if rule.else_reason != "none" and not (
                    (rule.confirm_command != "none" and rule.confirm_command == command)
                    or status_in(rule.confirm_status, status)
                    or (rule.confirm_named and not command and (not status or status.endswith(".0.0"))
                        and _names(text, address))):
                reason = rule.else_reason  # the wording alone does not confirm it
            return Verdict(reason, rule.id, source, " ".join(matched.split())[:160])
    if status:
        by_status = [r for r in rules.of("bounce_reason") if status_matches(r, status)
                     and r.command in ("any", command)]
        if by_status:
            rule = max(by_status, key=lambda r: r.priority)
            return Verdict(rule.reason, rule.id, "status", status)
    return Verdict(DEFAULT_REASON, None, "default", status)


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u00b4": "'", "`": "'"})


_CONTINUED = re.compile(r"(?<=\S) [245]\d\d[- ](?:[245]\.\d{1,3}\.\d{1,3} )?(?=\S)")


def normalise(text: str) -> str:
    """Runs of white space as one space, typographic apostrophes as ``'``, and the reply code
    that starts each line of a multi-line SMTP reply ("550-5.2.1 …") dropped but the first."""
    flat = " ".join((text or "").translate(_APOSTROPHES).split())
    return _CONTINUED.sub(" ", flat)


def known_reason(name: str) -> bool:
    return name in REASONS
