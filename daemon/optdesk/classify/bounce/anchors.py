"""Where a pattern can start: a cheap way to run many case-insensitive patterns over one text.

A case-insensitive pattern that begins with ``\\b`` (most ``bounce_reason`` patterns do) gets
no help from the regex engine: ``search`` tries every branch at every position of the text.
But every match of ``\\b(user|address)( name)? (is )?unknown`` starts with one of a few
literal strings ("user", "address"). ``AnchorIndex`` collects those prefixes of every pattern
into one case-sensitive trie regex over the lower-cased text, whose first characters the
engine skips to in C. Each pattern is then tried with ``match`` only where one of its prefixes
occurs. ``match`` at a position gives exactly what ``search`` would find there, so the leftmost
match is the same one too.

This holds only when lower-casing the text tells case-insensitive equality the way the regex
engine does. A few characters break that: those ``str.lower`` maps differently from the
engine's simple lowercase mapping (U+0130 becomes two characters), and those the engine treats
as equal to another letter besides its own cases (U+017F long s is ``s``, U+03C2 final sigma is
``σ``; see ``re._casefix``). ``plain_case`` is false for a text that contains one of them, and
callers then search the old way. A pattern with such a character in its prefix gets no
prefixes and is always searched.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

try:  # Python 3.11+
    from re import _constants as C
    from re import _parser as sre_parse
except ImportError:  # pragma: no cover - older layout
    import sre_constants as C  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

# Every character (beyond ASCII) where str.lower disagrees with the regex engine's
# case-insensitive matching: its lowercase (the engine's) is in re._casefix, or str.lower gives
# something else than the engine's lowercase. Computed over all of Unicode by
# tests/classify/test_bounce_anchors.py, which checks this constant against the running Python.
RISKY = frozenset(
    "\xb5\u0130\u0131\u017f\u0345\u0390\u0392\u0395\u0398\u0399\u039a\u039c\u03a0\u03a1\u03a3"
    "\u03a6\u03b0\u03b2\u03b5\u03b8\u03b9\u03ba\u03bc\u03c0\u03c1\u03c2\u03c3\u03c6\u03d0\u03d1"
    "\u03d5\u03d6\u03f0\u03f1\u03f4\u03f5\u0412\u0414\u041e\u0421\u0422\u042a\u0432\u0434\u043e"
    "\u0441\u0442\u044a\u0462\u0463\u1c80\u1c81\u1c82\u1c83\u1c84\u1c85\u1c86\u1c87\u1c88\u1e60"
    "\u1e61\u1e9b\u1fbe\u1fd3\u1fe3\ua64a\ua64b\ufb05\ufb06"
)
_RISKY_CHAR = re.compile("[" + "".join(sorted(RISKY)) + "]")

_LIMIT = 256  # prefixes per pattern, at most
_CLASS = 12  # a character class of more characters ends the prefix
WIDTH = 8  # prefixes are cut to this length: a smaller trie, a few more tries of a pattern
_ZERO_WIDTH = (C.AT, C.ASSERT, C.ASSERT_NOT)
_REPEATS = tuple(op for op in (C.MAX_REPEAT, C.MIN_REPEAT, getattr(C, "POSSESSIVE_REPEAT", None))
                 if op is not None)


def plain_case(text: str, lowered: str) -> bool:
    """``lowered`` (``text.lower()``) tells case-insensitive equality as the regex engine does."""
    return text.isascii() or (len(lowered) == len(text) and not _RISKY_CHAR.search(text))


def _char(code: int) -> str | None:
    ch = chr(code)
    return None if ch in RISKY else ch.lower()


def _item(op, av, width: int) -> tuple[set[str] | None, bool]:
    """(the strings this item can consume — all of them when complete —, complete)."""
    if op is C.LITERAL:
        ch = _char(av)
        return ({ch}, True) if ch is not None else (None, False)
    if op in _ZERO_WIDTH:
        return {""}, True
    if op is C.IN:
        chars: set[str] = set()
        for kind, value in av:
            codes = [value] if kind is C.LITERAL else (
                range(value[0], value[1] + 1) if kind is C.RANGE and value[1] - value[0] < _CLASS
                else None)
            if codes is None:
                return None, False  # NEGATE, CATEGORY, a wide range
            for code in codes:
                ch = _char(code)
                if ch is None:
                    return None, False
                chars.add(ch)
        return chars, True
    if op is C.SUBPATTERN:
        return _sequence(av[-1], width)
    if op is getattr(C, "ATOMIC_GROUP", None):
        return _sequence(av, width)
    if op is C.BRANCH:
        out: set[str] = set()
        complete = True
        for branch in av[1]:
            strings, whole = _sequence(branch, width)
            if strings is None:
                return None, False
            out |= strings
            complete = complete and whole
        return (out, complete) if len(out) <= _LIMIT else (None, False)
    if op in _REPEATS:
        low, high, sub = av
        strings, whole = _sequence(sub, width)
        if strings is None:
            return None, False
        if (low, high) == (0, 1):
            return strings | {""}, whole
        if low >= 1:
            return strings, False  # the first time round; what follows is not known
        return None, False
    return None, False


def _sequence(items, width: int) -> tuple[set[str], bool]:
    """Strings every match of the sequence starts with, and whether they are all it consumes.
    Once every string is ``width`` long, what follows is not looked at: the strings are cut to
    ``width`` and count as complete, since whatever a caller appends to them is cut off again."""
    found = {""}
    for op, av in items:
        if all(len(s) >= width for s in found):
            return {s[:width] for s in found}, True
        strings, whole = _item(op, av, width)
        if strings is None:
            return found, False
        longer = {a + b for a in found for b in strings}
        if len(longer) > _LIMIT:
            return found, False
        found = longer
        if not whole:
            return found, False
    return found, True


def parse(pattern: re.Pattern[str]):
    """The parsed pattern (sre_parse), None when the parser refuses it."""
    try:
        return sre_parse.parse(pattern.pattern, pattern.flags)
    except Exception:  # noqa: BLE001 - whatever the parser refuses is searched as it is
        return None


def prefixes(pattern: re.Pattern[str], width: int = WIDTH, parsed=None) -> frozenset[str] | None:
    """Lower-case strings, at most ``width`` long, that every match of ``pattern`` starts with
    (on the lower-cased text); None when some match may start otherwise (or no such set is
    known). ``parsed``: the pattern already parsed (``parse``)."""
    if parsed is None:
        parsed = parse(pattern)
        if parsed is None:
            return None
    found, _ = _sequence(list(parsed), width)
    if not found or "" in found:
        return None
    return frozenset(s[:width] for s in found)


def _trie(words: Sequence[str]) -> str:
    """One regex matching, at a position, the longest of ``words`` that starts there."""
    root: dict = {}
    for word in words:
        node = root
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}

    def build(node: dict) -> str:
        kids = sorted(k for k in node if k)
        if not kids:
            return ""
        alternatives = [re.escape(k) + build(node[k]) for k in kids]
        body = alternatives[0] if len(alternatives) == 1 else "(?:" + "|".join(alternatives) + ")"
        if "" in node:  # a word ends here: longer first (greedy), else this one
            body = f"(?:{body})?" if len(alternatives) == 1 and len(body) > 1 else f"{body}?"
        return body

    return build(root)


class AnchorIndex:
    """The positions of a lower-cased text where each of ``patterns`` may start."""

    def __init__(self, patterns: Sequence[re.Pattern[str]], width: int = WIDTH,
                 parsed: Sequence | None = None) -> None:
        sets = []
        for pid, pattern in enumerate(patterns):
            tree = parsed[pid] if parsed is not None else parse(pattern)
            sets.append(prefixes(pattern, width, tree) if tree is not None else None)
        self._build(sets)

    @classmethod
    def of_strings(cls, sets: Sequence[frozenset[str] | None]) -> AnchorIndex:
        """An index of entry ``i`` at every occurrence of one of ``sets[i]`` (lower-case
        strings; None: anywhere, see ``unanchored``)."""
        index = cls.__new__(cls)
        index._build(sets)
        return index

    def _build(self, sets: Sequence[frozenset[str] | None]) -> None:
        self.size = len(sets)  # entries
        by_prefix: dict[str, set[int]] = {}
        unanchored = []
        for pid, found in enumerate(sets):
            if not found or "" in found:
                unanchored.append(pid)
                continue
            for prefix in found:
                by_prefix.setdefault(prefix, set()).add(pid)
        self.unanchored: tuple[int, ...] = tuple(unanchored)
        # the longest string at a position says which entries start there: its own and those
        # of every shorter string it starts with
        self.starting: dict[str, tuple[int, ...]] = {}
        for prefix in by_prefix:
            ids: set[int] = set()
            for end in range(1, len(prefix) + 1):
                ids |= by_prefix.get(prefix[:end], set())
            self.starting[prefix] = tuple(sorted(ids))
        self._scan = re.compile(_trie(sorted(by_prefix))) if by_prefix else None

    def hits(self, lowered: str, pos: int = 0) -> list[tuple[int, tuple[int, ...]]]:
        """(position, ids of the entries that may start there), positions in order, from
        ``pos`` on."""
        if self._scan is None:
            return []
        out = []
        search, starting = self._scan.search, self.starting
        while (m := search(lowered, pos)) is not None:
            start = m.start()
            out.append((start, starting[m.group()]))
            pos = start + 1
        return out

    def first(self, lowered: str) -> dict[int, int]:
        """Entry id → the first position where one of its strings occurs (entries that occur)."""
        out: dict[int, int] = {}
        for pos, ids in self.hits(lowered):
            for pid in ids:
                out.setdefault(pid, pos)
        return out


_LAST: tuple[str, str, bool] = ("", "", True)  # the last text lowered: (text, lowered, plain)


def lowered(text: str) -> tuple[str, bool]:
    """(``text.lower()``, ``plain_case``), the last text's kept: a notice is read several times
    in a row. (The tuple is replaced whole, so threads only ever see a consistent one.)"""
    global _LAST
    last = _LAST
    if last[0] is text:
        return last[1], last[2]
    low = text.lower()
    plain = plain_case(text, low)
    _LAST = (text, low, plain)
    return low, plain


class Anchored:
    """``pattern.search`` and ``pattern.finditer``, the same matches, ``match`` tried only
    where the pattern may start (a case-insensitive pattern the engine cannot scan for)."""

    def __init__(self, pattern: re.Pattern[str], width: int = WIDTH) -> None:
        self.pattern = pattern
        found = prefixes(pattern, width)
        self._scan = AnchorIndex.of_strings([found])._scan if found else None

    def search(self, text: str, pos: int = 0) -> re.Match[str] | None:
        if self._scan is None:
            return self.pattern.search(text, pos)
        low, plain = lowered(text)
        if not plain:
            return self.pattern.search(text, pos)
        return self._search(text, low, pos)

    def _search(self, text: str, low: str, pos: int) -> re.Match[str] | None:
        scan, match = self._scan.search, self.pattern.match
        while (m := scan(low, pos)) is not None:
            start = m.start()
            found = match(text, start)
            if found is not None:
                return found
            pos = start + 1
        return None

    def finditer(self, text: str) -> list[re.Match[str]]:
        """The matches ``pattern.finditer`` gives, as a list. (Every match starts with a
        non-empty prefix, so none is empty: each search goes on where the last match ended.)"""
        if self._scan is None:
            return list(self.pattern.finditer(text))
        low, plain = lowered(text)
        if not plain:
            return list(self.pattern.finditer(text))
        out, pos = [], 0
        while (m := self._search(text, low, pos)) is not None:
            out.append(m)
            pos = m.end()
        return out


_ANCHORED: dict[int, tuple[re.Pattern[str], Anchored]] = {}


def anchored(pattern: re.Pattern[str]) -> Anchored:
    """The ``Anchored`` of a compiled pattern, built once (kept by the pattern's identity)."""
    entry = _ANCHORED.get(id(pattern))
    if entry is None or entry[0] is not pattern:
        entry = (pattern, Anchored(pattern))
        _ANCHORED[id(pattern)] = entry
    return entry[1]
