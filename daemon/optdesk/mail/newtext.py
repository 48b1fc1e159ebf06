"""The new text of a reply: quoted text, attribution lines, signatures and our footer removed.

Handles ``>`` quotes, "On … wrote:" in seven languages (also when wrapped over two lines),
"-----Original Message-----" and its translations, Outlook header blocks (From:/Sent:/To:/
Subject: and translations, optionally after a line of underscores), signatures ("-- ",
"Sent from my iPhone" …) and footer markers passed by the caller (from rules/).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

_I = re.IGNORECASE
ATTRIBUTION = [
    re.compile(p, _I)
    for p in (
        r"^\s*on\b.{0,200}\bwrote\s*:\s*$",
        r"^\s*le\b.{0,200}\ba [ée]crit\s*:\s*$",
        r"^\s*am\b.{0,200}\bschrieb\b.{0,120}:\s*$",
        r"^\s*el\b.{0,200}\bescribi[óo]\s*:\s*$",
        r"^\s*il\b.{0,200}\bha scritto\s*:\s*$",
        r"^\s*op\b.{0,200}\bschreef\b.{0,120}:\s*$",
        r"^\s*em\b.{0,200}\bescreveu\s*:\s*$",
        r"^.{0,200}\b(wrote|a écrit|schrieb|escribió|ha scritto|schreef|escreveu)\s*:\s*$",
    )
]
ORIGINAL_MESSAGE = re.compile(
    r"^\s*-{2,}\s*(original message|forwarded message|message d'origine|message original|"
    r"message transf[ée]r[ée]|urspr[üu]ngliche nachricht|weitergeleitete nachricht|"
    r"mensaje original|mensaje reenviado|messaggio originale|messaggio inoltrato|"
    r"oorspronkelijk bericht|origineel bericht|doorgestuurd bericht|mensagem original|"
    r"mensagem encaminhada)\s*-{2,}\s*$",
    _I,
)
_HEADER_FROM = re.compile(r"^\s*\*?(from|de|von|da|van|remetente)\s*\*?\s*:", _I)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|date|to|subject|cc|envoy[ée]|[àa]|objet|date|gesendet|an|betreff|datum|"
    r"enviado|enviada|para|asunto|fecha|inviato|a|oggetto|data|verzonden|aan|onderwerp|assunto)"
    r"(\s+(el|em|on|le|am|il))?\s*\*?\s*:",
    _I,
)
_UNDERSCORES = re.compile(r"^\s*_{10,}\s*$")
SIGNATURE = [
    re.compile(p, _I)
    for p in (
        r"^-- ?$",
        r"^\s*(sent|envoy[ée]|gesendet|enviado|inviato|verzonden|verstuurd)\s+(from|de|von|"
        r"desde|da|vanaf|met|do)\s+(my|mon|mein(em)?|mi|il mio|mijn|meu)\b.{0,40}$",
        r"^\s*get outlook for (ios|android)\s*$",
        r"^\s*von meinem \S+( \S+)? gesendet\s*$",
        r"^\s*inviato da (iphone|ipad|android|outlook|samsung)\b.{0,40}$",
    )
]


@dataclass(frozen=True)
class NewText:
    """The reply's own words, and what was cut (for evidence)."""

    text: str
    cut_at: str | None  # the marker line where the quoted/footer part began
    cut_reason: str | None  # "attribution", "original-message", "outlook-header", "signature", "footer"
    quoted_lines: int


def _is_outlook_block(lines: Sequence[str], i: int) -> bool:
    """A From:-line followed within four lines by two more header lines (Sent/To/Subject…)."""
    if not _HEADER_FROM.match(lines[i]):
        return False
    following = [ln for ln in lines[i + 1 : i + 6] if ln.strip()]
    return sum(1 for ln in following[:4] if _HEADER_NEXT.match(ln)) >= 2


_ATTRIBUTION_ANY = re.compile("|".join(f"(?:{p.pattern})" for p in ATTRIBUTION[:-1]), _I)
_SIGNATURE_ANY = re.compile("|".join(f"(?:{p.pattern})" for p in SIGNATURE), _I)


def _attribution(line: str, following: str | None) -> bool:
    """'On … wrote:' on this line, or wrapped onto the next one (cheap tests first)."""
    if line.rstrip().endswith(":") and (_ATTRIBUTION_ANY.search(line) or ATTRIBUTION[-1].search(line)):
        return True
    if following is not None and len(line) < 200 and following.rstrip().endswith(":"):
        return bool(_ATTRIBUTION_ANY.search(f"{line.rstrip()} {following.strip()}"))
    return False


def _cut_reason(
    lines: Sequence[str], i: int, footer: Sequence[re.Pattern[str]]
) -> str | None:
    line = lines[i]
    stripped = line.strip()
    if not stripped:
        return None
    if stripped[0] in "-_":
        if ORIGINAL_MESSAGE.match(line):
            return "original-message"
        if _UNDERSCORES.match(line) and i + 1 < len(lines) and _is_outlook_block(lines, i + 1):
            return "outlook-header"
    if _attribution(line, lines[i + 1] if i + 1 < len(lines) else None):
        return "attribution"
    if _HEADER_FROM.match(line) and _is_outlook_block(lines, i):
        return "outlook-header"
    if _SIGNATURE_ANY.search(line):
        return "signature"
    if any(p.search(line) for p in footer):
        return "footer"
    return None


def extract_new_text(
    text: str,
    footer: Iterable[re.Pattern[str]] = (),
    markers: Iterable[re.Pattern[str]] = (),
) -> NewText:
    """Strip quotes, attribution, signature and footer from a plain-text reply body.

    ``footer`` patterns mark the first line of our own footer; ``markers`` are extra patterns
    (from rules/) that mark the start of quoted text. Everything from such a line on is cut.
    """
    footer = tuple(footer)
    markers = tuple(markers)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    kept: list[str] = []
    quoted = 0
    for i, line in enumerate(lines):
        if line.lstrip().startswith(">"):
            quoted += 1
            continue
        reason = _cut_reason(lines, i, footer)
        if reason is None and any(p.search(line) for p in markers):
            reason = "marker"
        if reason is not None:
            return NewText(_join(kept), line.strip()[:200], reason, quoted + len(lines) - i)
        kept.append(line)
    return NewText(_join(kept), None, None, quoted)


def _join(lines: list[str]) -> str:
    return re.sub(r"\n{3,}", "\n\n", "\n".join(ln.rstrip() for ln in lines)).strip()
