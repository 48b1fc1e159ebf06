"""Stage 2: delivery failures, gated. flufl.bounce runs only on messages that look like bounces.

Each failed recipient's diagnostic (its DSN block, else the text around its address in the
notification) is read with the ``bounce_diagnostic`` rules: a sender-side policy refusal (5.7.x:
our IP or content refused) is listed in the evidence and never counted against the address; a
full mailbox is soft even when reported as permanent.
"""

from __future__ import annotations

import re
from email.message import Message

from flufl.bounce import all_failures

from optdesk.classify.context import Context
from optdesk.classify.decision import Decision
from optdesk.classify.prefilter import may_match
from optdesk.mail.parse import decode_header_value

STAGE = "bounce"
_DSN_FIELDS = ("action", "status", "diagnostic-code", "x-supplementary-info", "x400-supplementary-info")
_RETURNED = re.compile(
    r"^(received: |return-path: |-+ ?(original message|this is a copy|the original message|"
    r"below this line|message header follows|undelivered message follows))",
    re.IGNORECASE | re.MULTILINE,
)


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


def _dsn_blocks(msg: Message) -> dict[str, str]:
    """Recipient → its DSN fields as one text, from message/delivery-status parts."""
    found: dict[str, str] = {}
    stack, seen = [msg], 0
    while stack and seen < 200:
        part = stack.pop()
        seen += 1
        payload = part.get_payload()
        if part.get_content_type() == "message/delivery-status" and isinstance(payload, list):
            for block in payload:
                fields = {k.lower(): v for k, v in block.raw_items()}
                text = " ".join(f"{k}: {decode_header_value(fields[k])}" for k in _DSN_FIELDS if k in fields)
                for name in ("final-recipient", "original-recipient", "x-actual-recipient"):
                    value = decode_header_value(fields.get(name))
                    if value:
                        address = value.split(";", 1)[-1].strip(" <>").lower()
                        found[address] = found.get(address, "") + " " + text
        elif part.is_multipart() and isinstance(payload, list):
            stack.extend(payload)
    return found


def diagnostic(ctx: Context, address: str, dsn: dict[str, str]) -> str:
    """The text that explains why ``address`` failed."""
    text = ctx.mail.text
    cut = _RETURNED.search(text)
    notice = text[: cut.start()] if cut else text
    index = notice.lower().find(address)
    if index < 0:
        return dsn.get(address) or notice[:3000]
    start = max(notice.rfind("\n\n", 0, index), index - 200, 0)
    end = notice.find("\n\n", index + len(address))
    window = notice[start : min(end if end >= 0 else len(notice), index + 600)]
    return f"{dsn.get(address, '')} {window}"


def judge(ctx: Context, diag: str) -> dict[str, str]:
    """treat_as → rule id for every bounce_diagnostic rule matching ``diag``."""
    verdicts: dict[str, str] = {}
    lowered = diag.lower()
    for rule in ctx.rules.of("bounce_diagnostic"):
        if rule.treat_as in verdicts or not may_match(ctx.rules.rule_literals(rule), lowered):
            continue
        if any(p.search(diag) for p in rule.patterns):
            verdicts[rule.treat_as] = rule.id
    return verdicts


def _sort(ctx: Context, temporary, permanent) -> dict[str, dict]:
    dsn = _dsn_blocks(ctx.mail.msg)
    out: dict[str, dict] = {}
    for raw, permanent_flag in [(a, False) for a in temporary] + [(a, True) for a in permanent]:
        address = (raw.decode("utf-8", "replace") if isinstance(raw, bytes) else str(raw)).lower()
        diag = diagnostic(ctx, address, dsn)
        verdicts = judge(ctx, diag)
        if "soft" in verdicts:
            side = "soft"
        elif "policy" in verdicts and "recipient" not in verdicts:
            side = "policy"
        else:
            side = "hard" if permanent_flag else "soft"
        prior = out.get(address)
        if prior is None or (prior["side"] == "soft" and side == "hard"):
            out[address] = {"side": side, "permanent": permanent_flag, "rules": verdicts,
                            "diagnostic": " ".join(diag.split())[:240]}
    return out


def run(ctx: Context) -> tuple[Decision | None, dict]:
    hits = gate(ctx)
    if not hits:
        return None, {"gate": "closed"}
    strong = any(h["strength"] == "strong" for h in hits)
    if not strong and any(p.search(ctx.mail.subject) for p in ctx.rules.patterns("auto_reply_subject")):
        return None, {"gate": hits, "reason": "only weak bounce signals on an automatic reply"}
    ctx.bounce_like = True
    try:
        temporary, permanent = all_failures(ctx.mail.msg)
    except Exception as exc:  # flufl.bounce on malformed input: record, do not crash
        return None, {"gate": hits, "error": f"flufl.bounce: {type(exc).__name__}: {exc}"}
    failures = _sort(ctx, temporary, permanent)
    details = {"gate": hits, "failures": failures}
    if not failures:
        return None, {**details, "reason": "looks like a bounce but no failed recipient found"}
    return _decide(ctx, failures, details, 0.95 if strong else 0.7), details


def _decide(ctx: Context, failures: dict[str, dict], details: dict, confidence: float) -> Decision:
    by_side = {s: sorted(a for a, f in failures.items() if f["side"] == s)
               for s in ("hard", "soft", "policy")}
    evidence = {"gate": [h["rule"] for h in details["gate"]], "hard": by_side["hard"],
                "soft": by_side["soft"], "policy_refusals": by_side["policy"],
                "diagnostic_rules": {a: f["rules"] for a, f in failures.items() if f["rules"]}}
    if by_side["hard"]:
        kind, addresses, rule = "bounce_hard", by_side["hard"], "flufl-permanent"
    elif by_side["soft"]:
        full = [failures[a]["rules"].get("soft") for a in by_side["soft"]]
        rule = full[0] if all(full) else "flufl-temporary"
        kind, addresses = "bounce_soft", by_side["soft"]
    else:
        permanent = any(failures[a]["permanent"] for a in by_side["policy"])
        kind, addresses, rule = ("bounce_hard" if permanent else "bounce_soft"), [], "policy-refusal"
        ctx.review_reasons.append("sender-side policy refusal: our mail was refused, not the address")
    first = (addresses or by_side["policy"])[0]
    evidence["matched"] = failures[first]["diagnostic"]
    evidence["diagnostics"] = {a: f["diagnostic"] for a, f in failures.items()}
    if by_side["policy"]:
        evidence["note"] = "policy refusals are about our sending, never counted against a contact"
    return Decision(kind, STAGE, rule=rule, confidence=confidence, addresses=tuple(addresses),
                    evidence=evidence, review=rule == "policy-refusal")
