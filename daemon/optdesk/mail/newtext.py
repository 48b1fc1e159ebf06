"""The new text of a reply: every line the sender wrote — above the quote, between quoted blocks
and below it — with quotes, attribution lines, header blocks, signatures, disclaimers and our
footer removed.

The words clients write around a quote, in every supported language, are data in
``rules/mail/quoting.yaml`` (``Quoting``). How a line is read:

- ``>`` lines are quoted; the text between and after them is new (inline and bottom-posting);
- an attribution line ("On … wrote:", "Le … a écrit :", "W dniu … napisał:", also wrapped
  over two lines) followed by ``>`` lines starts a quote that ends with them; followed by
  anything else (Gmail and Outlook quote without ``>``) everything after it is the original;
- a header block (From:/Sent:/To:/Subject: and translations) or "-----Original Message-----"
  and our own footer: everything after it is the original;
- a mobile signature line is dropped on its own; a ``-- `` signature up to the next quote; a
  paragraph of a legal disclaimer is dropped.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import yaml

from optdesk.errors import RuleError
from optdesk.yamlfile import compose_file

_I = re.IGNORECASE
KEYS = ("wrote", "attribution_start", "header_from", "header_fields", "original_message", "mobile_signature",
        "signature_start", "disclaimer", "release_footer")


@dataclass(frozen=True)
class NewText:
    """The reply's own words, and what was cut (for evidence)."""

    text: str
    cut_at: str | None  # the first marker line where a quoted/footer part began
    cut_reason: str | None  # attribution, original-message, outlook-header, signature, footer, marker
    quoted_lines: int


class Quoting:
    """The compiled quoting vocabulary."""

    def __init__(self, lists: dict[str, list[str]]) -> None:
        def alt(key: str) -> str:
            return "|".join(f"(?:{p})" for p in lists.get(key, ()))

        # the verb may come before the date, whose time has a colon of its own: Gmail's
        # "Press Office <…> escreveu no dia terça, 5/05/2026 à(s) 09:00:"
        self.attribution = re.compile(
            rf"(?:^|[\s,)>])(?:{alt('wrote')})(?:\s(?:[^:]|(?<=\d):(?=\d\d)){{0,120}})?\s*:\s*$", _I)
        self.attribution_start = re.compile(rf"^\s*(?:{alt('attribution_start') or '(?!x)x'})\b", _I)
        self.header_from = re.compile(rf"^\s*\*?(?:{alt('header_from')})\s*\*?\s*:", _I)
        self.header_next = re.compile(rf"^\s*\*?(?:{alt('header_fields')})\s*\*?\s*:", _I)
        self.original = re.compile(rf"^\s*[-_=*]{{2,}}\s*(?:{alt('original_message')})\s*[-_=*]{{2,}}\s*$", _I)
        self.original_bare = re.compile(rf"^\s*(?:{alt('original_message')})\s*:?\s*$", _I)
        self.mobile = re.compile(rf"^\s*(?:{alt('mobile_signature')})(?:\s*<[^>\s]*>|\s+\S+)?\s*$", _I)
        self.signature = re.compile(rf"^(?:{alt('signature_start')})\s*$")
        self.disclaimer = re.compile(alt("disclaimer") or r"(?!x)x", _I)
        self.release_footer = re.compile(alt("release_footer") or r"(?!x)x", _I)


def _anchored(pattern: re.Pattern[str]):
    """``pattern`` tried only where it may start (classify/bounce/anchors.py's ``Anchored``,
    the same matches): the disclaimer and footer patterns are alternations of many words that
    the regex engine would try at every position."""
    from optdesk.classify.bounce.anchors import anchored  # imported late: classify imports mail

    return anchored(pattern)


