"""What a reply asks for, read clause by clause with the intent lexicons (rules/intent/*.yaml).

No language detection: every lexicon is matched, and each clause is read in every language whose
words it holds. A clause is a **request** to stop mail when it holds (in one language):

- an unsubscribe verb or phrase, with the writer or a list as object, or with nothing else
  of substance in the clause;
- a removal verb with the writer or a list as object (and, when only one of them is there, no
  other object);
- a stop verb with a sending verb; a negated sending verb with more/again or a list;
- a negated wanting verb with a receiving verb or a list ("I no longer wish to receive");
- a "no more" phrase with a list or a sending verb; an opt-out noun; a GDPR objection;

and is **blocked** (left for review, never applied) when the request is negated, asked as a
wh-question, about a third party, limited to one list, conditional, inside quotation marks
(reported speech), or when its verb has another object. A reply of a few words around a stop word
("Stop merci", "remove pls") is a request as a whole. Any unsubscribe word or opt-out noun that is
not decided either way goes to review (the safety net). Invitation answers are read with the
same clauses (``answer``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache

from optdesk.classify.grammar import ACTION as _ACTION
from optdesk.classify.grammar import (
    NEG_AFTER,
    NEG_BEFORE,
    ClauseView,
    all_covered,
    first_content,
    match,
)
from optdesk.classify.lexicon import Hit, Lexicon
from optdesk.classify.words import (
    ADDRESS_TOKEN,
    LINK_TOKEN,
    OTHER_ADDRESS_TOKEN,
    Clause,
    Token,
    clauses,
    fold,
    split_words,
)

STOPWORD_LANGUAGES = ("en", "fr", "de", "es", "it", "nl", "pt", "sv", "da", "no", "fi", "pl", "cs")


_BY_LANGUAGE: dict[str, frozenset[str]] | None = None


def stopwords_by_language() -> dict[str, frozenset[str]]:
    """Function words of each supported language (stopwordsiso), folded; built once per process
    (or adopted with the prepared rules: ``adopt_stopwords``)."""
    global _BY_LANGUAGE
    if _BY_LANGUAGE is None:
        import stopwordsiso

        _BY_LANGUAGE = {language: frozenset(fold(w) for w in stopwordsiso.stopwords(language))
                        for language in STOPWORD_LANGUAGES}
    return _BY_LANGUAGE


def adopt_stopwords(by_language: dict[str, frozenset[str]]) -> None:
    """Use the function words stored with the prepared rules (optdesk.classify.prepared)."""
    global _BY_LANGUAGE
    _BY_LANGUAGE = by_language


@lru_cache(maxsize=1)
def stopwords() -> frozenset[str]:
    """Function words of every supported language: never 'another object' of a verb."""
    return frozenset().union(*stopwords_by_language().values())


# faces that turn a "yes" into sarcasm or anger ("Ja, absolut – precis vad jag har saknat 🙄")
ROLLED_EYES = ("\U0001f644", "\U0001f612", "\U0001f643", "\U0001f624", "\U0001f620", "\U0001f621",
               "\U0001f92c", "\U0001f926", "\U0001f611", "\U0001f60f")
_SARCASM_TAG = re.compile(r"(?<![\w/])/s\b")  # "Oh YES. Absolutely. /s"
PLAUSIBLE_MIN_WORDS = 5
READ_CACHE = 50_000  # clauses remembered
_PREFERENCE = {lang: i for i, lang in enumerate(STOPWORD_LANGUAGES)}  # ties: the common languages first


def implausible_languages(words: list[str]) -> set[str]:
    """Languages a clause of five words or more is clearly not written in: it holds none of
    their function words while another language has at least two. Short clauses ("Stop
    merci", "remove pls") are read in every language."""
    if len(words) < PLAUSIBLE_MIN_WORDS:
        return set()
    counts = {lang: sum(1 for w in words if w in sw) for lang, sw in stopwords_by_language().items()}
    best = max(counts.values())
    if best < 2:
        return set()
    return {lang for lang, n in counts.items() if n * 3 < best}
_QUICK = frozenset(("unsubscribe", "remove", "stop", "send", "receive", "want", "nouns", "no_more",
                    "objection", "terse", "authority", "decline", "affirm", "keep"))
_STRONG = ("unsubscribe", "nouns", "objection", "remove", "stop", "no_more", "authority")  # safety net


@dataclass
class Reading:
    """One clause read in one language."""

    clause: Clause
    where: str  # body or subject
    verdict: str | None = None  # request, blocked
    pattern: str | None = None
    blocked_by: str | None = None
    language: str | None = None
    hits: list[Hit] = field(default_factory=list)
    foreign: list[str] = field(default_factory=list)
    restricted_to: str | None = None
    index: int = 0  # the clause's place in its text
    self_near: bool = False  # the writer within three words of the action
    tokens: list = field(default_factory=list)  # the clause's tokens aligned with the hits' indexes
    asks_for_mail: bool = False  # "keep sending me …", "send me the EV ones instead"
    other_object: bool = False  # a removal verb with another object: "remove the watermark"

    def on(self, clause: Clause) -> Reading:
        """A copy of this reading for ``clause`` (the same text read before); the lists are
        shared, never changed after reading."""
        copy = object.__new__(Reading)
        copy.__dict__.update(self.__dict__)
        copy.clause = clause
        return copy

    def to_dict(self) -> dict:
        out = {"clause": self.clause.text[:200], "in": self.where, "verdict": self.verdict,
               "pattern": self.pattern, "language": self.language,
               "entries": sorted({h.entry.key for h in self.hits if h.category != "politeness"})}
        if self.blocked_by:
            out["blocked_by"] = self.blocked_by
        if self.restricted_to:
            out["list"] = self.restricted_to
        if any(h.typo for h in self.hits):
            out["typos"] = sorted({f"{self.tokens[h.start].text}~{h.entry.text}"
                                   for h in self.hits if h.typo})
        return out


@dataclass
class Intent:
    """The whole reply: ``verdict`` opt_out, review or none, with the deciding reading."""

    verdict: str
    reason: str
    reading: Reading | None = None
    readings: list[Reading] = field(default_factory=list)

    @property
    def language(self) -> str | None:
        return self.reading.language if self.reading else None

    @property
    def rule(self) -> str | None:
        if self.reading is None:
            return None
        return f"intent:{self.reading.language or 'any'}:{self.reading.pattern or self.reason}"

    def evidence(self) -> dict:
        out: dict = {"reason": self.reason}
        if self.reading is not None:
            out["matched"] = self.reading.clause.text[:200]
            out["in"] = self.reading.where
            out.update({k: v for k, v in self.reading.to_dict().items() if k not in ("clause", "in")})
        out["clauses"] = [r.to_dict() for r in self.readings if r.verdict or r.hits][:12]
        return out


class Reader:
    """Reads clauses with a lexicon; ``stopwords`` are function words that are never 'another
    object' of a verb; ``names`` (per message) are the sender's own name words."""

    def __init__(self, lexicon: Lexicon, stopwords: frozenset[str]) -> None:
        self.lex = lexicon
        self.stopwords = stopwords
        self.fillers = frozenset(e.text for e in lexicon.by_category.get("politeness", ()))
        self._readings: dict[tuple, list[Reading]] = {}

    # -- one clause ---------------------------------------------------------------------------

    def _tokens(self, clause: Clause) -> list[Token]:
        """The clause's words, a verb with a joined pronoun (bórrenme, cancellatemi, remova-me)
        split into the verb and the pronoun."""
        out: list[Token] = []
        for token in clause.tokens:
            word = token.text
            raw = token.raw or word
            for base, language in self.lex.split_clitic(word):
                base_raw = raw[: len(base)] if len(raw) == len(word) else base
                if any(e.category in ("remove", "unsubscribe", "send", "receive") and e.language == language
                       for e, _ in self.lex.candidates(base, base_raw)):
                    out.append(Token(base, token.start, token.end, token.capital, token.reported, base_raw))
                    word, raw = word[len(base):], raw[len(base):] if len(raw) == len(token.text) else word[len(base):]
                    break
            out.append(token if word == token.text and raw == token.raw else
                       Token(word, token.start, token.end, token.capital, token.reported, raw))
        return out

    def hits(self, clause: Clause) -> tuple[list[Token], list[Hit], list[Hit]]:
        """(tokens, hits after dominance, every hit)."""
        tokens = self._tokens(clause)
        hits = self.lex.match([t.text for t in tokens], [t.raw or t.text for t in tokens])
        return tokens, _dominant(hits), hits

    def read(self, clause: Clause, where: str, names: frozenset[str]) -> list[Reading]:
        """The clause's readings (a copy from the cache when the same clause was read before:
        greetings, closings and short requests recur)."""
        key = (clause.text, clause.question, where, names & {t.text for t in clause.tokens},
               tuple(t.reported for t in clause.tokens))
        cached = self._readings.get(key)
        if cached is None:
            cached = self._read(clause, where, names)
            if len(self._readings) < READ_CACHE:
                self._readings[key] = cached
        return [r.on(clause) for r in cached]

    def _read(self, clause: Clause, where: str, names: frozenset[str]) -> list[Reading]:
        tokens, hits, raw = self.hits(clause)
        known = {i for h in raw for i in ((h.start, h.end - 1) if _has_gap(h) else range(h.start, h.end))}
        if any(t.text == ADDRESS_TOKEN for t in tokens) and any(
                i > 0 and t.capital and i not in known and t.text not in self.lex.words
                and t.text not in self.stopwords and t.text not in names for i, t in enumerate(tokens)):
            # "dad de baja a Carmen (cruiz@…)": a named colleague's address, not the writer's
            tokens = [replace(t, text=OTHER_ADDRESS_TOKEN, raw=OTHER_ADDRESS_TOKEN)
                      if t.text == ADDRESS_TOKEN else t for t in tokens]
        words = [t.text for t in tokens]
        covered = {i for h in hits for i in range(h.start, h.end) if not _has_gap(h)}
        covered |= {h.start for h in hits} | {h.end - 1 for h in hits}
        covered |= {i - 1 for i, t in enumerate(tokens) if t.text == ADDRESS_TOKEN}  # "die Adresse x@…"
        foreign = [i for i, w in enumerate(words)
                   if i not in covered and w not in self.stopwords and w not in names
                   and not w.isdigit() and len(w) > 1 and w not in (ADDRESS_TOKEN, LINK_TOKEN)]
        unlikely = implausible_languages(words)
        languages = sorted({h.language for h in hits if h.category in (*_ACTION, "keep")} - unlikely)
        readings = []
        for language in languages:
            r = self._read_in(clause, where, language, tokens, hits, foreign, raw, names)
            readings.append(r)
        if not readings:
            readings.append(Reading(clause, where, hits=hits, foreign=[words[i] for i in foreign]))
        for r in readings:
            r.tokens = tokens
        requests = [r for r in readings if r.verdict == "request"]
        chosen = requests or readings
        if len(chosen) > 1:  # the likeliest language first: its own words, then its function words
            by_language = stopwords_by_language()
            chosen.sort(key=lambda r: (
                -len({i for h in r.hits if h.language == r.language and h.category not in ("self", "clitics")
                      and not any(wp.prefix or wp.suffix for wp in h.entry.words)
                      for i in range(h.start, h.end)}),
                -len({i for h in r.hits if h.language == r.language and h.category not in ("self", "clitics")
                      for i in range(h.start, h.end)}),
                -sum(1 for w in words if w in by_language.get(r.language or "", ())),
                _PREFERENCE.get(r.language or "", 99)))
        return chosen

    def _read_in(self, clause, where, language, tokens, hits, foreign, raw, self_names=frozenset()) -> Reading:
        own = [h for h in hits if h.language == language]
        reading = Reading(clause, where, language=language, hits=own + [
            h for h in hits if h.language != language
            and h.category in ("self", "negators", "politeness", "authority")],
            foreign=[tokens[i].text for i in foreign])
        view = ClauseView(tokens, own, hits, raw, foreign, self_names, self.stopwords, language)
        found = match(view)
        if found is None:
            self._no_request(reading, view)
            if self._only_some(view):  # "send me only the culture releases": one list, not all
                reading.verdict, reading.blocked_by, reading.pattern = "blocked", "restriction", "only-some"
                reading.restricted_to = _list_words(view.words, hits, foreign)
            return reading
        pattern, blocked = found
        own, self_at = view.own, view.self_at
        actions = [h for h in own if h.category in _ACTION]
        reading.self_near = any(abs(i - a.start) <= 3 or abs(i - (a.end - 1)) <= 3
                                for i in self_at for a in actions)
        reading.pattern = pattern
        if blocked is None and clause.question and pattern.startswith("negated-want"):
            blocked = "question"  # "Vil du ikke lenger motta nyhetsbrevet?": the writer's own footer
        if blocked is None:
            blocked = self._block(clause, tokens, hits, own)
            if blocked == "restriction":
                reading.restricted_to = _list_words(view.words, hits, foreign)
        reading.verdict = "blocked" if blocked else "request"
        reading.blocked_by = blocked
        return reading

    @staticmethod
    def _no_request(reading: Reading, v: ClauseView) -> None:
        """A clause of no request form: does a removal verb have another object ("remove the
        watermark")? does it ask for mail ("keep me on the list")?"""
        verbs = v.cat("remove") + v.cat("stop")
        named = any(v.tokens[f].capital or v.words[f] == OTHER_ADDRESS_TOKEN for f in v.foreign)
        if verbs and not (v.self_at or v.target_at) and not named and all(
                v.object_slot_foreign(h) for h in verbs):
            reading.other_object = True
        sends = [h for h in v.cat("send") if not any(t.start == h.start for t in v.cat("targets", v.hits))]
        keeps = v.cat("keep", v.hits)

        def governs(k: Hit) -> bool:
            # "keep me", "continuate a mandarmeli", "posílejte mi prosím dál": the keep verb with the
            # writer or a sending verb right after it, or a sending verb just before it ("I'm
            # trying to keep this inbox for commissions" asks for nothing)
            return (any(k.start <= i <= k.end + 1 for i in v.self_at)
                    or any(k.start <= s.start <= k.end + 2 or k.start - 3 <= s.start < k.start for s in sends))

        if keeps and not v.cat("stop") and ((sends and (v.self_at or v.target_at)) or (v.self_at and not sends)) \
                and any(governs(k) for k in keeps) and not any(v.negated(h) for h in sends + keeps):
            reading.asks_for_mail = True

    @staticmethod
    def _only_some(v: ClauseView) -> bool:
        """Mail asked for, but only some of it: a sending, receiving or wanting verb with "only"
        and the writer or a list ("bitte schicken Sie mir nur noch die Kultur-Meldungen",
        "a mí solo me interesan las notas de movilidad") — a request about the other lists."""
        verbs = v.cat("send") + v.cat("want")  # "we only receive regional news" is a reason
        only = v.cat("restriction", v.hits)
        # the negation of French "ne … que" (only) is part of the restriction
        negs = [n for n in v.negs if not any(o.start <= n.start < o.end for o in only)]
        if not verbs or not only or any(
                any(h.start - NEG_BEFORE <= n.start < h.end + NEG_AFTER for n in negs) for h in verbs):
            return False
        lead = first_content(v.tokens, v.hits, v.stopwords)
        return bool(v.self_at or v.target_at or any(h.start == lead for h in v.cat("send")))

    def _block(self, clause: Clause, tokens: list[Token], hits: list[Hit], own: list[Hit]) -> str | None:
        def any_cat(name):
            return [h for h in hits if h.category == name]

        own_language = own[0].language if own else None

        if any(h.start <= 1 for h in any_cat("hedges")) and (any_cat("send") or any_cat("receive")):
            return "conditional"  # "If you keep sending these I'll unsubscribe": a threat
        if any(h.start <= 1 for h in any_cat("question_words")):
            return "question"  # "why did you stop sending …", with or without its question mark
        if clause.question and (any(h.start <= 2 for h in any_cat("question_words"))
                                or not (any_cat("requests") or _leads(tokens, hits, own))):
            return "question"
        # another language's short third-party word is this one's own: Danish "det her" (this)
        # is not English "her"
        if any(h.language == own_language or sum(len(t.text) for t in tokens[h.start:h.end]) >= 4
               for h in any_cat("third_party")):
            return "third-party"
        if any_cat("restriction"):
            return "restriction"
        if any(tokens[h.start].reported for h in own if h.category in _ACTION):
            return "reported-speech"
        return None

    # -- a whole text --------------------------------------------------------------------------

    def clauses(self, text: str, sender: str | None = None) -> list[Clause]:
        return clauses(text, self.lex.breaks, self.lex.joined_set, sender, self.lex.unbroken)

    def read_text(self, text: str, where: str, names: frozenset[str],
                  sender: str | None = None) -> list[Reading]:
        out = []
        for index, clause in enumerate(self.clauses(text, sender)):
            for reading in self.read(clause, where, names):
                reading.index = index
                out.append(reading)
        _stop_then_send(out)
        _block_by_neighbours(out)
        _conditional_threats(out)
        _taken_back(out)
        links = {r.index for r in out if [t.text for t in r.tokens] == [LINK_TOKEN]}
        for r in out:  # "Unsubscribe from our newsletter:" followed by its link
            if r.verdict == "request" and r.index + 1 in links and r.pattern and r.pattern.startswith("unsubscribe"):
                r.verdict, r.blocked_by = "blocked", "mention"
        return out

    def may_ask(self, text: str) -> bool:
        """A quick test: does ``text`` hold any word that could start a request, a block or a
        safety-net word? Most replies hold none and need no reading."""
        for word, *_ in split_words(text, self.lex.joined_set):
            for entry, _ in self.lex.candidates(word):
                if entry.category in _QUICK:
                    return True
        return False

    def opt_out(self, body: str, subject: str | None, names: frozenset[str] = frozenset(),
                sender: str | None = None) -> Intent:
        """Does the reply ask to stop mail? ``subject`` is None when it is our own subject;
        ``sender`` tells the writer's own addresses in the text from other people's."""
        if not self.may_ask(f"{body}\n{subject or ''}"):
            return Intent("none", "no request", None, [])
        body_readings = self.read_text(body, "body", names, sender)
        subject_readings = self.read_text(subject, "subject", names, sender) if subject else []
        readings = body_readings + subject_readings
        requests = [r for r in readings if r.verdict == "request"]
        blocked = [r for r in readings if r.verdict == "blocked"]
        # reported speech beside the writer's own request is no conflict ("I replied 'unsubscribe'
        # in January. Take me off now"); a negation beside a reported one still is
        conflicts = [r for r in blocked if r.blocked_by in
                     ("negation", "third-party", "restriction", "conditional")
                     # "si me llegan cinco por semana, termino sin ver nada" explains; it threatens
                     # nothing (a threat holds its own action: "… me doy de baja")
                     and r.pattern != "conditional-send"]
        if requests and conflicts:
            return Intent("review", f"a request, but also {conflicts[0].blocked_by}", conflicts[0], readings)
        decided = {(r.where, r.index) for r in readings if r.verdict}
        wants_mail = [r for r in readings if r.asks_for_mail and (r.where, r.index) not in decided]
        if requests and wants_mail:
            requests[0].blocked_by = "asks-for-other-mail"
            return Intent("review", "a request, but it also asks to be sent other mail: one list only?",
                          requests[0], readings)
        if requests:
            return Intent("opt_out", "request", requests[0], readings)
        terse = self._terse(body_readings, subject_readings)
        if terse is None and not any(r.hits or r.foreign for r in body_readings) and subject_readings:
            last = max(r.index for r in subject_readings)  # "<title> - REMOVE": their word at the end
            terse = self._terse([], [r for r in subject_readings if r.index == last])
        if terse is not None and all(r.blocked_by == "standalone" for r in blocked):
            return Intent("opt_out", "terse", terse, readings)
        if blocked:
            return Intent("review", f"opt-out words, {blocked[0].blocked_by}", blocked[0], readings)
        content = [r for r in readings if r.foreign or r.hits]
        if content and all({h.category for h in r.hits} <= {"decline", "politeness", "negators"} and not r.foreign
                           for r in content) and any(h.category == "decline" for r in content for h in r.hits):
            return Intent("review", "a bare refusal (\"no thanks\") as the whole reply", content[0], readings)
        for r in readings:
            strong = [h for h in r.hits if h.category in _STRONG
                      and not (r.other_object and h.category in ("remove", "stop"))]
            if strong:
                r.pattern = "safety-net"
                r.language = strong[0].language
                return Intent("review", f"opt-out word {strong[0].entry.text!r} not decided", r, readings)
        return Intent("none", "no request", None, readings)

    def _terse(self, body: list[Reading], subject: list[Reading]) -> Reading | None:
        """A reply whose only substance is a stop word: every clause without another content
        word, except short name-like lines."""
        pool = body if any(r.hits or r.foreign for r in body) else body + subject
        if any(h.category in ("negators", "question_words", "third_party", "hedges") for r in pool for h in r.hits) \
                or any(r.clause.question for r in pool):
            return None
        signal = None
        for r in pool:
            words = r.tokens
            action = [h for h in r.hits if h.category in ("terse", "stop", "remove", "unsubscribe", "nouns")]
            if action:
                if r.foreign or (r.verdict == "blocked" and r.blocked_by != "standalone") \
                        or not all_covered([t.text for t in r.tokens], r.hits):
                    return None
                signal = signal or (r, action[0])
            elif r.foreign and not (len(words) <= 3 and all(t.capital for t in words if t.text in r.foreign)):
                return None
        if signal is None:
            return None
        reading, hit = signal
        reading.pattern = "terse"
        reading.language = reading.language or hit.language
        return reading

    # -- invitation answers ----------------------------------------------------------------------

    def _weak(self, h: Hit) -> bool:
        """A yes-word that is also a filler ("ok", "vale", "gerne"): with "received" after it, an
        acknowledgement, not an answer."""
        return h.entry.text in self.fillers

    def answer(self, body: str, names: frozenset[str] = frozenset(),
               subject: str | None = None) -> tuple[str, str, list[Reading], str | None]:
        """(accept | decline | review, reason, readings, language) for a reply to an invitation.
        The sender's own subject is read only when the body says nothing ("JA" as the subject)."""
        if not body.strip() and subject:
            body = subject
        intent = self.opt_out(body, None, names)
        readings = intent.readings
        if intent.verdict == "opt_out":
            return "decline", f"asks not to be mailed ({intent.reading.pattern})", readings, intent.language
        all_hits = [(r, h) for r in readings for h in r.hits]
        declines = [(r, h) for r, h in all_hits if h.category == "decline" and (
            h.end - h.start > 1 or len(r.tokens[h.start].text) > 4
            or (not r.foreign and len(r.tokens) <= 3))]
        if declines:
            return "decline", f"declines: {declines[0][1].entry.text!r}", readings, declines[0][1].language
        for r in readings:
            cats = {h.category for h in r.hits}
            content = r.tokens
            if "negators" in cats and len(content) <= 3 and not r.foreign and "affirm" not in cats:
                return "decline", f"says no: {r.clause.text[:40]!r}", readings, None
        if intent.verdict == "review":
            return "review", intent.reason, readings, intent.language
        if any(r.clause.question for r in readings):
            return "review", "asks a question", readings, None
        related = [(r, h) for r, h in all_hits
                   if {x.category for x in r.hits} & {"affirm", "want", "receive", "send", "targets"}]
        for name, reason in (("hedges", "a conditional or hesitant answer"),
                             ("restriction", "accepts only in part"),
                             ("negators", "a negation in the answer"),
                             ("third_party", "about someone else")):
            found = [h for _, h in (all_hits if name == "hedges" else related) if h.category == name]
            if found:
                return "review", f"{reason}: {found[0].entry.text!r}", readings, found[0].language
        affirms = [h for _, h in all_hits if h.category == "affirm"]
        if any(mark in body for mark in ROLLED_EYES) or _SARCASM_TAG.search(body):
            return "review", "an eye-roll or an angry face: sarcasm?", readings, None
        acknowledged = [h for _, h in all_hits if h.category == "acknowledge"]
        if acknowledged and all(self._weak(h) for h in affirms):
            return "review", f"acknowledges, says no yes: {acknowledged[0].entry.text!r}", readings, None
        if affirms:
            counts: dict[str, int] = {}
            for _, h in all_hits:
                counts[h.language] = counts.get(h.language, 0) + 1
            language = max(sorted(counts), key=lambda lang: (counts[lang], -_PREFERENCE.get(lang, 99)))
            return "accept", f"affirms: {affirms[0].entry.text!r}", readings, language
        return "review", "no clear answer", readings, None


def _leads(tokens: list[Token], hits: list[Hit], own: list[Hit]) -> bool:
    """The clause starts (after politeness) with the action or the writer: "mi togli dalla
    lista?", "me quitan de la lista?" — a request put as a question, unlike "was I taken off?"."""
    skip = {i for h in hits if h.category == "politeness" for i in range(h.start, h.end)}
    first = next((i for i in range(len(tokens)) if i not in skip), None)
    return first is not None and any(
        h.start == first for h in hits if h.category in ("self", *_ACTION) and (h in own or h.category == "self"))


def _stop_then_send(readings: list[Reading]) -> None:
    """A stop verb alone in its clause and a sending verb in the next one are one request
    ("Hören Sie endlich auf, mir diesen Kram zu schicken")."""
    by_index: dict[int, list[Reading]] = {}
    for r in readings:
        by_index.setdefault(r.index, []).append(r)
    for r in readings:
        if r.verdict or not any(h.category == "stop" for h in r.hits) or r.foreign:
            continue
        for nxt in by_index.get(r.index + 1, []):
            if not nxt.verdict and any(h.category == "send" and h.language == r.language for h in nxt.hits):
                r.verdict, r.pattern = "request", "stop+send"
                break


def _block_by_neighbours(readings: list[Reading]) -> None:
    """A request next to a clause about a third party ("Ms Maier has left. Please take her off")
    is not the writer's own: review."""
    marks: set[int] = set()
    named: set[int] = set()
    for r in readings:
        if len(r.tokens) >= 3 and any(
                h.category == "third_party" and sum(len(t.text) for t in r.tokens[h.start:h.end]) >= 4
                for h in r.hits):
            marks.add(r.index)
        names = [i for i, t in enumerate(r.tokens) if i > 0 and t.capital and t.text in r.foreign]
        if any(i + 1 in names for i in names) or (r.tokens and r.tokens[0].capital and 1 in names
                                                      and r.tokens[0].text in r.foreign):
            named.add(r.index)  # "Marie Dufour a quitté la rédaction"
    for r in readings:
        if r.verdict != "request":
            continue
        # "Marie Dufour a quitté la rédaction. Merci de la retirer de vos listes": her, not me
        # ("… bekommt sie es doppelt. Bitte nehmt mich raus": me)
        if (r.index - 1 in marks and not r.self_near) or (r.index - 1 in named and r.where == "body"
                                    and (r.pattern or "").startswith("remove") and not r.self_near):
            r.verdict, r.blocked_by = "blocked", "third-party"


def _conditional_threats(readings: list[Reading]) -> None:
    """A request under a condition put before it is a threat, not a request: "Wenn das so
    weitergeht, melde ich mich ab", "Se mi arriva un altro comunicato sul vino mi cancello"
    (review). "If you could remove me" and "if possible, please take me off" ask: the
    condition holds nothing but the request and its politeness."""
    by_index: dict[tuple[str, int], list[Reading]] = {}
    for r in readings:
        by_index.setdefault((r.where, r.index), []).append(r)

    def condition(before: Reading) -> bool:
        # a condition of its own ("wenn noch eine kommt", "se continuarem a mandar tudo"), not
        # a softener ("si vous le pouvez")
        return (before.verdict in (None, "blocked") and before.blocked_by in (None, "conditional")
                and any(h.category == "hedges" and h.start <= 1 for h in before.hits)
                and (len(before.tokens) >= 3 or bool(before.foreign)
                     or any(h.category in ("send", "receive", "keep") for h in before.hits)))

    for r in readings:
        if r.verdict != "request" or any(  # "please", "could you": it asks (not "je", "Sie")
                h.category in ("politeness", "requests") and h.language == r.language
                and sum(len(t.text) for t in r.tokens[h.start:h.end]) >= 4 for h in r.hits):
            continue
        actions = [h.start for h in r.hits if h.category in _ACTION and h.language == r.language]
        if not actions:
            continue
        first = min(actions)
        foreign = set(r.foreign)
        hedges = [h for h in r.hits if h.category == "hedges" and h.start <= 1 and h.end <= first]
        within = any(any(t.text in foreign for t in r.tokens[h.end:first]) for h in hedges)
        carried = r.clause.continues and any(condition(b) for b in by_index.get((r.where, r.index - 1), ()))
        if within or carried:
            r.verdict, r.blocked_by = "blocked", "conditional"


def _taken_back(readings: list[Reading]) -> None:
    """"voisitteko poistaa minut listalta – tai ei, hetkinen": a request followed by a short
    clause of hesitation takes itself back (review)."""
    after: dict[tuple[str, int], list[Reading]] = {}
    for r in readings:
        after.setdefault((r.where, r.index), []).append(r)
    for r in readings:
        if r.verdict != "request":
            continue
        for nxt in after.get((r.where, r.index + 1), ()):
            cats = {h.category for h in nxt.hits}
            if ("hedges" in cats and not cats & set(_ACTION) and len(nxt.tokens) <= 4 and not nxt.foreign
                    and all_covered([t.text for t in nxt.tokens], nxt.hits)):  # not "Jos tätä ei hoideta"
                r.verdict, r.blocked_by = "blocked", "hedge"
                break


def _has_gap(h: Hit) -> bool:
    return any(wp.gap for wp in h.entry.words)


_DOMINANT = ("politeness", "affirm", "decline", "requests", "mentions")
_DOMINATED = ("negators", "hedges", "restriction", "question_words", "third_party", "terse", "more",
              "decline", "affirm")


def _dominant(hits: list[Hit]) -> list[Hit]:
    """Drop a hit lying inside a longer contiguous hit of a set phrase — politeness, affirm,
    decline, requests, mentions — of another category ("no problem" is not a negation; "if
    possible" is not a condition)."""
    spans = [h for h in hits if not _has_gap(h) and h.end - h.start > 1 and h.category in _DOMINANT]
    out = []
    for h in hits:
        inside = h.category in _DOMINATED and any(
                     o is not h and o.category != h.category and o.start <= h.start and h.end <= o.end
                     and (o.end - o.start) > (h.end - h.start) for o in spans)
        if not inside:
            out.append(h)
    return out


def _list_words(words: list[str], hits: list[Hit], foreign: list[int]) -> str | None:
    """The words that name the one list a restricted request is about (foreign words near a
    list word)."""
    targets = [h for h in hits if h.category == "targets"]
    near = [words[i] for i in foreign if any(abs(i - t.start) <= 3 for t in targets)]
    if near:
        return " ".join(near[:4])
    return " ".join(words[i] for i in foreign[:4]) or None
