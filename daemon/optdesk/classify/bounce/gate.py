"""The bounce gate: which messages may be delivery notices at all (``bounce_gate`` rules).

Only a message that passes the gate is read as a bounce; a reply that merely quotes a bounce, or
talks about one, does not pass (no null sender, no report type, no notice subject or sender).
"""

from __future__ import annotations

from optdesk.classify.context import Context


def _gate_value(ctx: Context, field: str) -> str:
    mail = ctx.mail
    if field == "sender":
        return (mail.sender or "").split("@", 1)[0]
    if field == "sender_name":
        return mail.sender_name
    if field == "subject":
        return mail.subject
    if field == "content_type":
        return f"{mail.content_type}; report-type={mail.report_type or ''}"
    return mail.header(field.split(":", 1)[1])


def gate(ctx: Context) -> list[dict]:
    """Every gate signal that fired: rule id, field, matched text, strength."""
    hits = []
    if ctx.mail.null_sender:
        hits.append({"rule": "null-sender", "field": "return-path", "matched": "<>",
                     "strength": "weak"})
    for rule in ctx.rules.of("bounce_gate"):
        value = _gate_value(ctx, rule.field)
        for pattern in rule.patterns:
            m = pattern.search(value) if value else None
            if m:
                hits.append({"rule": rule.id, "field": rule.field, "matched": m.group(0)[:80],
                             "strength": rule.strength})
                break
    return hits