def load_quoting(path: pathlib.Path, name: str) -> Quoting:
    """Read and compile ``rules/mail/quoting.yaml``; errors name the file and line."""
    root = compose_file(path, name)
    if not isinstance(root, yaml.MappingNode):
        raise RuleError(f"{name}:1: the quoting file must be a mapping of lists")
    lists: dict[str, list[str]] = {}
    for key_node, value_node in root.value:
        line = key_node.start_mark.line + 1
        if key_node.value not in KEYS:
            raise RuleError(f"{name}:{line}: unknown key {key_node.value!r} (one of {', '.join(KEYS)})")
        if not isinstance(value_node, yaml.SequenceNode):
            raise RuleError(f"{name}:{line}: {key_node.value} must be a list of patterns")
        for item in value_node.value:
            try:
                re.compile(item.value, _I)
            except (re.error, TypeError) as exc:
                raise RuleError(f"{name}:{item.start_mark.line + 1}: bad regex {item.value!r}: {exc}") from None
        lists[key_node.value] = [item.value for item in value_node.value]
    return Quoting(lists)


_DEFAULT: Quoting | None = None


def default_quoting() -> Quoting:
    """The quoting vocabulary of the rules folder shipped with optdesk (for callers without one)."""
    global _DEFAULT
    if _DEFAULT is None:
        path = pathlib.Path(__file__).resolve().parents[3] / "rules" / "mail" / "quoting.yaml"
        _DEFAULT = load_quoting(path, "rules/mail/quoting.yaml") if path.is_file() else Quoting({})
    return _DEFAULT


def _is_outlook_block(q: Quoting, lines: Sequence[str], i: int) -> bool:
    """Three header lines (From/Sent/To/Subject…, one of them From) within six lines, the first
    at ``i`` (Outlook puts From first, some webmail Sent/Date)."""
    first = lines[i]
    if not (q.header_from.match(first) or q.header_next.match(first)):
        return False
    block = [first] + [ln for ln in lines[i + 1 : i + 8] if ln.strip()][:5]
    froms = sum(1 for ln in block if q.header_from.match(ln))
    fields = sum(1 for ln in block if q.header_next.match(ln) and not q.header_from.match(ln))
    return froms >= 1 and froms + fields >= 3


_DATED = re.compile(r"\d|@|<")
# "8. 9. 2026 v 8:00, Press Office <press@example.org>:" (Apple Mail in some languages)
_ADDRESS_ATTRIBUTION = re.compile(r"^.{0,120}\d.{0,120}<[^<>\s]+@[^<>\s]+>\s*:\s*$")


def _attribution(q: Quoting, lines: Sequence[str], i: int) -> int:
    """How many lines the attribution at ``i`` spans (0: none). An attribution names a date or
    an address, and ends in the verb (and the name) and a colon."""
    line = lines[i].rstrip()
    if "@" in line and _ADDRESS_ATTRIBUTION.match(line):  # every match holds an "@"
        return 1
    if (len(line) < 400 and line.endswith(":") and q.attribution.search(line)
            and (_DATED.search(line) or q.attribution_start.match(line))):
        return 1
    following = lines[i + 1].rstrip() if i + 1 < len(lines) else ""
    if line and len(line) < 200 and following.endswith(":") and len(following) < 200:
        both = f"{line} {following.strip()}"
        if q.attribution.search(both) and (_DATED.search(both) or q.attribution_start.match(both)):
            return 2
    return 0


# after a header block, the sender's own inline answers in an unquoted original: "--> yes",
# "[AR] no", "==> done"
_INLINE_MARK_PREFIX = re.compile(r"^\s*(?:-{1,2}>|={1,2}>|\[(?!cid:|https?:|mailto:|image)[^\]\n/@]{1,24}\]:?)\s*",
                                 re.IGNORECASE)
_INLINE_MARK = re.compile(_INLINE_MARK_PREFIX.pattern + r"\S")


def _next_content(lines: Sequence[str], i: int) -> str | None:
    for line in lines[i:]:
        if line.strip():
            return line
    return None


