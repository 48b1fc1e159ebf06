"""Necessary literals of a regular expression: a cheap "could it match at all?" test.

For a pattern, ``required_literals`` returns a set of lower-case strings such that every match
contains at least one of them (None when no such set is known, e.g. ``\\w+``). Checking a few
``in`` tests on the lower-cased text is far cheaper than running dozens of case-insensitive
regular expressions over every reply, and most replies contain none of the words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - older layout
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

_REPEATS = {C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", C.MAX_REPEAT)}
_ZERO_WIDTH = {C.AT}
_MAX_ALTERNATIVES = 64


def _best(candidates: list[frozenset[str]]) -> frozenset[str] | None:
    if not candidates:
        return None
    return max(candidates, key=lambda s: (min(len(x) for x in s), -len(s)))


def _sequence(items: Iterable) -> frozenset[str] | None:
    candidates: list[frozenset[str]] = []
    run = ""

    def close() -> None:
        nonlocal run
        if run:
            candidates.append(frozenset([run]))
        run = ""

    for op, av in items:
        if op is C.LITERAL:
            run += chr(av).lower()
            continue
        if op in _ZERO_WIDTH:
            continue
        close()
        inner = _item(op, av)
        if inner:
            candidates.append(inner)
    close()
    return _best(candidates)


def _item(op, av) -> frozenset[str] | None:
    if op is C.SUBPATTERN:
        return _sequence(av[-1])
    if op is C.BRANCH:
        parts = [_sequence(branch) for branch in av[1]]
        if any(p is None for p in parts):
            return None
        union = frozenset().union(*parts)
        return union if len(union) <= _MAX_ALTERNATIVES else None
    if op in _REPEATS:
        low, _high, sub = av
        return _sequence(sub) if low >= 1 else None
    if op is getattr(C, "ATOMIC_GROUP", None):
        return _sequence(av)
    return None  # IN, ANY, CATEGORY, NOT_LITERAL, lookarounds, group references …


def required_literals(pattern: str, flags: int = 0) -> frozenset[str] | None:
    """Lower-case strings of which every match contains one; None when unknown."""
    try:
        parsed = sre_parse.parse(pattern, flags)
    except Exception:
        return None
    found = _sequence(parsed.data if hasattr(parsed, "data") else list(parsed))
    return found


def combined(patterns: Iterable[tuple[str, int]]) -> frozenset[str] | None:
    """Union over several patterns (any may match); None as soon as one has no literals."""
    out: set[str] = set()
    for pattern, flags in patterns:
        found = required_literals(pattern, flags)
        if found is None:
            return None
        out |= found
    return frozenset(out)


_FEW = 8  # up to this many literals, ``in`` tests; more: one regex search for all of them
_SCANS: dict[frozenset[str], re.Pattern[str]] = {}


def _scan(literals: frozenset[str]) -> re.Pattern[str]:
    """One case-sensitive regex that matches where one of the literals occurs (a trie)."""
    scan = _SCANS.get(literals)
    if scan is None:
        from optdesk.classify.bounce.anchors import _trie  # bounce imports this module

        scan = _SCANS[literals] = re.compile(_trie(sorted(literals)))
    return scan


def scans_for(literal_sets) -> dict[frozenset[str], re.Pattern[str]]:
    """The scanning patterns of these literal sets (built now), to be stored with the rules."""
    for literals in literal_sets:
        if literals and len(literals) > _FEW and "" not in literals:
            _scan(literals)
    return dict(_SCANS)


def adopt_scans(scans: dict[frozenset[str], re.Pattern[str]]) -> None:
    """Use the scanning patterns stored with the prepared rules."""
    for literals, scan in scans.items():
        _SCANS.setdefault(literals, scan)


def may_match(literals: frozenset[str] | None, lowered: str) -> bool:
    """False only when none of the literals occurs in the (lower-cased) text."""
    if literals is None:
        return True
    if len(literals) <= _FEW or "" in literals:
        return any(map(lowered.__contains__, literals))
    return _scan(literals).search(lowered) is not None
