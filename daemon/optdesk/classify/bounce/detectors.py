"""flufl.bounce's ``all_failures``, the same answer for less work.

``all_failures`` runs flufl.bounce's seventeen detectors in order until one finds an address.
Most of its time goes to SimpleMatch (and SimpleWarning, built on it). For each of its thirty
pattern sets, SimpleMatch walks the message again, re-reading every line, to find the line
that starts a block of failed addresses. Here the body lines are read once, and a pattern set is
skipped when none of the literal strings its start pattern needs (``prefilter``) occurs
in the lower-cased body: no line can start its block then, and flufl.bounce would read
through to the end without finding anything. Otherwise the set is read as flufl.bounce reads
it, line by line.

Qmail is skipped when none of its intro tags occurs in the body (it reads nothing before one
starts a line). Every other detector runs as flufl.bounce's own code, in flufl.bounce's order,
raising what it raises. This holds for the flufl.bounce whose SimpleMatch this follows (6.0.0). With any other
version, or if its internals have moved, ``all_failures`` is flufl.bounce's own.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from email.iterators import body_line_iterator
from email.message import Message
from itertools import accumulate, islice

import flufl.bounce
from flufl.bounce import all_failures as _flufl_all_failures

from optdesk.classify.bounce.anchors import AnchorIndex, plain_case
from optdesk.classify.prefilter import required_literals

KNOWN_VERSION = "6.0.0"

try:
    from flufl.bounce._detectors.qmail import Qmail
    from flufl.bounce._detectors.qmail import introtags as _QMAIL_INTROS
    from flufl.bounce._detectors.simplematch import VALID, ParseState, SimpleMatch, _quopri_decode
    from flufl.bounce._detectors.simplewarning import SimpleWarning
    from flufl.bounce._interfaces import NoPermanentFailures, NoTemporaryFailures
    from flufl.bounce._scan import _DETECTORS
except ImportError:  # pragma: no cover - another layout: flufl.bounce's own all_failures
    _DETECTORS = None

FAST = _DETECTORS is not None and getattr(flufl.bounce, "__version__", "") == KNOWN_VERSION

_LITERALS: dict[re.Pattern, frozenset[str] | None] = {}
_INDEXES: dict[int, tuple[list, AnchorIndex]] = {}
_GUARDS: dict[re.Pattern, tuple[tuple[str, ...], bool] | None] = {}


def _literals(pattern: re.Pattern) -> frozenset[str] | None:
    if pattern not in _LITERALS:
        _LITERALS[pattern] = required_literals(pattern.pattern, pattern.flags)
    return _LITERALS[pattern]


def _guard(pattern: re.Pattern) -> tuple[tuple[str, ...], bool] | None:
    """(strings of which a line must contain one for ``pattern`` to match in it, whether they
    are to be looked for in the lower-cased line), None when every line must be searched.
    The strings are the pattern's necessary literals (``prefilter``), ASCII only; without a
    letter among them case does not matter and the line is read as it is."""
    if pattern not in _GUARDS:
        found = _literals(pattern)
        guard = None
        if found and all(s and s.isascii() for s in found):
            guard = (tuple(sorted(found)), any(ch.isalpha() for s in found for ch in s))
        _GUARDS[pattern] = guard
    return _GUARDS[pattern]


def _may(guard: tuple[tuple[str, ...], bool] | None, line: str, low: str | None) -> bool:
    """False only when ``line`` (``low``: it lower-cased, None: unknown) cannot match."""
    if guard is None:
        return True
    strings, cased = guard
    if cased:
        if low is None:
            return True
        line = low
    for s in strings:
        if s in line:
            return True
    return False


def _index(patterns: list) -> AnchorIndex:
    """Where in a lower-cased body each pattern set's start pattern may match (its literals)."""
    entry = _INDEXES.get(id(patterns))
    if entry is None or entry[0] is not patterns:
        entry = (patterns, AnchorIndex.of_strings([_literals(scre) for scre, _, _ in patterns]))
        _INDEXES[id(patterns)] = entry
    return entry[1]


