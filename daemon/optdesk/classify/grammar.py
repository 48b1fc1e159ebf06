"""The small grammar of an opt-out request: one clause, read in one language.

``ClauseView`` holds what the patterns need (the words, the lexicon hits of the language, the
negations, where the writer and the lists are, the words no lexicon knows); each pattern
function answers ``(pattern, blocked)`` when the clause is of its form, else None. ``PATTERNS``
lists them in the order they are tried; the first that answers decides. ``blocked`` names why
the request must not be applied (negation, another object, a third party, a mention …).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from optdesk.classify.lexicon import Hit
from optdesk.classify.words import ADDRESS_TOKEN, LINK_TOKEN, OTHER_ADDRESS_TOKEN, Token

NEG_BEFORE, NEG_AFTER = 6, 3
ACTION = ("unsubscribe", "remove", "stop", "send", "receive", "want", "nouns", "no_more", "objection",
          "terse")

Match = tuple[str, str | None] | None


@dataclass
class ClauseView:
    """One clause as seen from one language."""

    tokens: list[Token]
    own: list[Hit]  # hits of this language
    hits: list[Hit]  # the dominant hits of every language
    raw: list[Hit]  # every hit, before dominance
    foreign: list[int]  # indexes of words no lexicon knows
    self_names: frozenset[str]  # the writer's own name words
    stopwords: frozenset[str]
    language: str
    words: list[str] = field(init=False)
    negs: list[Hit] = field(init=False)

    def __post_init__(self) -> None:
        self.words = [t.text for t in self.tokens]
        # negations of this language; of another only when unmistakable (four letters or more:
        # "ni" is Swedish "you", French "n'" is Finnish "EU:n")
        spoken = {h.language for h in self.hits if h.category not in ("negators", "self", "clitics")}
        self.negs = [h for h in self.cat("negators", self.hits)
                     if h.language == self.language or h.language in spoken or h.end - h.start > 1
                     or len(self.words[h.start]) >= 4]
        self.selfs = self.cat("self", self.hits)
        # "não tenho interesse, favor remover meu email": a "please" between ends the negation
        self.asks = [h for h in self.hits if h.category in ("politeness", "requests")
                     and h.end - h.start == 1 and len(self.words[h.start]) >= 5
                     and h.language == self.language]
        self.targets = self.cat("targets")
        self.mores = self.cat("more")
        noun_at = {t.start for t in self.cat("targets", self.hits)}
        self_starts = {h.start for h in self.selfs}
        self.own = [h for h in self.own if not (h.category == "send" and h.start in noun_at
                                                and h.end not in self_starts)]
        addresses = [i for i, w in enumerate(self.words) if w == ADDRESS_TOKEN]
        self.self_at = sorted([h.start for h in self.selfs] + addresses)
        self.target_at = sorted(h.start for h in self.targets)

    def cat(self, name: str, pool: list[Hit] | None = None) -> list[Hit]:
        return [h for h in (self.own if pool is None else pool) if h.category == name]

    def negated_before(self, h: Hit, strict: bool = False) -> bool:
        """A negation up to six words before. ``strict`` (the negation makes the request):
        a foreign word in between takes it ("do not hesitate to send me")."""
        return any(h.start - NEG_BEFORE <= n.start < h.start
                   and not (strict and any(n.end <= f < h.start for f in self.foreign))
                   and not any(n.end <= p.start and p.end <= h.start for p in self.asks)
                   for n in self.negs)

    def negated(self, h: Hit) -> bool:
        return self.negated_before(h) or any(h.start < n.start < h.end + NEG_AFTER for n in self.negs)

    def unknown_here(self, i: int) -> bool:
        """No lexicon's word and no function word of this language (``foreign`` leaves out the
        function words of every language: Swedish "nummer" is not Dutch)."""
        from optdesk.classify.intent import stopwords_by_language

        word = self.words[i]
        return (not any(h.start <= i < h.end for h in self.raw) and len(word) > 1 and not word.isdigit()
                and word not in stopwords_by_language().get(self.language, ()) and word not in self.self_names)

    def foreign_after(self, i: int) -> bool:
        return any(f >= i for f in self.foreign)

    def object_slot_foreign(self, h: Hit) -> bool:
        """Another object: a foreign word inside the verb's own span or between the verb and its
        nearest object (the writer or a list, within four words either side); with no such
        object, a foreign word next to the verb; or, with no list, a foreign word right after
        the writer ("remove me from the photo")."""
        foreign, self_at, target_at = self.foreign, self.self_at, self.target_at
        inside = any(h.start < f < h.end - 1 for f in foreign)
        objects = sorted(set(self_at + target_at))
        if any(h.start <= i < h.end for i in objects):
            # "mijn mobiele nummer uit het persbericht halen": a thing named before the verb's span
            return inside or (not self_at and h.start >= 2 and self.unknown_here(h.start - 1)
                              and (self.unknown_here(h.start - 2) or h.start - 2 in foreign))
        if inside:
            return True
        if any(f in (h.start - 1, h.end) for f in foreign) and not any(
                i in (h.start - 1, h.end) for i in objects):
            return True  # a foreign word right next to the verb: "das Pressefoto entfernen"
        after = [i for i in objects if h.end <= i <= h.end + 3]
        before = [i for i in objects if h.start - 4 <= i < h.start]
        clear_after = after and not any(h.end <= f < after[0] for f in foreign)
        clear_before = before and not any(before[-1] < f < h.start for f in foreign)
        if clear_after or clear_before:
            if not target_at and self_at and any(0 < f - max(self_at) <= 3 for f in foreign):
                return True  # "remove me from the photo"
            return False
        if objects:  # the writer or a list further away, something else in between
            return True
        return any(abs(f - h.start) <= 2 or abs(f - (h.end - 1)) <= 2 for f in foreign)


def named_person(v: ClauseView) -> Match:
    """"dad de baja a Carmen": the writer's own name as the object? a colleague."""
    if len(v.words) >= 3 and any(
            h.category in ("unsubscribe", "remove") and any(
                h.end <= i <= h.end + 2 and v.tokens[i].capital and v.words[i] in v.self_names
                for i in range(len(v.words)))
            for h in v.own):
        return "named-person", "third-party"
    return None


