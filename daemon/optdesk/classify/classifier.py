"""The ordered stages; the first decisive one wins. ``classify`` never raises on bad input."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime

from optdesk.classify import autoreply, bounce, complaint, optin, optout
from optdesk.classify.context import Context, InvitationLookup
from optdesk.classify.decision import Decision, Step
from optdesk.classify.rules import RuleSet
from optdesk.feedback_loops import ComplaintSenders
from optdesk.mail import parse_message

log = logging.getLogger(__name__)

Stage = Callable[[Context], tuple[Decision | None, dict]]
"""A stage reads a Context and returns (a Decision when it is decisive, else None; details for
``explain``). It never raises on message content, its Decision's ``stage`` is its name, its
details are JSON-serialisable, and it may set ``ctx.bounce_like`` or add ``ctx.review_reasons``.
The conformance test in tests/classify/test_classify_stages.py holds every stage to this."""
STAGES: tuple[tuple[str, Stage], ...] = (
    (complaint.STAGE, complaint.run),
    (bounce.STAGE, bounce.run),
    (autoreply.STAGE, autoreply.run),
    (optin.STAGE, optin.run),
    (optout.STAGE, optout.run),
)


class Classifier:
    """Classify raw messages with a RuleSet. Thread-safe: it holds no per-message state.

    ``signing_key`` verifies ``unsubscribe+TOKEN@`` and ``optin+TOKEN@`` recipients.
    ``invitation_lookup(message_id)`` is asked for each In-Reply-To/References id of a reply
    without an invitation token; it returns None, ``{"token": "..."}`` (verified like a token in
    the address) or an already trusted payload dict (contact_id, data_group, …) from the store.
    ``now`` is for tests (token expiry, year of a return date without one).
    ``complaint_senders`` (``optdesk.feedback_loops.ComplaintSenders``) says whose feedback
    reports count; others are complaints pending review. Default: the known providers' loops.
    """

    def __init__(
        self,
        rules: RuleSet,
        signing_key: bytes = b"",
        review_threshold: float = 0.75,
        invitation_lookup: InvitationLookup | None = None,
        now: Callable[[], datetime] | None = None,
        complaint_senders: ComplaintSenders | None = None,
    ) -> None:
        self.rules = rules
        self.signing_key = signing_key
        self.review_threshold = review_threshold
        self.invitation_lookup = invitation_lookup
        self._now = now or (lambda: datetime.now(UTC))
        self.complaint_senders = complaint_senders or ComplaintSenders()
        # flufl.bounce logs every detector at INFO and re-raised errors at ERROR; both are
        # noise here (errors end up in the decision's evidence).
        logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)

    def classify(self, raw: bytes) -> Decision:
        """The decision for one message; an unparseable one is ``human`` with the error."""
        return self._run(raw, None)

    def explain(self, raw: bytes) -> list[Step]:
        """Every stage's verdict in order, up to the decisive one, then the final decision."""
        steps: list[Step] = []
        self._run(raw, steps)
        return steps

    def _run(self, raw: bytes, steps: list[Step] | None) -> Decision:
        try:
            data = raw if isinstance(raw, bytes) else str(raw).encode("utf-8", "replace")
            mail = parse_message(data)
        except Exception as exc:
            return self._failed("parse", exc, steps)
        ctx = Context(mail, self.rules, self.signing_key, self.invitation_lookup, self._now(),
                      raw=data, complaint_senders=self.complaint_senders)
        try:
            decision = self._stages(ctx, steps)
            return self._finish(ctx, decision, steps)
        except Exception as exc:  # a bug or pathological input: never crash the caller
            log.exception("classifier failed on message %s", mail.message_id)
            return self._failed("classify", exc, steps, ctx)

    def _stages(self, ctx: Context, steps: list[Step] | None) -> Decision:
        for name, stage in STAGES:
            decision, details = stage(ctx)
            if steps is not None:
                steps.append(Step(name, decision is not None, _jsonable(details)))
            if decision is not None:
                return decision
        decision = Decision("human", "human", rule=None, confidence=1.0,
                            evidence={"reason": "no stage was decisive"})
        if ctx.bounce_like:
            ctx.review_reasons.append("looks like a bounce but no failed recipient was found")
        if steps is not None:
            steps.append(Step("human", True, {"reason": "left for people"}))
        return decision

    def _finish(self, ctx: Context, d: Decision, steps: list[Step] | None) -> Decision:
        mail = ctx.mail
        d.sender, d.message_id, d.subject = mail.sender, mail.message_id, mail.subject
        d.new_text = ctx.new.text if d.kind not in ("bounce_hard", "bounce_soft", "complaint") else ""
        d.language = d.language or (ctx.language if d.kind not in ("bounce_hard", "bounce_soft") else None)
        d.addresses = tuple(a.lower() for a in d.addresses if a)
        if d.confidence < self.review_threshold:
            d.review = True
            ctx.review_reasons.append(f"confidence {d.confidence:.2f} below {self.review_threshold}")
        if ctx.review_reasons:
            d.review = True
            d.evidence["review_reasons"] = list(dict.fromkeys(ctx.review_reasons))
        d.evidence = _jsonable(d.evidence)
        if steps is not None:
            steps.append(Step("decision", True, {"kind": d.kind, "rule": d.rule,
                                                 "confidence": d.confidence, "review": d.review,
                                                 "addresses": list(d.addresses)}))
        return d

    def _failed(self, where: str, exc: Exception, steps, ctx: Context | None = None) -> Decision:
        error = f"{where} error: {type(exc).__name__}: {exc}"[:500]
        d = Decision("human", where, rule=None, confidence=0.0, evidence={"error": error},
                     review=True)
        if ctx is not None:
            d.sender, d.message_id, d.subject = ctx.mail.sender, ctx.mail.message_id, ctx.mail.subject
        if steps is not None:
            steps.append(Step(where, True, {"error": error}))
        return d


_PLAIN = (str, int, float, bool, type(None))


def _jsonable(value):
    """Make evidence JSON-serialisable (dates to ISO strings, tuples to lists, bytes decoded)."""
    kind = type(value)
    if kind in _PLAIN:
        return value
    # the common containers first, their plain items taken as they are (the same result)
    if kind is dict:
        return {k if type(k) is str else str(k): v if type(v) in _PLAIN else _jsonable(v)
                for k, v in value.items()}
    if kind is list or kind is tuple:
        return [v if type(v) in _PLAIN else _jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_jsonable(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)
