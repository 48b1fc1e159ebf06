"""What a classified message does to the store: the plan, and applying it.

``plan_message`` turns one message and its Decision into a Plan (pure: no writes), using a
chunk-wide address → contacts lookup. ``apply_plan`` carries the plan out inside the caller's
transaction. The rules of the domain live here:

* ``opt_out`` and ``complaint`` → ``store.opt_out`` (source ``reply``, ``list_unsubscribe`` when
  the mail came to the ``unsubscribe+TOKEN`` address — the token names the contact — or
  ``complaint``). An outlet's own general address (newsdesk@ …) opts the outlet out, not a
  contact (``store.outlets_for_emails``; its contacts stay as they are). An address that belongs
  to no contact (or to several) is suppressed as an address and the message goes to review.
  Never an opt-out the message did not ask for.
* bounces → per recipient, by the family of its reason: gone → undeliverable (the contact is
  never opted out); in trouble or filtered → a decaying soft score; sending-side or transit
  reasons (block lists, SPF/DKIM/DMARC, reverse DNS, rate, content, the network) → a *sending
  incident* (``store.sending_incidents``), nothing against the address.
* ``auto_reply`` → recorded with the return date.
* ``opt_in`` → ``store.accept_invitation`` (verified acceptance; refused ones go to review).
* ``human`` → left in place, untouched. Low-confidence decisions → review, nothing applied.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from optdesk.classify.decision import Decision
from optdesk.sources import RawMessage
from optdesk.store.writes import Writes, opt_out_target

if TYPE_CHECKING:
    from optdesk.store import Store

MOVED_KINDS = ("opt_out", "complaint", "bounce_hard", "bounce_soft", "auto_reply", "opt_in")
ACTOR = "daemon"


def message_hash(data: bytes) -> str:
    """The ledger key: SHA-256 of the exact message bytes."""
    return hashlib.sha256(data).hexdigest()


@dataclass
class Plan:
    """One message's fate. ``status``: applied (then moved to ``target``), left, review, error."""

    uid: int
    hash: str
    received_at: dt.datetime | None
    data_group: str
    decision: Decision | None = None  # None: the message could not be read or classified
    status: str = "left"
    contact_id: int | None = None
    outlet_id: int | None = None  # the sender's address is this outlet's own
    review_reason: str | None = None
    error: str | None = None
    target: str | None = None
    steps: list[str] = field(default_factory=list)
    sender: str | None = None
    subject: str | None = None
    in_reply_to: tuple[str, ...] = ()

    @property
    def kind(self) -> str | None:
        return self.decision.kind if self.decision is not None else None

    def describe(self) -> str:
        what = "; ".join(self.steps) or "nothing to apply"
        where = f" → move to {self.target}" if self.target else " (left in place)"
        review = f" [review: {self.review_reason}]" if self.review_reason else ""
        return f"UID {self.uid}: {self.kind or 'unreadable'}: {what}{where}{review}"


def _naive_utc(when: dt.datetime | None) -> dt.datetime | None:
    if when is None or when.tzinfo is None:
        return when
    return when.astimezone(dt.UTC).replace(tzinfo=None)


def error_plan(raw: RawMessage, data_group: str, error: str) -> Plan:
    """A message that could not be read or classified: recorded, left in place, for review."""
    return Plan(raw.uid, message_hash(raw.data), _naive_utc(raw.internaldate), data_group,
                status="error", error=error, review_reason="could not be processed: " + error)


def lookup_addresses(decision: Decision) -> list[str]:
    """Addresses whose contacts this decision needs resolved."""
    return [a for a in (*decision.addresses, decision.sender) if a]


def plan_message(raw: RawMessage, decision: Decision, owners: dict[str, list[int]], data_group: str,
                 folders: dict[str, str], outlets: dict[str, int] | None = None) -> Plan:
    """Decide what to do with one classified message (no writes). ``owners``: address →
    contacts; ``outlets``: address → the outlet whose own address it is."""
    plan = Plan(raw.uid, message_hash(raw.data), _naive_utc(raw.internaldate), data_group,
                decision=decision)
    kind = decision.kind
    first = (list(decision.addresses) or [decision.sender or ""])[0]
    ids = owners.get((first or "").lower(), [])
    plan.contact_id = ids[0] if len(ids) == 1 else None
    plan.outlet_id = (outlets or {}).get((first or "").lower())
    if decision.decline:  # recorded on the invitation, left for people
        plan.review_reason = _review_reason(decision)
        plan.steps.append("declines an invitation: recorded")
        return plan
    if decision.review:
        plan.status = "review"
        plan.review_reason = _review_reason(decision)
        plan.steps.append(f"{kind} at confidence {decision.confidence:.2f}: nothing applied")
        return plan
    handler = _PLANNERS.get(kind)
    if handler is None:  # human, or an unknown kind: people look at it
        return plan
    handler(plan, decision, owners, data_group)
    if plan.status == "applied" and kind in MOVED_KINDS:
        plan.target = folders.get(kind, f"optdesk/{kind}")
    return plan


