"""Phrase matching with negations, and a small language guesser."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from optdesk.classify.prefilter import may_match
from optdesk.classify.ruletypes import Rule

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})
_CLAUSE_END = re.compile(r"[.!?;:,\n]|\b(?:but|however|mais|aber|sondern|pero|maar|mas)\b", re.IGNORECASE)
_REPLY_PREFIX = re.compile(
    r"^\s*((re|aw|sv|wg|fw|fwd|tr|rv|r|ref|res|enc|antw|doorst)\s*(\[\d+\])?\s*:\s*)+", re.IGNORECASE
)

_STOPWORDS = {
    "en": "the and you please me my to of is this for not with your be from",
    "fr": "le la les je vous me de des et ne pas pour est une merci mon",
    "de": "der die das und ich sie mich nicht bitte ist ein eine mit von zu",
    "es": "el la los las y que de me por favor no una es mi para con",
    "it": "il la che di e non per mi una sono grazie della con",
    "nl": "de het een en ik niet van mij me is op te graag dat",
    "pt": "o a os que de e não me por favor uma para com obrigado",
}
_STOP = {lang: set(words.split()) for lang, words in _STOPWORDS.items()}
_WORD = re.compile(r"[^\W\d_]+", re.UNICODE)


@dataclass(frozen=True)
class PhraseMatch:
    """One pattern hit; ``negated_by`` names the negation rule that cancelled it, if any."""

    rule: Rule
    text: str
    start: int
    end: int
    where: str  # "body" or "subject"
    negated_by: str | None = None
    negation: str | None = None

    def to_dict(self) -> dict:
        out = {"rule": self.rule.id, "matched": self.text, "in": self.where}
        if self.negated_by:
            out.update(negated_by=self.negated_by, negation=self.negation)
        return out


def normalise(text: str) -> str:
    """Typographic apostrophes to ASCII and runs of spaces to one; line breaks are kept."""
    return re.sub(r"[ \t\u00a0]+", " ", text.translate(_APOSTROPHES))


def is_reply_subject(subject: str) -> bool:
    """True when the subject starts with Re:/AW:/Fwd:… (it then repeats our own subject)."""
    return bool(_REPLY_PREFIX.match(subject))


def strip_reply_prefix(subject: str) -> str:
    """Subject without Re:/AW:/Fwd:… prefixes."""
    return _REPLY_PREFIX.sub("", subject).strip()


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    before = [m.end() for m in _CLAUSE_END.finditer(text, 0, start)]
    after = _CLAUSE_END.search(text, end)
    return (before[-1] if before else 0), (after.start() if after else len(text))


def _negation(text: str, start: int, end: int, negations: Iterable[Rule]) -> tuple[str, str] | None:
    lo, hi = _clause_bounds(text, start, end)
    for rule in negations:
        windows = []
        if rule.where in ("before", "around"):
            windows.append(text[max(lo, start - rule.window) : start])
        if rule.where in ("after", "around"):
            windows.append(text[end : min(hi, end + rule.window)])
        for window in windows:
            for pattern in rule.patterns:
                m = pattern.search(window)
                if m:
                    return rule.id, m.group(0)
    return None


def find_phrases(
    rules: Iterable[Rule],
    text: str,
    negations: Iterable[Rule],
    where: str = "body",
    literals: frozenset[str] | None = None,
) -> list[PhraseMatch]:
    """Every rule hit in ``text`` (first hit per pattern), negated or not, in rule order.

    ``literals`` (RuleSet.literals) skips the regular expressions when none can match.
    """
    if not text or not may_match(literals, text.lower()):
        return []
    by_language: dict[str, list[Rule]] = {}
    for negation in negations:
        by_language.setdefault(negation.language, []).append(negation)
    found: list[PhraseMatch] = []
    for rule in rules:
        same_language = by_language.get(rule.language, []) + by_language.get("any", [])
        for pattern in rule.patterns:
            for m in pattern.finditer(text):
                neg = _negation(text, m.start(), m.end(), same_language)
                found.append(PhraseMatch(rule, m.group(0).strip(), m.start(), m.end(), where,
                                         *(neg or (None, None))))
                if neg is None:
                    break
    return found


def guess_language(text: str, minimum: int = 2, among: Iterable[str] | None = None) -> str | None:
    """The language whose common words occur most in ``text`` (None when nothing stands out)."""
    words = [w.lower() for w in _WORD.findall(text[:4000])]
    candidates = [lang for lang in (among or _STOP) if lang in _STOP]
    if not words or not candidates:
        return None
    scores = {lang: sum(1 for w in words if w in _STOP[lang]) for lang in candidates}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= minimum else None


def best_match(matches: list[PhraseMatch], text: str) -> PhraseMatch:
    """The most confident match; between equals, the one in the language the text is written in."""
    top = max(m.rule.confidence for m in matches)
    tied = [m for m in matches if m.rule.confidence == top]
    language = guess_language(text, 1, {m.rule.language for m in tied})
    return next((m for m in tied if m.rule.language == language), tied[0])
