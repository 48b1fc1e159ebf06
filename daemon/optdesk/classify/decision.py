"""The result of classifying one message, and one step of its explanation."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

KINDS = ("opt_out", "complaint", "bounce_hard", "bounce_soft", "auto_reply", "opt_in", "human")
JSON_KEYS = ("file", "kind", "addresses", "stage", "rule", "confidence", "evidence", "language")


@dataclass
class Decision:
    """What a message is, with evidence. ``review`` flags decisions a person should check.

    ``addresses``: for opt_out the sender; for complaint the original recipient; for bounces the
    recipients whose deliverability changes (sending-side failures excluded); otherwise empty.
    All lower-case.
    ``decline`` is True for a reply that declines an invitation (its kind stays "human").
    """

    kind: str
    stage: str
    rule: str | None = None
    confidence: float = 1.0
    addresses: tuple[str, ...] = ()
    evidence: dict[str, Any] = field(default_factory=dict)
    language: str | None = None
    review: bool = False
    sender: str | None = None
    message_id: str | None = None
    subject: str = ""
    new_text: str = ""
    return_date: date | None = None
    token: dict[str, Any] | None = None
    decline: bool = False
    # bounces: every recipient with its reason, family and effect; and the sending incidents
    # (sending-side or transit failures, their addresses carried here, never in ``addresses``)
    recipients: tuple[dict[str, Any], ...] = ()
    incidents: tuple[dict[str, Any], ...] = ()

    def to_json(self, file: str | None = None) -> dict[str, Any]:
        """Exactly the command-line contract keys."""
        return {
            "file": file,
            "kind": self.kind,
            "addresses": list(self.addresses),
            "stage": self.stage,
            "rule": self.rule,
            "confidence": round(self.confidence, 3),
            "evidence": self.evidence,
            "language": self.language,
        }


@dataclass
class Step:
    """One stage's verdict in an explanation: decisive or not, and why."""

    stage: str
    decisive: bool
    details: dict[str, Any] = field(default_factory=dict)
