"""From failed recipients with reasons to one Decision.

``addresses`` are the recipients whose deliverability changes (family gone: undeliverable;
trouble and filtered: a soft bounce); ``recipients`` says, for every recipient, the reason,
family and effect; ``incidents`` groups the sending-side and transit failures (by reason and
remote provider) with their addresses kept apart: they never count against anyone.
"""

from __future__ import annotations

import functools
import ipaddress

from optdesk.classify.bounce.judge import Verdict, judge
from optdesk.classify.bounce.notice import Notice
from optdesk.classify.bounce.recipients import Failure
from optdesk.classify.bounce_reasons import describe
from optdesk.classify.context import Context
from optdesk.classify.decision import Decision
from optdesk.domains import registrable

STAGE = "bounce"
SUCCESS_RULE = "dsn-success"


@functools.lru_cache(maxsize=4096)
def provider_of(host: str) -> str:
    """The registrable domain of a host name (mx1.mail.protection.outlook.com → outlook.com);
    an IP address or an unknown name as it is."""
    host = (host or "").strip().strip("[]").lower().rstrip(".")
    if not host:
        return ""
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    return registrable(host) or host


def _record(f: Failure, v: Verdict) -> dict:
    domain = f.address.rsplit("@", 1)[-1]
    remote = f.remote or ""
    return {"address": f.address, "found_by": f.found_by, **v.as_dict(),
            "status": f.status, "code": f.code, "action": f.action or None,
            "command": f.command or None,
            "permanent": bool(f.permanent), "remote": remote,
            "provider": provider_of(remote) or provider_of(domain),
            "diagnostic": " ".join((f.diagnostic or f.paragraph or "").split())[:300]}


def decide(ctx: Context, notice: Notice, failures: list[Failure], hits: list[dict],
           confidence: float) -> Decision:
    records: list[dict] = []
    seen: set[str] = set()
    for f in failures:
        if f.address in seen:
            continue
        seen.add(f.address)
        verdict = judge(ctx.rules, f.texts, f.status, f.action, f.command, f.address)
        records.append(_record(f, verdict))
    by_effect = {e: [r for r in records if r["effect"] == e]
                 for e in ("undeliverable", "soft", "incident", "none")}
    evidence = {
        "gate": [h["rule"] for h in hits],
        "recipients": records,
        "hard": [r["address"] for r in by_effect["undeliverable"]],
        "soft": [r["address"] for r in by_effect["soft"]],
        "policy_refusals": [r["address"] for r in by_effect["incident"]],
        "diagnostic_rules": {r["address"]: {"reason": r["reason"], "effect": r["effect"],
                                            "rule": r["rule"]} for r in records},
        "diagnostics": {r["address"]: r["diagnostic"] for r in records},
    }
    message_id = notice.returned.message_id
    if message_id:
        evidence["original_message_id"] = message_id
    if not any(by_effect[e] for e in ("undeliverable", "soft", "incident")):
        evidence["matched"] = "; ".join(f"{r['address']}: {r['action'] or r['reason']}"
                                        for r in records)[:240]
        evidence["note"] = "a delivery (success) notice: not a bounce"
        return Decision("human", STAGE, rule=SUCCESS_RULE, confidence=confidence,
                        evidence=evidence, recipients=tuple(records))
    incidents = _incidents(by_effect["incident"], message_id)
    if by_effect["undeliverable"]:
        kind, deciding = "bounce_hard", by_effect["undeliverable"]
    elif by_effect["soft"]:
        kind, deciding = "bounce_soft", by_effect["soft"]
    else:
        permanent = any(r["permanent"] for r in by_effect["incident"])
        kind, deciding = ("bounce_hard" if permanent else "bounce_soft"), by_effect["incident"]
    first = deciding[0]
    evidence["matched"] = first["matched"] or first["diagnostic"] or first["reason"]
    if incidents:
        evidence["incidents"] = incidents
        evidence["note"] = ("sending-side and transit failures are a sending incident for the "
                            "team; they never count against a contact")
    addresses = tuple(r["address"] for r in by_effect["undeliverable"] + by_effect["soft"])
    guessed = [r["address"] for r in records if r["found_by"] == "returned-to"
               and r["address"] in addresses]
    if guessed:
        ctx.review_reasons.append("the notice names no failed recipient; "
                                  f"{', '.join(guessed)} is the returned message's To")
    rule = first["rule"] or f"reason-{first['reason']}"
    return Decision(kind, STAGE, rule=rule, confidence=confidence, addresses=addresses,
                    evidence=evidence, recipients=tuple(records), incidents=tuple(incidents))


def _incidents(records: list[dict], message_id: str | None) -> list[dict]:
    """One incident per (reason, provider): the recipients' addresses apart from the decision's."""
    groups: dict[tuple[str, str], dict] = {}
    for r in records:
        key = (r["reason"], r["provider"])
        group = groups.get(key)
        if group is None:
            groups[key] = group = {
                "reason": r["reason"], "family": r["family"], "says": describe(r["reason"]),
                "remote": r["remote"], "provider": r["provider"], "status": r["status"],
                "code": r["code"], "diagnostic": r["diagnostic"], "permanent": r["permanent"],
                "rule": r["rule"], "recipients": [], "original_message_id": message_id}
        group["recipients"].append(r["address"])
    for group in groups.values():
        group["count"] = len(group["recipients"])
    return list(groups.values())