def _review_reason(decision: Decision) -> str:
    reasons = decision.evidence.get("review_reasons")
    if reasons:
        return "; ".join(str(r) for r in reasons)
    return f"low confidence ({decision.confidence:.2f})"


def _plan_opt_out(plan: Plan, decision: Decision, owners: dict[str, list[int]], group: str) -> None:
    token = decision.token
    source = "complaint" if decision.kind == "complaint" else "reply"
    if token and token.get("purpose", "unsubscribe") == "unsubscribe" and token.get("contact_id") is not None:
        plan.contact_id, plan.outlet_id = int(token["contact_id"]), None
        plan.data_group = token.get("data_group") or group
        plan.status = "applied"
        plan.steps.append(f"opt out contact {plan.contact_id} in {plan.data_group!r} "
                          "(list_unsubscribe)")
        return
    address = (list(decision.addresses) or [decision.sender or ""])[0].lower()
    ids = owners.get(address, [])
    if not address:
        plan.status, plan.review_reason = "review", f"{decision.kind} without an address"
        return
    plan.status = "applied"
    outlets = {address: plan.outlet_id} if plan.outlet_id is not None else {}
    whom, which = opt_out_target(address, owners, outlets)
    if whom == "outlet":  # the outlet's own address: the outlet, not a contact
        plan.contact_id = None
        plan.steps.append(f"opt out outlet {plan.outlet_id} in {group!r} ({source})")
        return
    if whom == "contact":
        plan.contact_id = int(which)
        plan.steps.append(f"opt out contact {which} in {group!r} ({source})")
        return
    plan.contact_id = None
    plan.steps.append(f"suppress address {address} in {group!r} ({source})")
    plan.review_reason = (f"{address} belongs to no contact" if not ids else
                          f"{address} is shared by contacts {', '.join(map(str, ids))}")


def bounce_effects(decision: Decision) -> list[tuple[str, bool]]:
    """(address, hard?) for every address a bounce counts against: per recipient by its reason's
    effect when the decision says (``Decision.recipients``), else all by the decision's kind."""
    records = decision.recipients
    counted = set(decision.addresses)
    if records:
        return [(r["address"], r["effect"] == "undeliverable") for r in records
                if r.get("effect") in ("undeliverable", "soft") and r["address"] in counted]
    return [(a, decision.kind == "bounce_hard") for a in decision.addresses]


def _plan_bounce(plan: Plan, decision: Decision, owners: dict[str, list[int]], group: str) -> None:
    plan.status = "applied"
    effects = bounce_effects(decision)
    plan.steps.extend(f"{'undeliverable' if hard else 'soft bounce for'} {a}" for a, hard in effects)
    for incident in decision.incidents:
        plan.steps.append(f"sending incident: {incident.get('reason')} at "
                          f"{incident.get('provider') or incident.get('remote') or '?'} "
                          f"({incident.get('count', 0)} recipients, not counted)")
    if not effects and not decision.incidents:
        plan.steps.append("no failed recipient to count")


def _plan_auto_reply(plan: Plan, decision: Decision, owners: dict[str, list[int]], group: str) -> None:
    plan.status = "applied"
    until = decision.return_date
    plan.steps.append(f"automatic reply from {decision.sender}"
                      + (f", back on {until:%Y-%m-%d}" if until else ""))
    if decision.evidence.get("leaver"):
        plan.steps.append(f"undeliverable {decision.sender} (leaver notice)")


def _plan_opt_in(plan: Plan, decision: Decision, owners: dict[str, list[int]], group: str) -> None:
    plan.status = "applied"
    plan.steps.append(f"verify the invitation acceptance from {decision.sender}")


_PLANNERS = {
    "opt_out": _plan_opt_out,
    "complaint": _plan_opt_out,
    "bounce_hard": _plan_bounce,
    "bounce_soft": _plan_bounce,
    "auto_reply": _plan_auto_reply,
    "opt_in": _plan_opt_in,
}


def _evidence(plan: Plan) -> dict:
    d = _decided(plan)
    return {"stage": d.stage, "rule": d.rule, "confidence": d.confidence,
            "uid": plan.uid, "details": d.evidence, "message_id": d.message_id}


TOKEN_REJECTED_RULE = "optin-token-rejected"


def _decided(plan: Plan) -> Decision:
    if plan.decision is None:
        raise ValueError(f"UID {plan.uid}: a plan without a decision has nothing to apply")
    return plan.decision


