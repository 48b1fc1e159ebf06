"""Stage 3: automatic replies (RFC 3834 headers, out-of-office subjects and bodies).

An automatic reply is never an opt-out, whatever words it holds. The return date is read when
stated.
"""

from __future__ import annotations

from datetime import date

from optdesk.classify.context import Context
from optdesk.classify.dates import read_date
from optdesk.classify.decision import Decision
from optdesk.classify.prefilter import may_match
from optdesk.errors import BadToken
from optdesk.tokens import verify_token

STAGE = "auto_reply"


def _header_hits(ctx: Context) -> list[dict]:
    hits = []
    for rule in ctx.rules.of("auto_reply_header"):
        value = ctx.mail.header(rule.header)
        if not value or not rule.pattern.search(value):
            continue
        if rule.unless is not None and rule.unless.search(value):
            continue
        hits.append({"rule": rule.id, "header": rule.header, "matched": value[:80],
                     "confidence": rule.confidence, "language": None})
    return hits


def _pattern_hits(ctx: Context, rule_type: str, text: str) -> list[dict]:
    lowered = text.lower() if text else ""
    if not text or not may_match(ctx.rules.literals(rule_type), lowered):
        return []
    hits = []
    for rule in ctx.rules.of(rule_type):
        if not may_match(ctx.rules.rule_literals(rule), lowered):
            continue  # no pattern of this rule can match
        for pattern in rule.patterns:
            m = pattern.search(text)
            if m:
                hits.append({"rule": rule.id, "matched": m.group(0).strip()[:120],
                             "confidence": rule.confidence, "language": rule.language,
                             "leaver": bool(rule.values.get("leaver"))})
                break
    return hits


def return_date(ctx: Context, language: str | None) -> tuple[date | None, dict | None]:
    """The first stated return date, trying rules of the message's language first."""
    rules = sorted(ctx.rules.of("return_date"), key=lambda r: r.language != language)
    text = ctx.new_text[:4000] or ctx.mail.text[:4000]
    for rule in rules:
        for pattern in rule.patterns:
            for m in pattern.finditer(text):
                found = read_date(m.group("date"), rule.language, ctx.today)
                if found is not None:
                    return found, {"rule": rule.id, "matched": m.group(0).strip()[:120]}
    return None, None


def _to_unsubscribe_address(ctx: Context) -> bool:
    """Mail to unsubscribe+TOKEN@ with a valid token is a deliberate request: clients sending
    RFC 8058 / mailto unsubscribes may mark it auto-generated, and auto-replies never go there."""
    for _, token in ctx.tokens_for("unsubscribe"):
        try:
            verify_token(ctx.signing_key, token, "unsubscribe", now=ctx.now)
            return True
        except BadToken:
            continue
    return False


def _own_request(reading) -> bool:
    """A person's own request beside out-of-office words ("ich bin in Elternzeit – schick mir
    bitte nix mehr"): to be removed, or to be sent nothing more (the writer and "more" in the
    clause; "do not send me attachments while I am away" is no goodbye)."""
    pattern = reading.pattern or ""
    if pattern.startswith(("unsubscribe", "remove", "objection", "noun")):
        return True
    return reading.self_near and any(h.category in ("more", "no_more") for h in reading.hits) and pattern.startswith(
        ("no-more", "negated-send", "stop+send", "negated-want"))


def run(ctx: Context) -> tuple[Decision | None, dict]:
    if ctx.bounce_like:
        return None, {"reason": "looks like a bounce without failed recipients; left for people"}
    if _to_unsubscribe_address(ctx):
        return None, {"reason": "sent to the List-Unsubscribe address with a valid token"}
    headers = _header_hits(ctx)
    subjects = _pattern_hits(ctx, "auto_reply_subject", ctx.mail.subject)
    bodies = _pattern_hits(ctx, "auto_reply_body", ctx.new_text[:4000])
    hits = headers + subjects + bodies
    if not hits:
        return None, {"reason": "no automatic-reply header, subject or body"}
    best = max(hits, key=lambda h: h["confidence"])
    language = next((h["language"] for h in subjects + bodies if h["language"] != "any"), None) or ctx.language
    when, date_evidence = return_date(ctx, language)
    evidence = {"matched": best["matched"], "signals": hits,
                "return_date": when.isoformat() if when else None}
    if date_evidence:
        evidence["return_date_rule"] = date_evidence
    leavers = [h for h in bodies if h.get("leaver")]
    if leavers:
        evidence["leaver"] = {"rule": leavers[0]["rule"], "matched": leavers[0]["matched"]}
    decision = Decision("auto_reply", STAGE, rule=best["rule"], confidence=best["confidence"],
                        evidence=evidence, language=language, return_date=when)
    if not headers and not subjects:
        intent = ctx.rules.reader.opt_out(ctx.new_text[:20_000], None, ctx.names, ctx.mail.sender)
        leaver_only = all(h.get("leaver") for h in bodies)
        if intent.verdict == "opt_out" and (_own_request(intent.reading) or leaver_only):
            return None, {"reason": "out-of-office wording only, and a request to be removed",
                          "signals": hits}
        if intent.verdict != "none":
            decision.review = True
            evidence["opt_out_words"] = intent.evidence()
            ctx.review_reasons.append("out-of-office wording only, but it also asks to be removed")
    return decision, evidence
