"""What every stage reads about one message: the parsed mail, its new text, the rules."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from optdesk.classify.phrases import guess_language, normalise, strip_reply_prefix
from optdesk.classify.rules import RuleSet
from optdesk.classify.words import fold
from optdesk.mail import NewText, ParsedMail, extract_new_text

InvitationLookup = Callable[[str], dict[str, Any] | None]
_QUOTE_MARKS = re.compile(r"^[> \t]+", re.MULTILINE)
_BLANK_LINE = re.compile(r"\n\s*\n")
_CAPS_WORDS = re.compile(r"\b[^\W\d_a-z]{2,}(?:\s+[^\W\d_a-z]{2,})?\b")
_NOT_WORD = re.compile(r"[^\w\s]")
_SUBJECT_PARTS = re.compile(r"\s+[-–—|/:]+\s+|\s*[|]\s*")
_QUOTED_WORD = re.compile(r"[\"'“”„«‘’]\s*([^\"'“”„«»‘’\n]{2,30}?)\s*[\"'“”»‘’]")


def anchored(pattern: re.Pattern[str]):
    """``pattern`` tried only where it may start (bounce/anchors.py's ``Anchored``): the same
    matches, ``search`` and ``finditer``."""
    from optdesk.classify.bounce.anchors import anchored as _anchored  # bounce imports this module

    return _anchored(pattern)


def _bare(text: str) -> str:
    """Folded letters and single spaces only: "STOP!" and "stop" read alike."""
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split())


@dataclass
class Context:
    mail: ParsedMail
    rules: RuleSet
    signing_key: bytes
    invitation_lookup: InvitationLookup | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    bounce_like: bool = False
    review_reasons: list[str] = field(default_factory=list)
    # the message's exact bytes (a DKIM signature is verified over them) and who may file a
    # complaint (optdesk.feedback_loops.ComplaintSenders; None: the built-in defaults)
    raw: bytes = b""
    complaint_senders: Any = None

    @cached_property
    def new(self) -> NewText:
        """The reply's own words: from the HTML (quotes dropped) when there is no plain part."""
        source = self.mail.html_new_text if self.mail.html_new_text is not None else self.mail.text
        footer = self.rules.any_pattern("footer")
        markers = self.rules.any_pattern("quote_marker")
        return extract_new_text(
            source[:50_000],
            footer=(footer,) if footer else self.rules.patterns("footer"),
            markers=(markers,) if markers else self.rules.patterns("quote_marker"),
            quoting=self.rules.quoting,
        )

    @cached_property
    def new_text(self) -> str:
        return normalise(self.new.text)

    @cached_property
    def subject(self) -> str:
        """The subject without reply prefixes, normalised."""
        return normalise(strip_reply_prefix(self.mail.subject))

    @cached_property
    def own_subject(self) -> str | None:
        """What the sender wrote in the subject: the subject without our own title when a reply
        repeats it (a part of three words or more found in the quoted text), e.g. "Re: <our
        title> - BAJA POR FAVOR" gives "BAJA POR FAVOR". A short subject is always read."""
        subject = self.subject.strip()
        if not subject or not self.rules.reader.may_ask(subject):
            return None  # nothing in it could be read as a request
        whole = fold(" ".join(self.mail.text[:50_000].split()))
        new = fold(" ".join(self.new.text.split()))
        kept = []
        for part in _SUBJECT_PARTS.split(subject):
            words = part.split()
            folded = fold(" ".join(words))
            if len(words) >= 2 and folded in whole and folded not in new:
                continue
            # our title followed by their word: "<our title> STOPP"
            for n in range(len(words) - 1, 2, -1):
                head = fold(" ".join(words[:n]))
                if head in whole and head not in new:
                    part = " ".join(words[n:])
                    break
            kept.append(part)
        return " - ".join(kept) or None

    @cached_property
    def footer_keywords(self) -> frozenset[str]:
        """The words our quoted release asks people to reply with to unsubscribe ("reply
        'STOP'", "antworten Sie mit „Abmelden“"), folded, from the lines of its footer."""
        found = set()
        # one paragraph a line, quote marks gone, its lines joined by single spaces
        flat = "\n".join(" ".join(p.split()) for p in _BLANK_LINE.split(
            _QUOTE_MARKS.sub("", self.mail.text[:100_000])))
        for m in anchored(self.rules.quoting.release_footer).finditer(flat):
            start = max(flat.rfind("\n", 0, m.start()) + 1, m.start() - 120)
            end = flat.find("\n", m.end())
            sentence = flat[start: min(m.end() + 120, len(flat) if end < 0 else end)]
            for q in _QUOTED_WORD.finditer(sentence):
                found.add(_bare(q.group(1)))
            for q in _CAPS_WORDS.finditer(sentence):  # "Reageer met STOP."
                found.add(_bare(q.group(0)))
        return frozenset(w for w in found if w)

    @cached_property
    def names(self) -> frozenset[str]:
        """The sender's own name and address words (a signature is not 'another object')."""
        words = f"{self.mail.sender_name or ''} {(self.mail.sender or '').split('@')[0]}"
        return frozenset(w for w in self.rules.lexicon.tokens(words.replace(".", " ")) if len(w) > 1)

    @cached_property
    def language(self) -> str | None:
        return guess_language(f"{self.subject}\n{self.new_text}")

    def tokens_for(self, prefix: str) -> list[tuple[str, str]]:
        """(address, token) for recipient addresses like ``prefix+TOKEN@domain``."""
        found = []
        for address in self.mail.recipients:
            local = address.split("@", 1)[0]
            if local.startswith(prefix + "+") and len(local) > len(prefix) + 1:
                found.append((address, local[len(prefix) + 1 :]))
        return found

    @property
    def today(self):
        return (self.mail.date or self.now).date()