def _someone_named(v: ClauseView) -> bool:
    """Another person's address, or a name before it ("Sanne de Vries (s.devries@…)")."""
    return OTHER_ADDRESS_TOKEN in v.words


def objection(v: ClauseView) -> Match:
    """A GDPR objection or erasure request."""
    for h in v.cat("objection"):
        return "objection", "negation" if v.negated(h) else None
    return None


def unsubscribe(v: ClauseView) -> Match:
    for h in v.cat("unsubscribe"):
        mention = [m for m in v.cat("mentions", v.hits) if h.start - 2 <= m.start <= h.end + 1]
        if LINK_TOKEN in v.words:  # "Unsubscribe from our newsletter: example.org/unsub"
            mention = mention or [h]
        if mention and not v.selfs:  # an address there is where to write ("escribe a boletin@…")
            return "unsubscribe", "mention"
        if v.negated(h):
            return "unsubscribe", "negation"
        if v.target_at and not v.self_at and _someone_named(v):
            return "unsubscribe+object", "third-party"  # "Sanne de Vries (s.devries@…) van de lijst halen"
        if v.self_at or v.target_at:
            return "unsubscribe+object", "other-object" if v.object_slot_foreign(h) else None
        if v.foreign and not v.cat("want"):
            return "unsubscribe", "other-object"
        return "unsubscribe", None  # "I'd like to unsubscribe", "gerne afmeldes fremover"
    return None


def remove(v: ClauseView) -> Match:
    """A removal verb with the writer or a list as its object."""
    if not (v.self_at or v.target_at):
        return None
    for h in v.cat("remove"):
        if v.negated(h):
            return "remove", "negation"
        if v.object_slot_foreign(h):
            return "remove", "other-object"
        if v.self_at and v.target_at:
            return "remove+self+list", None
        if not v.self_at and (_someone_named(v) or any(v.tokens[f].capital and f > h.start for f in v.foreign)):
            return "remove+list", "third-party"  # "remove Ms Nowak from the list"
        return ("remove+self" if v.self_at else "remove+list"), None
    return None


def stop_or_send(v: ClauseView) -> Match:
    """A leading stop verb with a list; a stop verb with a sending verb; a negated sending verb."""
    stops, sends = v.cat("stop"), v.cat("send")
    lead = first_content(v.tokens, v.hits, v.stopwords)
    if stops and not sends and v.targets and stops[0].start == lead and not v.cat("keep", v.hits):
        h = stops[0]  # "stop all mailings", "cessez les envois": the stop verb leads
        if v.negated(h):
            return "stop+list", "negation"
        return "stop+list", "other-object" if v.object_slot_foreign(h) else None
    if stops and sends:
        if v.negated(stops[0]):
            return "stop+send", "negation"
        if v.self_at or v.target_at or v.mores or not v.foreign_after(sends[0].end):
            return "stop+send", None
        return "stop+send", "other-object"
    for s in sends:
        # verb-second languages put the negation last: "Stuur me dit niet meer"
        after = [n.start for n in v.negs if s.end <= n.start < s.end + NEG_AFTER
                 or (n.start > s.end and any(n.start < m.start <= n.start + 2 for m in v.mores))]
        # "Stuur me dit niet meer", "už posílat nemusíte": the negation after the verb, with the
        # writer between or "more" in the clause
        by_self = after and (any(s.end <= i < after[0] for i in v.self_at) or bool(v.mores))
        if ((v.negated_before(s, strict=True) or by_self) and (v.self_at or v.target_at or not v.foreign)
                and (v.mores or v.targets or not v.foreign_after(s.end))):
            return "negated-send", None
    return None