class _Body:
    """The lines flufl.bounce's ``body_line_iterator`` gives, read once, and lower-cased."""

    def __init__(self, msg: Message) -> None:
        self.msg = msg
        self._lines: list[str] | None = None
        self._lowered: str | None = None  # None: lower-casing would not tell (plain_case)
        self._starts: list[int] = []  # where each line starts in the joined lines
        self._low_lines: list[str] | None = None
        self.joined = ""

    @property
    def lines(self) -> list[str]:
        if self._lines is None:
            self._lines = list(body_line_iterator(self.msg))
            joined = "".join(self._lines)
            lowered = joined.lower()
            self.joined = joined
            self._lowered = lowered if plain_case(joined, lowered) else None
            self._starts = list(accumulate((len(line) for line in self._lines), initial=0))
        return self._lines

    def low_line(self, number: int) -> str | None:
        """Line ``number`` lower-cased; None when lower-casing would not tell (plain_case)."""
        if self._lowered is None:
            return None
        if self._low_lines is None:
            low, starts = self._lowered, self._starts
            self._low_lines = [low[starts[i]:starts[i + 1]] for i in range(len(starts) - 1)]
        return self._low_lines[number]

    def contains_any(self, strings) -> bool:
        """Some line contains one of ``strings`` (case kept), or they span two lines."""
        self.lines  # noqa: B018 - reads the body once
        return any(s in self.joined for s in strings)

    def first_lines(self, index: AnchorIndex) -> list[int | None] | None:
        """For each entry of ``index``, the first line that may contain one of its literals
        (no line before it contains one), None when no line does; None for all: every line."""
        if not self.lines or self._lowered is None:
            return None  # no body, or lower-casing would not tell: every line of every set
        lines: list[int | None] = [None] * index.size
        for pid, pos in index.first(self._lowered).items():
            lines[pid] = bisect_right(self._starts, pos) - 1
        return lines


def _simple(patterns, body: _Body) -> frozenset[bytes]:
    """SimpleMatch.process of flufl.bounce 6.0.0 over ``patterns``: its addresses."""
    index = _index(patterns)
    firsts = body.first_lines(index)
    addresses: set[bytes] = set()
    for number, (scre, ecre, acre) in enumerate(patterns):
        begin = 0 if firsts is None or number in index.unanchored else firsts[number]
        if begin is None:
            continue  # no line matches scre: the state never leaves start
        state = ParseState.start
        aguard, eguard = _guard(acre), _guard(ecre)
        # lines before ``begin`` cannot match scre: in the start state nothing else reads them.
        # In the tag_seen state acre and ecre are searched only in lines that hold one of their
        # necessary literals: in any other line the search finds nothing.
        for number_, line in enumerate(islice(body.lines, begin, None), begin):
            if state is ParseState.start and scre.search(line):
                state = ParseState.tag_seen
            if state is ParseState.tag_seen:
                low = body.low_line(number_) if aguard or eguard else None
                if _may(aguard, line, low) and (mo := acre.search(line)):
                    if address := mo.group("addr"):
                        addresses.add(_quopri_decode(address))
                elif _may(eguard, line, low) and ecre.search(line):
                    break
        if len(addresses) > 0:
            break
    new_addresses: set[bytes] = set()  # built as flufl.bounce builds it: the same set order
    for address in addresses:
        if VALID.match(address):
            new_addresses.add(address)
    return frozenset(new_addresses)


def all_failures(msg: Message) -> tuple[frozenset, frozenset]:
    """(temporary, permanent) failed addresses, as flufl.bounce's ``all_failures`` says."""
    if not FAST:
        return _flufl_all_failures(msg)
    body = _Body(msg)
    temporary_failures: set[bytes] = set()
    permanent_failures: set[bytes] = set()
    for detector_class in _DETECTORS:
        if detector_class is SimpleMatch:
            temporary, permanent = NoTemporaryFailures, _simple(SimpleMatch.PATTERNS, body)
        elif detector_class is SimpleWarning:
            temporary, permanent = _simple(SimpleWarning.PATTERNS, body), NoPermanentFailures
        elif detector_class is Qmail and not body.contains_any(_QMAIL_INTROS):
            # Qmail reads nothing until a line starts with one of its intro tags (case kept):
            # with none in the body it finds nothing
            temporary, permanent = NoTemporaryFailures, NoPermanentFailures
        else:
            temporary, permanent = detector_class().process(msg)
        temporary_failures.update(temporary)
        permanent_failures.update(permanent)
        if temporary or permanent:
            break
    return frozenset(temporary_failures), frozenset(permanent_failures)
