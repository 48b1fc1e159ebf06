"""Stage 5: opt-out requests: mail to the List-Unsubscribe address, or a request that the intent
engine (classify/intent.py, rules/intent/) reads in the new text or the sender's own subject.

A request is ``opt_out``; a possible request the engine cannot decide (negated, a question, a
third party, one list only, reported speech, an opt-out word in another sense) is ``human`` with
review set and the clause as evidence — never silently human, never applied."""

from __future__ import annotations

import re

from optdesk.classify.context import Context, _bare
from optdesk.classify.decision import Decision
from optdesk.classify.intent import Intent
from optdesk.errors import BadToken
from optdesk.tokens import token_matches_email, verify_token

STAGE = "opt_out"


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


def _footer_keyword(ctx: Context) -> tuple[str, str] | None:
    """(where, text) when the reply's first line, or its own subject, is exactly the keyword our
    quoted footer asks for ("reply STOP to unsubscribe")."""
    lines = [line.strip() for line in ctx.new.text.splitlines() if line.strip()]
    subject = ctx.own_subject or ""
    candidates = [("body", lines[0] if lines else ""), ("subject", subject)]
    last = subject.split()[-2:]  # "<our title> STOP"
    candidates += [("subject", " ".join(last[-n:])) for n in (1, 2)
                   if len(last) >= n and " ".join(last[-n:]).isupper()]
    for line in lines:  # a line of its own, in the footer's capitals: "SAIR" ("STOP! Even checken" is not)
        word = re.sub(r"[^\w\s]", "", line).strip()
        if word and word.isupper():
            candidates.append(("body", line, word))
    # a footer keyword is a quoted phrase of up to 30 letters or one or two capitalised words:
    # only when a candidate has that size is the footer read
    probes = [(c[0], c[1], _bare(c[-1])) for c in candidates if c[-1]]
    probes = [p for p in probes if p[2] and (len(p[2]) <= 30 or p[2].count(" ") <= 1)]
    if not probes or not ctx.footer_keywords:
        return None
    for where, text, bare in probes:
        if bare in ctx.footer_keywords:
            return where, text
    return None


def _contradicted(intent: Intent) -> bool:
    """The reply also says otherwise: a negated, reported, conditional, third-party or one-list
    request beside the footer's word."""
    return intent.verdict == "review" and intent.reading is not None and intent.reading.blocked_by in (
        "negation", "reported-speech", "third-party", "restriction", "conditional", "question")


def read_intent(ctx: Context) -> Intent:
    """The intent engine's reading of the reply's new text and its own subject."""
    return ctx.rules.reader.opt_out(ctx.new_text[:20_000], ctx.own_subject, ctx.names, ctx.mail.sender)


def run(ctx: Context) -> tuple[Decision | None, dict]:
    if ctx.bounce_like:
        return None, {"reason": "looks like a bounce; opt-out phrases not read"}
    if ctx.mail.sender is None:
        return None, {"reason": "no sender address to opt out"}
    decision, evidence = _list_unsubscribe(ctx)
    if decision is not None:
        return decision, evidence
    keyword = _footer_keyword(ctx)
    intent = read_intent(ctx)
    if keyword is not None and not _contradicted(intent):
        evidence = {"matched": keyword[1], "in": keyword[0], "reason": "the reply is the word our footer asks for",
                    "footer_keywords": sorted(ctx.footer_keywords)}
        language = intent.language or ctx.language
        return Decision("opt_out", STAGE, rule="footer-keyword", confidence=0.95,
                        addresses=(ctx.mail.sender,), evidence=evidence, language=language), evidence
    # the footer's word beside a negated or reported one ("RE: SAIR" over "NÃO QUEREMOS SER
    # DESCADASTRADOS"): the reading's review stands
    details = {"new_text_cut": ctx.new.cut_reason, **intent.evidence()}
    if intent.verdict == "none":
        return None, details
    if intent.verdict == "review":
        ctx.review_reasons.append(f"possible opt-out: {intent.reason}")
        return Decision("human", STAGE, rule=intent.rule, confidence=0.5, evidence=details,
                        language=intent.language, review=True), details
    confidence = 0.95 if intent.reason == "request" else 0.9
    return Decision("opt_out", STAGE, rule=intent.rule, confidence=confidence,
                    addresses=(ctx.mail.sender,), evidence=details,
                    language=intent.language), details
