"""Stage 5: opt-out requests: mail to the List-Unsubscribe address, or phrases in the new text."""

from __future__ import annotations

from optdesk.classify.context import Context
from optdesk.classify.decision import Decision
from optdesk.classify.phrases import best_match, find_phrases, is_reply_subject
from optdesk.errors import BadToken
from optdesk.tokens import token_matches_email, verify_token

STAGE = "opt_out"
LONG_TEXT = 1500  # a long letter with one matching phrase is less certain


def _list_unsubscribe(ctx: Context) -> tuple[Decision | None, dict]:
    rejected = []
    for address, token in ctx.tokens_for("unsubscribe"):
        try:
            payload = verify_token(ctx.signing_key, token, "unsubscribe", now=ctx.now)
        except BadToken as exc:
            rejected.append({"address": address, "reason": exc.reason})
            continue
        data = payload.to_dict()
        data["token"] = token
        matches = token_matches_email(ctx.signing_key, payload, ctx.mail.sender or "")
        if matches:
            data["email"] = ctx.mail.sender
        evidence = {"matched": address, "to": address,
                    "token": {k: v for k, v in data.items() if k != "token"},
                    "sender_matches_token": matches}
        return Decision("opt_out", STAGE, rule="list-unsubscribe", confidence=1.0 if matches else 0.9,
                        addresses=(ctx.mail.sender,), evidence=evidence, token=data), evidence
    if rejected:
        ctx.review_reasons.append("mail to the unsubscribe address with a bad token")
        evidence = {"matched": rejected[0]["address"], "token_rejected": rejected}
        return Decision("opt_out", STAGE, rule="list-unsubscribe-unverified", confidence=0.6,
                        addresses=(ctx.mail.sender,), evidence=evidence, review=True), evidence
    return None, {}


def run(ctx: Context) -> tuple[Decision | None, dict]:
    if ctx.bounce_like:
        return None, {"reason": "looks like a bounce; opt-out phrases not read"}
    if ctx.mail.sender is None:
        return None, {"reason": "no sender address to opt out"}
    decision, evidence = _list_unsubscribe(ctx)
    if decision is not None:
        return decision, evidence
    rules, negations = ctx.rules.of("opt_out_phrase"), ctx.rules.of("negation")
    quick = ctx.rules.literals("opt_out_phrase")
    matches = find_phrases(rules, ctx.new_text[:20_000], negations, "body", quick)
    if not is_reply_subject(ctx.mail.subject):  # a reply's subject is our own press release's
        matches += find_phrases([r for r in rules if r.subject], ctx.subject, negations, "subject", quick)
    live = [m for m in matches if m.negated_by is None]
    details = {"new_text_cut": ctx.new.cut_reason, "matches": [m.to_dict() for m in matches]}
    if not live:
        if matches:
            ctx.review_reasons.append("opt-out words, but negated")
        return None, details
    best = best_match(live, f"{ctx.subject}\n{ctx.new_text}")
    confidence = best.rule.confidence
    if len(ctx.new_text) > LONG_TEXT:
        confidence *= 0.85
    if len(live) < len(matches):
        confidence *= 0.8
    evidence = {"matched": best.text, "in": best.where, **details}
    return Decision("opt_out", STAGE, rule=best.rule.id, confidence=confidence,
                    addresses=(ctx.mail.sender,), evidence=evidence,
                    language=best.rule.language), evidence
