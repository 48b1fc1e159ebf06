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


_TEXT_WORD = re.compile(r"[^\W_]+(?:['\u2019\u02bc\-][^\W_]+)*")
_PART = re.compile(r"[^\W_]+")


def highlight(text: str | None, words: list[str]) -> str:
    """``text`` escaped, as written, each whole word of it that is one of ``words`` under the
    folding rule of the search (``optdesk.store.search.word_forms``: case, accents, umlauts
    spelt out, apostrophes: "loeschen" and "Löschen" for "löschen") in <mark>. A joined word
    ("take-off", "n'envoyez") is marked whole when it is one of ``words``, else its parts are."""
    if not text:
        return ""
    from optdesk.store.search import word_forms

    wanted = {f for w in words for f in word_forms(w)}
    if not wanted:
        return esc(text, "")
    spans = []
    for m in _TEXT_WORD.finditer(text):
        if word_forms(m.group(0)) & wanted:
            spans.append(m.span())
        else:
            spans += [(m.start() + p.start(), m.start() + p.end())
                      for p in _PART.finditer(m.group(0)) if word_forms(p.group(0)) & wanted]
    out, at = [], 0
    for start, end in spans:
        out += [esc(text[at:start], ""), f"<mark>{esc(text[start:end])}</mark>"]
        at = end
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
