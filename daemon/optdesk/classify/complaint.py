"""Stage 1: feedback-loop complaints (RFC 5965 ARF reports, Amazon SES complaints).

A complaint counts only from a trusted feedback loop (``optdesk.feedback_loops``: a configured
sender, authenticated by DKIM or by the team's MX); any other is still a ``complaint``, but
pending review, so that nothing is applied.
"""

from __future__ import annotations

import email
from email.message import Message

from optdesk.classify.context import Context
from optdesk.classify.decision import Decision
from optdesk.feedback_loops import ComplaintSenders
from optdesk.mail.parse import addresses_in, decode_header_value

STAGE = "complaint"
_FIELDS = ("feedback-type", "user-agent", "original-rcpt-to", "original-mail-from",
           "arrival-date", "reported-domain", "source-ip")


def _parts(msg: Message, limit: int = 200):
    stack, seen = [msg], 0
    while stack and seen < limit:
        part = stack.pop()
        seen += 1
        yield part
        payload = part.get_payload()
        if part.is_multipart() and isinstance(payload, list):
            stack.extend(reversed(payload))


def _fields(part: Message) -> dict[str, str]:
    payload = part.get_payload()
    block = payload[0] if isinstance(payload, list) and payload else None
    if not isinstance(block, Message):
        block = email.message_from_string(payload if isinstance(payload, str) else "")
    return {k: decode_header_value(block.get(k)) for k in _FIELDS if block.get(k)}


def _original_to(msg: Message) -> list[str]:
    for part in _parts(msg):
        ctype = part.get_content_type()
        if ctype == "message/rfc822" and isinstance(part.get_payload(), list):
            inner = part.get_payload()[0]
            return addresses_in([decode_header_value(inner.get("to"))])
        if ctype == "text/rfc822-headers":
            inner = email.message_from_string(str(part.get_payload()))
            return addresses_in([decode_header_value(inner.get("to"))])
    return []


def _ses_complaint(ctx: Context) -> Decision | None:
    """An Amazon SES complaint notification (JSON in the body, not ARF)."""
    text = ctx.mail.text
    if '"Complaint"' not in text[:2000]:
        return None
    from optdesk.classify.bounce.providers import ses_complaint

    found = ses_complaint(text)
    if found is None:
        return None
    recipients, feedback_type = found
    evidence = {"feedback_type": feedback_type, "report": {"format": "amazon-ses"},
                "reporter": ctx.mail.sender,
                "matched": f"SES complaint: {feedback_type}; recipient: {', '.join(recipients) or '?'}"}
    return _complaint(ctx, "ses-complaint", recipients, evidence)


_DEFAULT_SENDERS = ComplaintSenders()


def _complaint(ctx: Context, rule: str, recipients: list[str], evidence: dict) -> Decision:
    """A complaint against its original recipients; for review without one, or when the report
    does not come from a trusted feedback loop."""
    decision = Decision("complaint", STAGE, rule=rule, confidence=0.99 if recipients else 0.6,
                        addresses=tuple(dict.fromkeys(recipients)), evidence=evidence)
    if not recipients:
        decision.review = True
        ctx.review_reasons.append("complaint without an identifiable original recipient")
    _check_reporter(ctx, decision)
    return decision


def _check_reporter(ctx: Context, decision: Decision) -> None:
    """Hold a complaint that is not from a trusted feedback loop for review."""
    verdict = (ctx.complaint_senders or _DEFAULT_SENDERS).check(ctx.mail, ctx.raw)
    decision.evidence["reporter_check"] = {"accepted": verdict.accepted, **verdict.evidence}
    if not verdict.accepted:
        decision.review = True
        ctx.review_reasons.append(verdict.reason)


def run(ctx: Context) -> tuple[Decision | None, dict]:
    mail = ctx.mail
    report = None
    if mail.content_type == "multipart/report":  # RFC 5965: an ARF report is always one
        report = next((p for p in _parts(mail.msg) if p.get_content_type() == "message/feedback-report"), None)
    if report is None:
        ses = _ses_complaint(ctx)
        if ses is not None:
            return ses, ses.evidence
        return None, {"reason": "no message/feedback-report part"}
    fields = _fields(report)
    feedback_type = fields.get("feedback-type", "").lower()
    recipients = [a.strip("<> ").lower() for a in fields.get("original-rcpt-to", "").split(",")]
    recipients = [a for a in recipients if "@" in a] or _original_to(mail.msg)
    evidence = {"feedback_type": feedback_type or None, "report": fields,
                "reporter": mail.sender,
                "matched": f"Feedback-Type: {feedback_type or '?'}; recipient: {', '.join(recipients) or '?'}"}
    if feedback_type == "not-spam":
        return None, {**evidence, "reason": "a not-spam report is not a complaint"}
    return _complaint(ctx, "arf-feedback-report", recipients, evidence), evidence
