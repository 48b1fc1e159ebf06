"""Words and clauses of a reply, normalised for the intent lexicons.

``fold`` is the one normalisation of a word: case folded, accents removed, the letters that have
no decomposition spelt out (ß→ss, ø→o, æ→ae, ł→l …), typographic apostrophes made ASCII. Text
is cut into clauses at sentence punctuation, commas, paragraph breaks, a line break that ends a
sentence or starts a capitalised line, and at the clause-break words of the lexicons (but,
because, weil, car, porque …). Quotation marks are tracked so that reported speech can be told
apart from the writer's own request.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

_LETTERS = str.maketrans({
    "ß": "ss", "ẞ": "ss", "ø": "o", "Ø": "o", "æ": "ae", "Æ": "ae", "œ": "oe", "Œ": "oe",
    "ł": "l", "Ł": "l", "đ": "d", "Đ": "d", "þ": "th", "Þ": "th", "ð": "d", "ı": "i",
    "\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'",
    "\u2010": "-", "\u2011": "-", "\u2012": "-", "\u2013": "-", "\u00ad": "",
})
_WORD = re.compile(r"[^\W\d_]+(?:['-][^\W\d_]+)*|\d+")
_OPEN_QUOTES = "\"“„«‹”"
_CLOSE_FOR = {'"': '"', "“": "”", "„": "“", "«": "»", "‹": "›", "”": "”"}
_ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+|\b[\w-]+(?:\.[\w-]+)+/\S*|\b[\w-]+\.(?:com|org|net|info|eu|de|at|ch|fr|be|es|it|nl|pt|br|se|dk|no|fi|pl|cz|uk|ie|example)\b",
                  re.IGNORECASE)
LINK_TOKEN = "weblink"  # what a URL in the text reads as
ADDRESS_TOKEN = "emailaddress"  # what the sender's own (or their organisation's) address reads as
OTHER_ADDRESS_TOKEN = "otheraddress"  # an address elsewhere: someone else's
_SENTENCE_END = re.compile(r"[.!?;:…]\s*$")
# a full stop after a title or an initial ("Ms. Nowak", "p. Annę", "M. Dupont") ends no sentence
_TITLES = frozenset("mr mrs ms dr prof mag ing hr fr frau herr p pan pani panu m mme mlle sr sra srta "
                    "sig sigg dott dhr mevr mw tel resp".split())
_TITLE_BEFORE = re.compile(r"(?:^|[\s(])([^\W\d_]{1,5})$")
_CLAUSE_PUNCT = re.compile(r"[.!?;:,…]+|\s[-–—]+\s|\s*\n\s*\n\s*")


# the combining marks of the Combining Diacritical Marks block (U+0300–U+036F), where nearly
# every accent of the Latin scripts lands after NFKD; removed in one C-level pass
_COMMON_MARKS = {cp: None for cp in range(0x300, 0x370) if unicodedata.combining(chr(cp))}


@lru_cache(maxsize=65536)
def fold(word: str) -> str:
    """The comparable form of a word (or phrase): casefolded, without accents."""
    text = word.translate(_LETTERS).casefold().translate(_LETTERS)
    if text.isascii():
        return text  # NFKD changes no ASCII text, and ASCII has no combining marks
    text = unicodedata.normalize("NFKD", text).translate(_COMMON_MARKS)
    if text.isascii():
        return text
    return "".join(c for c in text if not unicodedata.combining(c))


@dataclass(frozen=True, slots=True)
class Token:
    text: str  # folded
    start: int  # offsets in the clause's source text
    end: int
    capital: bool  # written with a capital first letter (names, sentence starts)
    reported: bool  # inside quotation marks
    raw: str = ""  # lower-cased as written, accents kept (for stemming)


@dataclass(frozen=True)
class Clause:
    text: str
    tokens: tuple[Token, ...]
    question: bool  # ends with a question mark
    offset: int  # where it starts in the whole text
    continues: bool = False  # goes on the sentence of the clause before (after a comma or a "but")


def _single_quote_end(text: str, i: int) -> int:
    """Where a single quotation mark opened at ``i`` closes; -1 when the mark is an apostrophe
    (inside or before a word: "don't", "l'avis", Dutch "'s avonds") or never closes."""
    opener = text[i]
    if (i and not (text[i - 1].isspace() or text[i - 1] in "(:[")) or not text[i + 1:i + 2].isalpha() \
            or text[i + 1:i + 3] in ("s ", "t "):
        return -1
    closer = "’" if opener == "‘" else opener
    j = text.find(closer, i + 2)
    while j > 0 and (text[j - 1].isspace() or text[j + 1:j + 2].isalnum()):
        j = text.find(closer, j + 1)  # an apostrophe inside a word ("ik wil 't niet", "don't")
    return j


def _quoted_spans(text: str) -> list[tuple[int, int]]:
    spans, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch in "'‘":  # 'haal me van jullie lijst' — single quotation marks
            j = _single_quote_end(text, i)
            if 0 < j - i < 400 and "\n\n" not in text[i:j]:
                spans.append((i, j))
                i = j + 1
                continue
        if ch in _OPEN_QUOTES:
            close = _CLOSE_FOR.get(ch, ch)
            j = text.find(close, i + 1)
            if j < 0 and ch == "”":
                j = text.find("“", i + 1)
            if 0 < j - i < 400 and "\n\n" not in text[i:j]:
                spans.append((i, j))
                i = j + 1
                continue
        i += 1
    return spans


def _join_lines(text: str) -> str:
    """A single line break continues the sentence unless the line ended one or the next line
    starts with a capital (a name, a closing, a new sentence)."""
    lines = text.split("\n")
    out = [lines[0]]
    for line in lines[1:]:
        prev = out[-1]
        nxt = line.lstrip()
        if (prev.strip() and nxt and not _SENTENCE_END.search(prev) and nxt[0].islower()):
            out[-1] = prev.rstrip() + " " + nxt
        else:
            out.append(line)
    return "\n".join(out)


def split_words(text: str, joined: frozenset[str] = frozenset()) -> list[tuple[str, int, int, bool]]:
    """(folded word, start, end, capitalised) for each word of ``text``. Hyphenated words are
    split into their parts, but pairs of parts whose joined form is in ``joined`` (e-mail,
    opt-out) stay one word; an elided article or pronoun (l', m', dell') is its own word."""
    out = []
    for m in _WORD.finditer(text):
        raw = m.group(0)
        cap = raw[:1].isupper()
        if "'" not in raw and "-" not in raw:
            out.append((fold(raw), m.start(), m.end(), cap))
            continue
        folded = fold(raw)
        if folded.replace("-", "") in joined or folded in joined:
            out.append((folded if folded in joined else folded.replace("-", ""), m.start(), m.end(), cap))
            continue
        parts = re.split(r"([-'])", folded)
        words = [p for p in parts[::2]]
        seps = parts[1::2]
        i, pos = 0, m.start()
        while i < len(words):
            word = words[i]
            if i + 1 < len(words) and seps[i] == "-" and word + words[i + 1] in joined:
                word, width, i = word + words[i + 1], len(words[i]) + 1 + len(words[i + 1]), i + 2
            elif i + 1 < len(words) and seps[i] == "'" and (word + "'" + words[i + 1]) in joined:
                word, width, i = word + "'" + words[i + 1], len(words[i]) + 1 + len(words[i + 1]), i + 2
            else:
                width, i = len(word), i + 1
            if word:
                out.append((word, pos, pos + width, cap and pos == m.start()))
            pos += width + 1
    return out


def _address_word(address: str, sender: str | None) -> str:
    if sender is None or address.lower().rsplit("@", 1)[-1] == sender.lower().rsplit("@", 1)[-1]:
        word = ADDRESS_TOKEN
    else:
        word = OTHER_ADDRESS_TOKEN
    return word.ljust(len(address))


def clauses(text: str, breaks: frozenset[str] = frozenset(),
            joined: frozenset[str] = frozenset(), sender: str | None = None,
            unbroken: frozenset[str] = frozenset()) -> list[Clause]:
    """The clauses of ``text`` (see the module docstring). An e-mail address reads as one word:
    the writer's own (same domain as ``sender``) or another's."""
    text = _join_lines(text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _ADDRESS.sub(lambda m: _address_word(m.group(0), sender), text)
    text = _URL.sub(lambda m: LINK_TOKEN.ljust(len(m.group(0))), text)
    quoted = _quoted_spans(text)
    found: list[Clause] = []
    pos = 0
    pieces = []
    before = ""  # the punctuation that ended the piece before
    for m in _CLAUSE_PUNCT.finditer(text):
        if m.group(0) == "." and m.end() < len(text) and text[m.end():m.end() + 1] == " ":
            title = _TITLE_BEFORE.search(text, max(0, m.start() - 6), m.start())
            if title and title.group(1).lower() in _TITLES:
                continue
        pieces.append((pos, m.start(), "?" in m.group(0), before.strip() == ","))
        pos, before = m.end(), m.group(0)
    pieces.append((pos, len(text), False, before.strip() == ","))
    for lo, hi, question, after_comma in pieces:
        chunk = text[lo:hi]
        if not chunk.strip():
            if question and found:  # "remove me?" split before the mark
                last = found[-1]
                found[-1] = Clause(last.text, last.tokens, True, last.offset, last.continues)
            continue
        if "\n" in chunk:  # a line break left after joining ends a sentence
            sub, start = [], 0
            for line in chunk.split("\n"):
                sub.append((lo + start, lo + start + len(line), False))
                start += len(line) + 1
            sub[-1] = (sub[-1][0], sub[-1][1], question)
        else:
            sub = [(lo, hi, question)]
        for n, (a, b, q) in enumerate(sub):
            words = split_words(text[a:b], joined)
            if not words:
                continue
            current: list[Token] = []
            cstart = a
            goes_on = after_comma and n == 0
            for word, s, e, cap in words:
                written = text[a + s : a + e].lower()
                form = written if len(word) <= 3 else word
                if form in breaks and current and f"{current[-1].text} {form}" not in unbroken:
                    found.append(_clause(text, cstart, a + s, current, False, goes_on))
                    current, cstart, goes_on = [], a + s, True
                rep = bool(quoted) and any(qs < a + s < qe for qs, qe in quoted)
                current.append(Token(word, a + s - cstart, a + e - cstart, cap, rep,
                                     written if fold(written) == word else word))
            if current:
                found.append(_clause(text, cstart, b, current, q, goes_on))
    return found


def _clause(text: str, start: int, end: int, tokens: list[Token], question: bool,
            continues: bool = False) -> Clause:
    # offsets of tokens are relative to ``start``
    return Clause(text[start:end].strip(), tuple(tokens), question, start, continues)