def negated_want(v: ClauseView) -> Match:
    """"I no longer wish to receive", "je ne veux plus vos communiqués"."""
    hedges = v.cat("hedges", v.hits)
    for w in v.cat("want"):
        if any(n.start < hd.start < w.start for n in v.negs for hd in hedges):
            return "negated-want", "hedge"  # "no sé si quiero seguir en la lista": doubt, not a no
        receives = [r for r in v.cat("receive") if r.start > w.start - 3]
        # German puts the negation at the end, by the verb: "ich möchte Ihre Mitteilungen
        # künftig nicht mehr erhalten"
        late = receives and any(w.end <= n.start < receives[0].start and receives[0].start - n.end <= 2
                                for n in v.negs)
        if not (v.negated(w) or late):
            continue
        if receives and any(w.start < x.start < receives[0].start for x in v.cat("stop")):
            return "negated-want+stop", "negation"  # "I don't want to stop receiving"
        if receives and (v.targets or v.mores or not v.foreign_after(receives[0].end)):
            return "negated-want+receive", None
        if not receives and any(t.start > w.start for t in v.targets) and v.negated_before(w, strict=True):
            return "negated-want+list", None  # "I don't want these" ("we can't run them like that" is not)
    return None


def no_more(v: ClauseView) -> Match:
    for h in v.cat("no_more"):
        if v.cat("receive") and not v.cat("want"):
            continue  # "I have received nothing more since March": a statement
        if v.targets or v.cat("send") or not v.foreign_after(h.end):
            return "no-more", None
    return None


def conditional_send(v: ClauseView) -> Match:
    """"If you keep sending these …": a condition, not a request."""
    if ([h for h in v.raw if h.category == "hedges" and h.start <= 1]
            and (v.cat("send") or v.cat("receive")) and (v.mores or v.targets)):
        return "conditional-send", "conditional"
    return None


def terse(v: ClauseView) -> Match:
    """A clause of lexicon words only around a removal verb or a terse word ("Stop merci")."""
    if v.foreign or v.negs:
        return None
    if any(any(o.category in ("remove", "unsubscribe") and o.start == h.start and o.end == h.end
               for o in v.own) for h in v.cat("terse")):
        return "standalone-verb", None
    if v.cat("terse") and all(t.category in ("terse", "politeness", "self", "targets")
                              for t in v.hits) and all_covered(v.words, v.hits):
        return "standalone-word", "standalone"
    return None


def noun(v: ClauseView) -> Match:
    """An opt-out noun: désinscription, baja, Abmeldung."""
    for h in v.cat("nouns"):
        if v.negated(h):
            return "noun", "negation"
        if v.selfs or v.targets or not v.foreign:
            return "noun", None
        return "noun", "other-object"
    return None


PATTERNS: tuple[Callable[[ClauseView], Match], ...] = (
    named_person, objection, unsubscribe, remove, stop_or_send, negated_want, no_more,
    conditional_send, terse, noun,
)


def match(v: ClauseView) -> Match:
    """The first pattern the clause is of, with what blocks it; None when it is of none."""
    for pattern in PATTERNS:
        found = pattern(v)
        if found is not None:
            return found
    return None


def first_content(tokens: list[Token], hits: list[Hit], stopwords: frozenset[str]) -> int | None:
    """The index of the clause's first word that is not politeness, a clause break or a
    function word."""
    skip = {i for h in hits if h.category in ("politeness", "clause_breaks", "requests")
            for i in range(h.start, h.end)}
    for i, t in enumerate(tokens):
        if i not in skip and (t.text not in stopwords or any(h.start == i and h.category in ACTION
                                                             for h in hits)):
            return i
    return None


def all_covered(words: list[str], hits: list[Hit]) -> bool:
    """Every word of the clause is a lexicon word ("Stop merci", "BAJA POR FAVOR"), none a mere
    function word ("I am out of the office")."""
    covered = {i for h in hits for i in range(h.start, h.end)}
    return all(i in covered for i in range(len(words)))
