"""Intent lexicons: one YAML file per language under ``rules/intent/``, compiled into a matcher.

A lexicon file is a mapping: ``language`` (code), ``stemmer`` (a Snowball algorithm name, or
none) and one list of entries per category (CATEGORIES). An entry is one or more words:
``word`` matches the word after folding (case, accents), its Snowball stem in that language, and
for the categories in TYPO_CATEGORIES one typing error (a letter missing, added, changed or two
swapped) when the word has six letters or more; ``word*`` matches any word starting so,
``*word`` any longer word ending so (compounds: ``*liste`` matches "Presseliste"); ``*``
between words allows up to three other words there ("take * off" matches "take me off").
Errors name the file and line.
"""

from __future__ import annotations

import pathlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache, lru_cache

import yaml

from optdesk.classify.words import fold, split_words
from optdesk.errors import RuleError
from optdesk.yamlfile import compose_file

CATEGORIES = {
    "unsubscribe": "verbs and phrases that alone ask to leave a list (unsubscribe, opt out)",
    "remove": "removal verbs: a request with the writer or a list as object (remove, delete)",
    "stop": "stop verbs (stop, cease): a request with a sending verb",
    "send": "sending and contacting verbs (send, email, contact)",
    "receive": "receiving verbs (receive, get)",
    "want": "wanting verbs (want, wish, like)",
    "nouns": "opt-out nouns (unsubscription, removal, Abmeldung)",
    "terse": "words that ask to leave only when they are nearly the whole reply (out, enough)",
    "targets": "what is sent: list, mailing, newsletter, press releases, emails, these",
    "self": "the writer: me, us, my address, my data",
    "negators": "negations: not, no, never, no longer",
    "more": "more, anymore, again, any longer",
    "no_more": "phrases meaning no more (keine … mehr, plus de, basta)",
    "objection": "phrases that alone object to processing or ask for erasure (GDPR)",
    "authority": "data-protection laws and authorities (GDPR art. 15, CNIL, AEPD): a reply naming one goes to review",
    "question_words": "how, why, who … : a clause asking them is a question, not a request",
    "third_party": "someone else: colleague, he, she — a request about a third party",
    "restriction": "only, just, except: a request limited to one list",
    "mentions": "words after which 'unsubscribe' names a thing (link, button, page)",
    "requests": "request modals: could you, would you — a yes/no question holding them is a request",
    "keep": "keep, continue, instead: 'keep sending me the business news' asks for other mail",
    "politeness": "greetings, thanks, please, closings and fillers, ignored in terse replies",
    "clause_breaks": "words that start a new clause (but, because, since)",
    "affirm": "yes-words and phrases of an invitation answer",
    "decline": "no-words and refusals of an invitation answer",
    "hedges": "maybe, perhaps, if: an invitation answer that is not yet a yes",
    "acknowledge": "received, noted: an invitation answer that only acknowledges ('Ok, received') is no yes",
    "clitics": "pronoun endings joined to a verb that mean me/us (es: -me, it: -mi, pt: -me)",
}
STEM_CATEGORIES = {"unsubscribe", "remove", "stop", "send", "receive", "want", "targets"}
TYPO_CATEGORIES = {"unsubscribe", "remove", "nouns", "receive", "send"}
GAP = 3
CACHE = 200_000  # words and stems remembered across messages
TYPO_MIN = 6
LONG_TYPO = 9  # words this long forgive two typing errors, in the categories below
LONG_TYPO_CATEGORIES = {"unsubscribe", "nouns"}


@dataclass(frozen=True)
class WordPattern:
    text: str  # folded word, prefix or suffix; "" for a gap
    prefix: bool = False
    gap: bool = False
    raw: str = ""  # lower-cased as written, accents kept (for stemming)
    suffix: bool = False  # "*liste": any word ending so (compounds: mottakerlisten, Presseverteiler)


@dataclass(frozen=True)
class Entry:
    language: str
    category: str
    text: str  # as written
    words: tuple[WordPattern, ...]
    location: str  # file:line

    @property
    def key(self) -> str:
        return f"{self.language}:{self.category}:{self.text}"


@dataclass(frozen=True)
class Hit:
    entry: Entry
    start: int  # token index
    end: int  # exclusive
    typo: bool = False

    @property
    def category(self) -> str:
        return self.entry.category

    @property
    def language(self) -> str:
        return self.entry.language


def _index() -> defaultdict:
    return defaultdict(list)


