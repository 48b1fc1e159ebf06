"""Stage 2: delivery notices (bounces), gated.

A message that passes the gate (``bounce_gate`` rules, see gate.py) is read as a notice
(notice.py): its failed recipients are found (recipients.py: the DSN, a provider's format,
flufl.bounce, the text, the returned message's To) and each gets a reason from the
``bounce_reason`` rules (judge.py). The reason's family decides what happens:

* ``gone`` → the address is undeliverable; ``trouble`` and ``filtered`` → a soft bounce;
* ``sending`` (our IP, domain, authentication, content, rate, the network …) → a **sending
  incident** (``Decision.incidents``), never counted against the address;
* a success notice (delivered, relayed) is not a bounce at all.

Cheaper, not different: anchors.py tries a case-insensitive pattern only where it may start
(the reasons, the gate's literals, the notice's status codes and commands), and detectors.py
is flufl.bounce's ``all_failures`` reading the body once. tests/classify/test_bounce_anchors.py
holds both to the plain computation.
"""

from __future__ import annotations

from optdesk.classify.bounce.decide import decide
from optdesk.classify.bounce.gate import gate
from optdesk.classify.bounce.notice import Notice
from optdesk.classify.bounce.recipients import find_failures
from optdesk.classify.context import Context
from optdesk.classify.decision import Decision

STAGE = "bounce"

__all__ = ["STAGE", "gate", "run"]


def run(ctx: Context) -> tuple[Decision | None, dict]:
    hits = gate(ctx)
    if not hits:
        return None, {"gate": "closed"}
    strong = any(h["strength"] == "strong" for h in hits)
    if not strong and any(p.search(ctx.mail.subject) for p in ctx.rules.patterns("auto_reply_subject")):
        return None, {"gate": hits, "reason": "only weak bounce signals on an automatic reply"}
    ctx.bounce_like = True
    notice = Notice(ctx.mail)
    failures, error = find_failures(notice)
    details: dict = {"gate": hits}
    if error:
        details["error"] = error
    if not failures:
        return None, {**details, "reason": "looks like a bounce but no failed recipient found"}
    decision = decide(ctx, notice, failures, hits, 0.95 if strong else 0.7)
    if not strong and all(r["by"] == "default" for r in decision.recipients):
        return None, {**details, "reason": "only weak bounce signals and no failure reason"}
    details["recipients"] = decision.evidence.get("recipients", [])
    if decision.incidents:
        details["incidents"] = list(decision.incidents)
    return decision, details
