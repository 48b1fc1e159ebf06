"""Stage 4: acceptance of an opt-in invitation.

Only replies that carry an invitation token decide here: ``optin+TOKEN@…`` among the recipients,
or an In-Reply-To/References id that ``invitation_lookup`` knows. A valid token with an
affirmative answer (and no declining one) is ``opt_in``. A decline, an unclear answer or a bad
token is decisive too: kind ``human`` with ``review`` set (``decline`` True for a decline), so
an invitation reply never falls through to the opt-out rules. The answer is read by the intent
engine (``Reader.answer``): a yes only when nothing in the new text declines, asks to be removed,
questions, hedges or restricts; accepted only with the token in the reply address (the store then
checks that the sender is one of the contact's addresses) — a yes that only names the invitation
by In-Reply-To, whose From anyone can forge, goes to review.
"""

from __future__ import annotations

from typing import Any

from optdesk.classify.context import Context
from optdesk.classify.decision import Decision
from optdesk.errors import BadToken
from optdesk.tokens import TokenPayload, token_matches_email, verify_token

STAGE = "opt_in"


def _from_lookup(ctx: Context, rejected: list[dict]) -> tuple[dict | None, str | None]:
    if ctx.invitation_lookup is None:
        return None, None
    for message_id in ctx.mail.in_reply_to:
        info = ctx.invitation_lookup(message_id)
        if not info:
            continue
        if info.get("token"):
            payload = _verify(ctx, str(info["token"]), f"in-reply-to {message_id}", rejected)
            if payload is not None:
                return payload, message_id
            continue
        return dict(info), message_id
    return None, None


def _verify(ctx: Context, token: str, where: str, rejected: list[dict]) -> dict | None:
    try:
        payload: TokenPayload = verify_token(ctx.signing_key, token, "optin", now=ctx.now)
    except BadToken as exc:
        rejected.append({"where": where, "reason": exc.reason, "token": token[:80]})
        return None
    out = payload.to_dict()
    out["token"] = token
    if ctx.mail.sender and token_matches_email(ctx.signing_key, payload, ctx.mail.sender):
        out["email"] = ctx.mail.sender
    return out


def _answer(ctx: Context) -> tuple[str, str, list[dict], str | None]:
    answer, reason, readings, language = ctx.rules.reader.answer(ctx.new_text[:4000], ctx.names,
                                                                 ctx.own_subject)
    return answer, reason, [r.to_dict() for r in readings if r.hits][:12], language


def run(ctx: Context) -> tuple[Decision | None, dict]:
    if ctx.bounce_like:
        return None, {"reason": "looks like a bounce"}
    rejected: list[dict] = []
    payload, via = None, None
    for address, token in ctx.tokens_for("optin"):
        payload = _verify(ctx, token, address, rejected)
        if payload is not None:
            via = address
            break
    if payload is None:
        payload, via = _from_lookup(ctx, rejected)
    if payload is None and not rejected:
        return None, {"reason": "no invitation token"}
    if payload is None:
        ctx.review_reasons.append("invitation token rejected: " + rejected[0]["reason"])
        evidence = {"token_rejected": rejected}
        return Decision("human", STAGE, rule="optin-token-rejected", confidence=1.0,
                        evidence=evidence, review=True), evidence
    by_address = any(via == address for address, _ in ctx.tokens_for("optin"))
    return _decide(ctx, payload, via, rejected, by_address), {"token": _public(payload), "via": via}


def _public(payload: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != "token"}


def _decide(ctx: Context, payload: dict, via: str | None, rejected: list[dict],
            by_address: bool) -> Decision:
    answer, reason, clauses, language = _answer(ctx)
    matches_sender = payload.get("email") is not None and payload.get("email") == ctx.mail.sender
    evidence = {"token": _public(payload), "via": via, "answer": answer, "reason": reason,
                "matched": ctx.new_text[:200], "clauses": clauses,
                "sender_matches_token": matches_sender}
    if rejected:
        evidence["token_rejected"] = rejected
    if answer == "accept" and by_address:  # the store then checks the sender is the contact's
        return Decision("opt_in", STAGE, rule="optin-accept", confidence=0.95, evidence=evidence,
                        language=language, token=payload)
    if answer == "accept":
        answer = "unverified"
        reason = "a yes that only refers to the invitation (In-Reply-To), without its token"
        evidence.update(answer=answer, reason=reason)
    ctx.review_reasons.append({"decline": "invitation declined"}.get(answer, f"invitation answer: {reason}"))
    return Decision("human", STAGE, rule=f"optin-{answer}", confidence=1.0, evidence=evidence,
                    language=language, review=True, token=payload, decline=answer == "decline")