def extract_new_text(
    text: str,
    footer: Iterable[re.Pattern[str]] = (),
    markers: Iterable[re.Pattern[str]] = (),
    quoting: Quoting | None = None,
) -> NewText:
    """The sender's own lines of a plain-text reply body (see the module docstring).

    ``footer`` patterns mark the first line of our own footer; ``markers`` are extra patterns
    (from rules/) that mark the start of quoted text; after either, the rest is cut.
    """
    q = quoting or default_quoting()
    footer, markers = tuple(footer), tuple(markers)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    quoted = 0
    first_cut: tuple[str, str] | None = None
    in_signature = False
    i = 0
    while i < len(lines):
        line = lines[i]
        stripped = line.strip()
        if line.lstrip().startswith(">"):
            quoted += 1
            in_signature = False
            i += 1
            continue
        span = _attribution(q, lines, i) if stripped else 0
        if span:
            following = _next_content(lines, i + span)
            first_cut = first_cut or (stripped[:200], "attribution")
            if following is not None and following.lstrip().startswith(">"):
                i += span
                continue
            quoted += len(lines) - i
            kept.extend(_inline_answers(lines[i + span :], q))
            break
        reason = _cut_reason(q, lines, i, footer, markers) if stripped else None
        if reason is not None:
            first_cut = first_cut or (stripped[:200], reason)
            following = _next_content(lines, i + 1)
            if reason != "footer" and following is not None and following.lstrip().startswith(">"):
                i += 1
                continue
            quoted += len(lines) - i
            kept.extend(_inline_answers(lines[i + 1 :], q))
            break
        if q.signature.match(line):
            first_cut = first_cut or (stripped[:200], "signature")
            in_signature = True
            i += 1
            continue
        if in_signature:
            i += 1
            continue
        if stripped and q.mobile.match(line):
            first_cut = first_cut or (stripped[:200], "signature")
            i += 1
            continue
        kept.append(line)
        i += 1
    new = _drop_disclaimers(q, kept)
    cut_at, cut_reason = first_cut if first_cut else (None, None)
    return NewText(_join(new), cut_at, cut_reason, quoted)


TAIL_LIMIT = 800
_RULE_LINE = re.compile(r"^\s*_{8,}\s*$")
_BLANK_LINES = re.compile(r"\n{3,}")


def _inline_answers(rest: Sequence[str], q: Quoting | None = None) -> list[str]:
    """The sender's own lines inside or below an unquoted original: marked answers ("--> …",
    "[AR] …"), and the short paragraphs written after the release's unsubscribe footer."""
    found = [_INLINE_MARK_PREFIX.sub("", ln) for ln in rest if _INLINE_MARK.match(ln)]
    if q is not None:
        release_footer = _anchored(q.release_footer)
        footer = max((i for i, ln in enumerate(rest) if release_footer.search(ln)), default=None)
        if footer is not None:
            end = footer
            while end + 1 < len(rest) and rest[end + 1].strip():  # the footer's paragraph
                end += 1
            tail = []
            for ln in rest[end + 1 :]:
                if ln.lstrip().startswith(">") or q.signature.match(ln) or q.header_from.match(ln) \
                        or q.original.match(ln) or q.mobile.match(ln):
                    break
                tail.append(ln)
            if tail and len("\n".join(tail)) <= TAIL_LIMIT:
                found += tail
    return ["", *found] if found else []


def _cut_reason(q: Quoting, lines: Sequence[str], i: int, footer, markers) -> str | None:
    line = lines[i]
    if q.original.match(line) or q.original_bare.match(line):
        return "original-message"
    if _RULE_LINE.match(line) and i + 1 < len(lines) and _is_outlook_block(q, lines, i + 1):
        return "outlook-header"
    if _is_outlook_block(q, lines, i):
        return "outlook-header"
    if any(p.search(line) for p in footer):
        return "footer"
    if any(p.search(line) for p in markers):
        return "marker"
    return None


def _drop_disclaimers(q: Quoting, lines: list[str]) -> list[str]:
    out: list[str] = []
    paragraph: list[str] = []
    disclaimer = _anchored(q.disclaimer)
    for line in [*lines, ""]:
        if line.strip():
            paragraph.append(line)
            continue
        if paragraph and not disclaimer.search(" ".join(paragraph)):
            out.extend(paragraph)
        out.append("")
        paragraph = []
    return out


def _join(lines: list[str]) -> str:
    return _BLANK_LINES.sub("\n\n", "\n".join(ln.rstrip() for ln in lines)).strip()