def answers_invitation(decision: Decision | None) -> bool:
    """An answer to an opt-in invitation: accepted, declined, or carrying a rejected token
    (bad, expired, forged). All of them go to ``store.accept_invitation``, which records them."""
    return decision is not None and (decision.kind == "opt_in" or decision.decline
                                     or decision.rule == TOKEN_REJECTED_RULE)


def apply_plan(store: Store, plan: Plan, ops: Writes) -> None:
    """Carry out an ``applied`` plan: queue set-based writes in ``ops`` (``store.apply_writes``
    runs them), or call the store now for the rare kinds. Joins the caller's transaction."""
    if plan.decision is None or (plan.status != "applied" and not answers_invitation(plan.decision)):
        return
    d = plan.decision
    common = {"message_hash": plan.hash, "evidence": _evidence(plan)}
    if d.kind in ("opt_out", "complaint"):
        _apply_opt_out(store, plan, ops)
    elif d.kind in ("bounce_hard", "bounce_soft"):
        effects = bounce_effects(d)
        for address, hard in effects:  # the plan's contact owns the first address only
            contact = plan.contact_id if address == effects[0][0] else None
            ops.add_bounce(hard, address, reason=_diag(d, address),
                           contact_id=contact, data_group=plan.data_group, **common)
        for incident in d.incidents:
            ops.add_incident(incident, message_hash=plan.hash, data_group=plan.data_group,
                             message_id=d.message_id, received_at=plan.received_at)
    elif d.kind == "auto_reply" and d.sender:
        ops.add_auto_reply(d.sender, return_date=d.return_date, contact_id=plan.contact_id,
                           data_group=plan.data_group, **common)
        leaver = d.evidence.get("leaver")
        if leaver:  # "X no longer works here": the address is gone
            ops.add_bounce(True, d.sender, reason=f"leaver notice ({leaver.get('rule')})",
                           contact_id=plan.contact_id, data_group=plan.data_group, **common)
    elif answers_invitation(d):
        _apply_invitation_answer(store, plan)


def _diag(decision: Decision, address: str | None = None) -> str:
    for r in decision.recipients:
        if r.get("address") == address and r.get("reason"):
            return f"{decision.kind}: {r['reason']} ({r.get('rule') or r.get('by')})"
    return f"{decision.kind} ({decision.rule or decision.stage})"


def _apply_opt_out(store: Store, plan: Plan, ops: Writes) -> None:
    d = _decided(plan)
    source = "complaint" if d.kind == "complaint" else "reply"
    token = d.token
    if token and token.get("contact_id") is not None and d.kind == "opt_out":
        source = "list_unsubscribe"
    reason = (d.new_text or d.subject or d.kind)[:200]
    if plan.outlet_id is not None:
        ops.add_outlet_opt_out(plan.outlet_id, plan.data_group, source=source, reason=reason,
                               evidence=_evidence(plan), message_hash=plan.hash, actor=ACTOR)
        return
    if plan.contact_id is not None:
        ops.add_opt_out(plan.contact_id, plan.data_group, source=source, reason=reason,
                        evidence=_evidence(plan), message_hash=plan.hash, actor=ACTOR)
        return
    address = (list(d.addresses) or [d.sender or ""])[0]
    ops.add_suppression(address, plan.data_group, source=source, reason=reason,
                        evidence=_evidence(plan), message_hash=plan.hash, actor=ACTOR)


def _apply_invitation_answer(store: Store, plan: Plan) -> None:
    d = _decided(plan)
    details = d.evidence
    result = store.accept_invitation(d.token, sender=d.sender, message_hash=plan.hash, message_id=d.message_id,
                    in_reply_to=list(plan.in_reply_to), affirmative=d.kind == "opt_in",
                    received_at=plan.received_at, token_error=_token_error(details),
                    actor=ACTOR, evidence={"rule": d.rule, "confidence": d.confidence})
    plan.steps.append(f"invitation answer: {result.reason}")
    if not result.accepted:
        keep_review = d.kind == "opt_in" or plan.status == "review"
        plan.status, plan.target = ("review", None) if keep_review else ("left", None)
        # the classifier's reason (e.g. "invitation token rejected: expired") says it already
        plan.review_reason = plan.review_reason or f"invitation answer not applied: {result.reason}"
    if result.contact_id is not None:
        plan.contact_id = result.contact_id
    if result.outlet_id is not None:  # an outlet's invitation: the outlet, never a contact
        plan.contact_id, plan.outlet_id = None, result.outlet_id


def _token_error(details: dict) -> str | None:
    """Why the classifier rejected the reply's invitation token, if it did."""
    rejected = details.get("token_rejected") or []
    if rejected and isinstance(rejected[0], dict):
        return str(rejected[0].get("reason") or "rejected")
    return details.get("token_error")
