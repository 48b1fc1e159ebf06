"""The evidence of a queued message told in sentences, with the matched words marked in the new
text; the raw JSON stays behind a "details" toggle. Everything is escaped here."""

from __future__ import annotations

import json
import re

from optdesk.views.common import esc

KIND_WORDS = {
    "opt_out": "a request to be removed", "complaint": "a spam complaint",
    "bounce_hard": "a permanent delivery failure (hard bounce)",
    "bounce_soft": "a temporary delivery failure (soft bounce)",
    "auto_reply": "an automatic reply", "opt_in": "an answer to an opt-in invitation",
    "human": "a person's reply", "unknown": "a message the rules could not place",
}
VERDICT_WORDS = {"request": "asks to be removed", "negated": "says not to remove",
                 "question": "asks a question about removal", "reported": "quotes someone else"}


def parse(evidence: str | None) -> dict:
    if not evidence:
        return {}
    try:
        value = json.loads(evidence)
    except ValueError:
        return {"text": evidence}
    return value if isinstance(value, dict) else {"value": value}


def matched_words(ev: dict) -> list[str]:
    """The words the rules matched: lexicon entries (``en:remove:remove`` → remove) and the
    matched phrase's own words when there are no entries."""
    words = []
    for entry in ev.get("entries") or []:
        words += [w for w in str(entry).rsplit(":", 1)[-1].split() if w != "*"]
    if not words and isinstance(ev.get("matched"), str) and len(ev["matched"]) < 60:
        words = ev["matched"].split()
    return sorted({w for w in words if len(w) > 1}, key=len, reverse=True)


def highlight(text: str | None, words: list[str]) -> str:
    """``text`` escaped, each whole word of ``words`` (case ignored) in <mark>."""
    if not text:
        return ""
    if not words:
        return esc(text, "")
    pattern = re.compile(r"\b(" + "|".join(re.escape(w) for w in words) + r")\b", re.IGNORECASE)
    out, at = [], 0
    for m in pattern.finditer(text):
        out += [esc(text[at:m.start()], ""), f"<mark>{esc(m.group(0))}</mark>"]
        at = m.end()
    out.append(esc(text[at:], ""))
    return "".join(out)


def sentences(row: dict) -> list[str]:
    """What the daemon saw, in a few sentences of escaped HTML."""
    ev = parse(row.get("evidence"))
    kind = row.get("kind") or "unknown"
    confidence = row.get("confidence")
    sure = f" ({confidence:.0%} sure)" if isinstance(confidence, float) else ""
    said = [f"The daemon read this as <b>{esc(KIND_WORDS.get(kind, kind))}</b>{sure}."]
    verdict = ev.get("verdict")
    if isinstance(ev.get("matched"), str):
        how = VERDICT_WORDS.get(verdict, "matched the rules")
        where = {"body": "in the reply", "subject": "in the subject"}.get(ev.get("in"), "")
        said.append(f"The sentence that {esc(how)} {esc(where)}: “{esc(ev['matched'])}”.")
    if ev.get("language"):
        said.append(f"Language: {esc(ev['language'])}.")
    for r in (ev.get("recipients") or [])[:5]:
        if isinstance(r, dict):
            said.append(f"Delivery to <b>{esc(r.get('address') or r.get('email'))}</b> failed: "
                        f"{esc(r.get('reason'))} ({esc(r.get('family'))}).")
    if kind.startswith("bounce") and not row.get("new_text"):
        said.append("A delivery notice has no reply text of its own.")
    if row.get("review_reason"):
        said.append(f"It is in review because: {esc(row['review_reason'])}.")
    return said


def evidence_html(row: dict) -> str:
    """Sentences, then the raw JSON behind a details toggle."""
    ev = parse(row.get("evidence"))
    raw = json.dumps(ev, indent=2, ensure_ascii=False, sort_keys=True) if ev else "none"
    items = "".join(f"<li>{s}</li>" for s in sentences(row))
    return (f"<ul class='optdesk-evidence'>{items}</ul><details><summary class='optdesk-muted'>"
            f"details (the rules' raw evidence)</summary><pre class='optdesk-pre'>{esc(raw)}"
            "</pre></details>")
