"""Subject prefixes, whitespace normalisation and a small language guesser for decisions."""

from __future__ import annotations

import re
from collections.abc import Iterable

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'"})
_REPLY_PREFIX = re.compile(
    r"^\s*((re|aw|sv|vs|wg|fw|fwd|tr|rv|r|ref|res|enc|antw|doorst|odp|vl|vs|ynt|fs|v)\s*(\[\d+\])?\.?\s*:\s*)+",
    re.IGNORECASE
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


def normalise(text: str) -> str:
    """Typographic apostrophes to ASCII and runs of spaces to one; line breaks are kept."""
    return re.sub(r"[ \t\u00a0]+", " ", text.translate(_APOSTROPHES))


def is_reply_subject(subject: str) -> bool:
    """True when the subject starts with Re:/AW:/Fwd:… (it then repeats our own subject)."""
    return bool(_REPLY_PREFIX.match(subject))


def strip_reply_prefix(subject: str) -> str:
    """Subject without Re:/AW:/Fwd:… prefixes."""
    return _REPLY_PREFIX.sub("", subject).strip()


def guess_language(text: str, minimum: int = 2, among: Iterable[str] | None = None) -> str | None:
    """The language whose common words occur most in ``text`` (None when nothing stands out)."""
    words = [w.lower() for w in _WORD.findall(text[:4000])]
    candidates = [lang for lang in (among or _STOP) if lang in _STOP]
    if not words or not candidates:
        return None
    scores = {lang: sum(1 for w in words if w in _STOP[lang]) for lang in candidates}
    best = max(scores, key=scores.__getitem__)
    return best if scores[best] >= minimum else None
