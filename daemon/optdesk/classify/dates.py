"""Read a return date ("back on 12 December", "jusqu'au 3/1", "bis 05.01.2027") in 7 languages."""

from __future__ import annotations

import re
from datetime import date, timedelta

MONTHS = {
    1: "january jan janvier janv januar jän enero ene gennaio gen januari januari janeiro",
    2: "february feb février fevrier févr fev februar febrero febbraio febr februari fevereiro",
    3: "march mar mars märz marz marzo maart março marco",
    4: "april apr avril avr abril aprile",
    5: "may mai mayo maggio mag mei maio",
    6: "june jun juin juni junio giugno giu junho",
    7: "july jul juillet juil juli julio luglio lug julho",
    8: "august aug août aout agosto augustus",
    9: "september sep sept septembre septiembre settembre set setembro",
    10: "october oct octobre oktober okt octubre ottobre ott outubro out",
    11: "november nov novembre noviembre novembro",
    12: "december dec décembre decembre déc dezember dez diciembre dic dicembre dezembro",
}
_MONTH = {name: num for num, names in MONTHS.items() for name in names.split()}
_NAMES = "|".join(sorted((re.escape(n) for n in _MONTH), key=len, reverse=True))
_ISO = re.compile(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b")
_NUMERIC = re.compile(r"\b(\d{1,2})[./-](\d{1,2})(?:[./-](\d{4}|\d{2}))?\b")
_DAY_MONTH = re.compile(
    rf"\b(\d{{1,2}})(?:st|nd|rd|th|er|e|\.|º|°)?\s+(?:de\s+)?({_NAMES})\.?(?:\s+(?:de\s+)?(\d{{4}}))?\b",
    re.IGNORECASE,
)
_MONTH_DAY = re.compile(
    rf"\b({_NAMES})\.?\s+(\d{{1,2}})(?:st|nd|rd|th)?\b(?:,?\s+(\d{{4}}))?", re.IGNORECASE
)


def _build(year: int | None, month: int, day: int, today: date) -> date | None:
    try:
        if year is not None:
            return date(year + 2000 if year < 100 else year, month, day)
        candidate = date(today.year, month, day)
        if candidate < today - timedelta(days=7):
            candidate = date(today.year + 1, month, day)
        return candidate
    except ValueError:
        return None


def _num(value: str | None) -> int | None:
    return int(value) if value else None


def read_date(text: str, language: str, today: date) -> date | None:
    """The first date in ``text``. Numeric dates are day-first, except month-first for English
    when the first number could be a month. A missing year means the next such day from today."""
    candidates = []
    for regex in (_ISO, _DAY_MONTH, _MONTH_DAY, _NUMERIC):
        m = regex.search(text)
        if m:
            candidates.append((m.start(), regex, m))
    for _, regex, m in sorted(candidates, key=lambda c: c[0]):
        found = _from_match(regex, m, language, today)
        if found is not None:
            return found
    return None


def _from_match(regex: re.Pattern[str], m: re.Match[str], language: str, today: date) -> date | None:
    if regex is _ISO:
        return _build(int(m[1]), int(m[2]), int(m[3]), today)
    if regex is _DAY_MONTH:
        return _build(_num(m[3]), _MONTH[m[2].lower()], int(m[1]), today)
    if regex is _MONTH_DAY:
        return _build(_num(m[3]), _MONTH[m[1].lower()], int(m[2]), today)
    first, second = int(m[1]), int(m[2])
    if language == "en" and first <= 12:
        first, second = second, first
    return _build(_num(m[3]), second, first, today)