@dataclass
class Lexicon:
    """Every language's entries, indexed for matching tokens."""

    entries: list[Entry] = field(default_factory=list)
    languages: dict[str, str | None] = field(default_factory=dict)  # language -> stemmer
    files: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._build()

    def _build(self) -> None:
        self._cache: dict[tuple[str, str], list[tuple[Entry, bool]]] = {}
        self._stems: dict[tuple[str, str], str] = {}
        self.exact: dict[str, list[Entry]] = defaultdict(list)
        self.prefixes: dict[str, list[Entry]] = defaultdict(list)
        self.suffixes: dict[str, list[Entry]] = defaultdict(list)
        self.stems: dict[str, dict[str, list[Entry]]] = defaultdict(_index)
        self.typos: dict[str, list[tuple[str, Entry]]] = defaultdict(list)
        self.words: set[str] = set()
        self.joined: set[str] = set()
        self.by_category: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            self.by_category[entry.category].append(entry)
            for wp in entry.words:
                if not wp.gap and not wp.prefix and not wp.suffix:
                    self.words.add(wp.text)
            first = entry.words[0]
            if first.prefix:
                self.prefixes[first.text].append(entry)
                continue
            if first.suffix:
                self.suffixes[first.text].append(entry)
                continue
            self.exact[first.text].append(entry)
            if entry.category in STEM_CATEGORIES and len(first.text) >= 4:
                stem = self.stem(entry.language, first.raw or first.text)
                if stem:
                    self.stems[entry.language][stem].append(entry)
            if entry.category in TYPO_CATEGORIES and len(first.text) >= TYPO_MIN:
                # the word's deletions meet a token's: a letter changed or missing ("afmlden");
                # the word itself meets a token's deletion: a letter added ("afmeleden")
                for variant in _deletions(first.text) | {first.text}:
                    self.typos[variant].append((first.text, entry))
        for entry in self.entries:
            for part in entry.text.split():
                folded = fold(part)
                if "-" in folded or "'" in folded:
                    self.joined.add(folded.replace("-", ""))
                    self.joined.add(folded)
        self.joined_set = frozenset(self.joined)
        self.prefix_lengths = sorted({len(p) for p in self.prefixes})
        self.suffix_lengths = sorted({len(p) for p in self.suffixes})
        self.long_words: dict[str, list[Entry]] = defaultdict(list)
        self.long_prefixes: dict[str, list[Entry]] = defaultdict(list)
        for entry in self.entries:
            first = entry.words[0]
            if entry.category in LONG_TYPO_CATEGORIES and len(entry.words) == 1 and len(first.text) >= LONG_TYPO:
                (self.long_prefixes if first.prefix else self.long_words)[first.text].append(entry)
        # short break words by their written form (pt "só" is not en "so"), long ones folded
        self.breaks = frozenset((e.words[0].raw or e.words[0].text) if len(e.words[0].text) <= SHORT
                                else e.words[0].text for e in self.by_category["clause_breaks"]
                                if len(e.words) == 1 and not e.words[0].prefix)
        # a break word that is a particle after some words: Dutch "haal me maar van de lijst",
        # "dan maar afmelden" (politeness pairs ending in a break word keep the clause whole)
        self.unbroken = frozenset(
            f"{e.words[0].text} {e.words[1].raw or e.words[1].text}" for e in self.by_category["politeness"]
            if len(e.words) == 2 and not any(w.gap or w.prefix or w.suffix for w in e.words)
            and (e.words[1].raw or e.words[1].text) in self.breaks)
        clitics: dict[str, set[str]] = defaultdict(set)
        for e in self.by_category["clitics"]:
            clitics[e.language].add(e.words[0].text)
        self.clitics = {k: sorted(v, key=len, reverse=True) for k, v in clitics.items()}

    def stem(self, language: str, word: str) -> str | None:
        """The Snowball stem of ``word`` (as written, accents kept), folded."""
        key = (language, word)
        found = self._stems.get(key)
        if found is None:
            algorithm = self.languages.get(language)
            found = fold(_stem(algorithm, word)) if algorithm else ""
            if len(self._stems) < CACHE:
                self._stems[key] = found
        return found or None

    # -- matching ---------------------------------------------------------------------------

    def _word_matches(self, wp: WordPattern, entry: Entry, token: str, raw: str) -> bool:
        if wp.prefix:
            return token.startswith(wp.text)
        if wp.suffix:
            return token.endswith(wp.text) and len(token) > len(wp.text) + 2
        if token == wp.text:
            return _short_ok(wp, raw)
        if len(token) <= SHORT:
            return False
        if entry.category in STEM_CATEGORIES and len(wp.text) >= 4 and len(token) >= 4:
            target = self.stem(entry.language, wp.raw or wp.text)
            if target and target in (self.stem(entry.language, raw), self.stem(entry.language, token)):
                return True
        if (entry.category in TYPO_CATEGORIES and len(wp.text) >= TYPO_MIN and token not in self.words
                and _one_edit(token, wp.text)):
            return True
        return False

    def candidates(self, token: str, raw: str | None = None) -> list[tuple[Entry, bool]]:
        """The entries whose first word matches this token (cached: words recur)."""
        raw = raw or token
        key = (token, raw)
        cached = self._cache.get(key)
        if cached is None:
            cached = self._find_candidates(token, raw)
            if len(self._cache) < CACHE:
                self._cache[key] = cached
        return cached

    def _find_candidates(self, token: str, raw: str) -> list[tuple[Entry, bool]]:
        found: dict[str, tuple[Entry, bool]] = {}
        for e in self.exact.get(token, ()):
            if _short_ok(e.words[0], raw):
                found[e.key] = (e, False)
        for n in self.prefix_lengths:
            if n > len(token):
                break
            for e in self.prefixes.get(token[:n], ()):
                found.setdefault(e.key, (e, False))
        for n in self.suffix_lengths:
            if n + 2 >= len(token):
                break
            for e in self.suffixes.get(token[-n:], ()):
                found.setdefault(e.key, (e, False))
        if len(token) >= 4:
            for language in self.stems:
                for stem in {self.stem(language, raw), self.stem(language, token)}:
                    for e in self.stems[language].get(stem, ()) if stem else ():
                        found.setdefault(e.key, (e, False))
        if len(token) >= TYPO_MIN - 1 and token not in self.words:
            for variant in _deletions(token) | {token}:
                for word, e in self.typos.get(variant, ()):
                    if e.key not in found and _one_edit(token, word):
                        found[e.key] = (e, True)
            if len(token) >= LONG_TYPO and not any(
                    e.category in LONG_TYPO_CATEGORIES and len(e.words) == 1 for e, _ in found.values()):
                for key, value in self._long_typos(token).items():
                    found.setdefault(key, value)
        return list(found.values())

    def _long_typos(self, token: str) -> dict[str, tuple[Entry, bool]]:
        """Two typing errors in a long word (descadrastar, unsubsrcibe me) of the strong
        categories: unsubscribe words and opt-out nouns."""
        from rapidfuzz.distance import OSA

        found: dict[str, tuple[Entry, bool]] = {}
        for word, entries in self.long_words.items():
            if (word[:3] == token[:3] and abs(len(word) - len(token)) <= 2
                    and OSA.distance(token, word, score_cutoff=2) <= 2):
                for e in entries:
                    found.setdefault(e.key, (e, True))
        for p, entries in self.long_prefixes.items():
            if p[:3] == token[:3] and len(token) >= len(p) and OSA.distance(token[: len(p)], p, score_cutoff=2) <= 2:
                for e in entries:
                    found.setdefault(e.key, (e, True))
        return found

    def match(self, tokens: Iterable[str], raws: Iterable[str] | None = None) -> list[Hit]:
        """Every entry found in a sequence of folded words (``raws``: the same words as
        written, for stemming)."""
        words = list(tokens)
        written = list(raws) if raws is not None else words
        hits: list[Hit] = []
        for i, token in enumerate(words):
            for entry, typo in self.candidates(token, written[i]):
                end = self._extend(entry, words, written, i + 1, 1)
                if end is not None:
                    hits.append(Hit(entry, i, end, typo))
        return hits

    def _extend(self, entry: Entry, words: list[str], written: list[str], i: int, k: int) -> int | None:
        if k == len(entry.words):
            return i
        wp = entry.words[k]
        if wp.gap:
            nxt = entry.words[k + 1]
            for j in range(i, min(len(words), i + GAP + 1)):
                if self._word_matches(nxt, entry, words[j], written[j]):
                    end = self._extend(entry, words, written, j + 1, k + 2)
                    if end is not None:
                        return end
            return None
        if i < len(words) and self._word_matches(wp, entry, words[i], written[i]):
            return self._extend(entry, words, written, i + 1, k + 1)
        return None

    def split_clitic(self, token: str) -> list[tuple[str, str]]:
        """(verb, language) for a token that ends in a clitic pronoun of that language."""
        out = []
        for language, endings in self.clitics.items():
            for ending in endings:
                if token.endswith(ending) and len(token) - len(ending) >= 4:
                    out.append((token[: -len(ending)], language))
                    break
        return out

    def tokens(self, text: str) -> list[str]:
        return [w for w, *_ in split_words(text, self.joined_set)]


@cache
def _stemmer(algorithm: str):
    import Stemmer

    return Stemmer.Stemmer(algorithm)


@lru_cache(maxsize=262144)
def _stem(algorithm: str, word: str) -> str:
    return _stemmer(algorithm).stemWord(word)


SHORT = 3


def _short_ok(wp: WordPattern, raw: str) -> bool:
    """Short words are told apart by their accents: sí (yes) is not si (if), nö is not no."""
    if len(wp.text) > SHORT or not wp.raw:
        return True
    return wp.raw == raw or (wp.raw.isascii() and raw.isascii())


def _deletions(word: str) -> set[str]:
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _one_edit(a: str, b: str) -> bool:
    """True when a and b differ by one insertion, deletion, substitution or adjacent swap."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    if len(a) > len(b):
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


# -- loading -------------------------------------------------------------------------------



def _parse_entry(text: str) -> tuple[WordPattern, ...]:
    words: list[WordPattern] = []
    for part in text.split():
        if part == "*":
            words.append(WordPattern("", gap=True))
            continue
        prefix = part.endswith("*") and len(part) > 1
        suffix = part.startswith("*") and len(part) > 1 and not prefix
        core = part[:-1] if prefix else part[1:] if suffix else part
        if core.isalpha():  # one plain word: most entries
            folded, written = fold(core), core.lower()
            words.append(WordPattern(folded, prefix=prefix, suffix=suffix,
                                     raw=written if fold(written) == folded else folded))
            continue
        pieces = split_words(core, frozenset({fold(core), fold(core).replace("-", "")}))
        for piece in pieces:
            written = core[piece[1]:piece[2]].lower() if len(pieces) > 1 else core.lower()
            words.append(WordPattern(piece[0], prefix=prefix, suffix=suffix,
                                     raw=written if fold(written) == piece[0] else piece[0]))
    return tuple(words)


def load_lexicon_file(path: pathlib.Path, name: str) -> tuple[str, str | None, list[Entry]]:
    def fail(node, reason: str) -> RuleError:
        line = node.start_mark.line + 1 if node is not None else 1
        return RuleError(f"{name}:{line}: {reason}")

    root = compose_file(path, name)
    if not isinstance(root, yaml.MappingNode):
        raise fail(root, "a lexicon file must be a mapping: language, stemmer and categories")
    language = stemmer = None
    entries: list[Entry] = []
    seen: set[str] = set()
    for key_node, value_node in root.value:
        key = key_node.value
        if key in seen:
            raise fail(key_node, f"duplicate key {key!r}")
        seen.add(key)
        if key == "language":
            language = value_node.value
            if not isinstance(language, str) or not 2 <= len(language) <= 3 or not language.isalpha():
                raise fail(value_node, f"language must be a two- or three-letter code, got {language!r}")
            continue
        if key == "stemmer":
            stemmer = value_node.value if value_node.value not in ("", "none", "null", "~") else None
            if stemmer is not None:
                import Stemmer

                if stemmer not in Stemmer.algorithms():
                    raise fail(value_node, f"unknown stemmer {stemmer!r} (one of {', '.join(Stemmer.algorithms())})")
            continue
        if key not in CATEGORIES:
            raise fail(key_node, f"unknown category {key!r} (one of {', '.join(CATEGORIES)})")
        if not isinstance(value_node, yaml.SequenceNode):
            raise fail(value_node, f"{key} must be a list of words or phrases")
        for item in value_node.value:
            if not isinstance(item, yaml.ScalarNode) or not str(item.value).strip():
                raise fail(item, f"an entry of {key} must be a non-empty word or phrase")
            raw = str(item.value).strip()
            parts = raw.split()
            gaps = [i for i, part in enumerate(parts) if part == "*"]
            if any(i in (0, len(parts) - 1) or i + 1 in gaps for i in gaps) or any(
                    part.startswith("*") and part.endswith("*") and part != "*" for part in parts):
                raise fail(item, f"{raw!r}: a gap '*' must stand between two words")
            words = _parse_entry(raw)
            if not words:
                raise fail(item, f"{raw!r} has no letters to match")
            entries.append(Entry("", key, raw, words, f"{name}:{item.start_mark.line + 1}"))
    if language is None:
        raise fail(root, "missing key 'language'")
    entries = [Entry(language, e.category, e.text, e.words, e.location) for e in entries]
    return language, stemmer, entries


def load_lexicon(folder: pathlib.Path, label: str) -> Lexicon:
    """Every ``*.yaml`` of ``folder`` (one per language)."""
    lexicon = Lexicon.__new__(Lexicon)
    lexicon.entries, lexicon.languages, lexicon.files = [], {}, []
    for path in sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file()):
        name = f"{label}/{path.name}"
        language, stemmer, entries = load_lexicon_file(path, name)
        if language in lexicon.languages:
            raise RuleError(f"{name}:1: language {language!r} is already defined by another file")
        lexicon.languages[language] = stemmer
        lexicon.entries.extend(entries)
        lexicon.files.append(name)
    lexicon._build()
    return lexicon


_DEFAULT: Lexicon | None = None


def default_lexicon() -> Lexicon:
    """The lexicons shipped in the repository's rules/intent (for a RuleSet built without)."""
    global _DEFAULT
    if _DEFAULT is None:
        folder = pathlib.Path(__file__).resolve().parents[3] / "rules" / "intent"
        _DEFAULT = load_lexicon(folder, "rules/intent") if folder.is_dir() else Lexicon()
    return _DEFAULT
