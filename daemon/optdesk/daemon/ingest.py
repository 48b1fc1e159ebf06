"""One poll: source → classify → resolve contact → store (one transaction per chunk of fetch_size messages) → move.

Safety rules, in the order they bite:

* UID-based: the store remembers UIDVALIDITY and the last UID handled per mailbox folder; every
  message after it is read (``BODY.PEEK[]``: ``\\Seen`` is never set), read or unread alike. A
  changed UIDVALIDITY re-scans from the start; the ledger (SHA-256 of the bytes) tells which
  messages are already done, so nothing is applied twice.
* A chunk's actions and its ledger rows commit in one transaction. Moves happen only after that
  commit (grouped per target folder, flushed every ``move_every`` messages and at the end), and
  ``last_uid`` advances only after the moves. A crash between commit and move leaves the
  messages above ``last_uid``: the next poll fetches them again, finds their hashes in the
  ledger and moves them, without applying anything again (``finish_move``: without MOVE, copies
  a crash left in the target are not made twice). A message in the ledger that was moved and
  is back in the inbox was put there by someone: it stays where it is.
* The ledger key is the SHA-256 of the whole message (``RawMessage.sha256``) even when the
  source hands the classifier only the headers and text parts of a large one; a chunk keeps
  each message's decision, not its bytes.
* A message that cannot be read, classified or applied gets a ledger row with the error (the
  UID named) and stays where it is; the poll goes on.
* ``should_stop()`` is checked between messages: the messages already classified are committed
  and moved, then the poll returns.
* ``dry_run``: the same reading and deciding, then a description of each plan; no store write,
  no move.
"""

from __future__ import annotations

import datetime as dt
import email.parser
import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import duckdb

from optdesk.bounce_scoring import BounceScoring
from optdesk.classify.decision import Decision
from optdesk.daemon.actions import (
    Plan,
    answers_invitation,
    apply_plan,
    error_plan,
    lookup_addresses,
    message_hash,
    plan_message,
)
from optdesk.errors import StoreBusy
from optdesk.mail import decode_header_value, parse_message
from optdesk.sources import FolderState, MailboxSource, MessageKey, RawMessage
from optdesk.store.writes import Writes

if TYPE_CHECKING:
    from optdesk.classify import Classifier
    from optdesk.store import Store

log = logging.getLogger(__name__)

Classify = Callable[[bytes], Decision]  # a Classifier's classify, or a test's stand-in
NEW_TEXT_LIMIT = 4000
RELEASE_EVERY = 0.5  # seconds
DESCRIBE = 50  # messages described one by one in a result (all of them in a dry run)


@dataclass
class PollResult:
    """What one poll did. ``commands``: protocol commands issued by this poll."""

    mailbox: str
    dry_run: bool = False
    seen: int = 0
    applied: int = 0
    left: int = 0
    review: int = 0
    errors: int = 0
    duplicates: int = 0
    moved: int = 0
    kinds: Counter = field(default_factory=Counter)
    commands: int = 0
    elapsed: float = 0.0
    stopped: bool = False
    rescan: bool = False
    plans: list[str] = field(default_factory=list)

    def summary(self) -> str:
        kinds = ", ".join(f"{k} {n}" for k, n in sorted(self.kinds.items())) or "nothing new"
        head = "dry run: " if self.dry_run else ""
        return (f"{head}{self.mailbox}: {self.seen} messages ({kinds}); applied {self.applied}, "
                f"left {self.left}, review {self.review}, errors {self.errors}, "
                f"already done {self.duplicates}, moved {self.moved}; "
                f"{self.commands} commands, {self.elapsed:.2f} s")


def build_classifier(settings, store: Store | None = None, key: bytes | None = None) -> Classifier:
    """The real classifier for ``settings`` (rules, signing key, review threshold, who may file
    a complaint, the store's invitations for opt-in answers); ``key`` defaults to
    ``signing_key(settings)``. Its ``classify`` is the poll's ``Classify``, its
    ``rules.bounce_scoring`` the poll's scoring."""
    from optdesk.classify import Classifier
    from optdesk.classify.prepared import prepared_rules
    from optdesk.feedback_loops import ComplaintSenders
    from optdesk.settings import signing_key

    rules = prepared_rules(settings.rules_dir)
    lookup = store.invitation_for_message_id if store is not None else None
    classifier = Classifier(rules, signing_key=signing_key(settings) if key is None else key,
                            review_threshold=settings.review_threshold, invitation_lookup=lookup,
                            complaint_senders=ComplaintSenders.from_settings(settings.complaints))
    return classifier


def _headers(data: bytes) -> tuple[str | None, str | None]:
    """(sender, subject) read cheaply for the ledger row of a message that failed."""
    try:
        msg = email.parser.BytesHeaderParser().parsebytes(data[:64_000])
        return decode_header_value(msg.get("from")) or None, decode_header_value(msg.get("subject"))
    except Exception:  # noqa: BLE001 - only a courtesy for the review queue
        return None, None


class Ingestor:
    """Polls one source into one store. Reuse it between polls: the source stays connected."""

    def __init__(self, store, source: MailboxSource, classify: Classify, settings, *,
                 dry_run: bool = False, should_stop: Callable[[], bool] | None = None,
                 fetch_size: int | None = None, move_every: int = 5000,
                 scoring: BounceScoring | None = None) -> None:
        self.store = store
        self.source = source
        self.classify = classify
        self.settings = settings
        self.dry_run = dry_run
        self.should_stop = should_stop or (lambda: False)
        self.fetch_size = fetch_size or settings.fetch_size
        self.move_every = move_every
        self.scoring = scoring or BounceScoring()  # the daemon passes the rules' own
        self.folders = dict(settings.folders)
        self.data_group = settings.data_group
        self._released_at = 0.0

    # -- the poll -------------------------------------------------------------------------
    def poll(self) -> PollResult:
        """One poll of the inbox folder. Mailbox and store errors propagate (nothing is lost:
        whatever was not committed and moved is done again by the next poll)."""
        started, commands = time.monotonic(), self.source.commands
        res = PollResult(self.source.url, dry_run=self.dry_run)
        state = self.source.folder_state()
        last, fresh = self._start_uid(state, res)
        uids = [] if (not fresh and state.uidnext <= last + 1) else self.source.new_uids(last)
        moves = _Moves()
        upto = last
        for start in range(0, len(uids), self.fetch_size):
            if self.should_stop():
                res.stopped = True
                break
            chunk = uids[start:start + self.fetch_size]
            done, complete = self._chunk(chunk, state, moves, res)
            upto = chunk[-1] if complete else max([upto, *done])
            if not complete:
                res.stopped = True
                break
            if len(moves) >= self.move_every:
                self._flush(moves, state, upto, res)
        if not self.dry_run and (upto != last or fresh or len(moves)):
            self._flush(moves, state, upto, res)
        res.commands = self.source.commands - commands
        res.elapsed = time.monotonic() - started
        return res

    def _start_uid(self, state: FolderState, res: PollResult) -> tuple[int, bool]:
        """(last UID handled, True when the store has no usable state: first poll or rescan)."""
        saved = self.store.mailbox_state(self.source.url, state.folder)
        if saved is None:
            return 0, True
        if saved["uidvalidity"] != state.uidvalidity:
            log.warning("%s %s: UIDVALIDITY changed from %s to %s: re-scanning every message "
                        "(the ledger prevents double application)", self.source.url,
                        state.folder, saved["uidvalidity"], state.uidvalidity)
            res.rescan = True
            return 0, True
        return saved["last_uid"], False

    # -- one chunk ------------------------------------------------------------------------
    def _chunk(self, chunk: list[int], state: FolderState, moves: _Moves,
               res: PollResult) -> tuple[list[int], bool]:
        """Fetch, decide, commit, queue the moves. Returns (UIDs handled, chunk complete)."""
        decided: list[_Decided] = []
        complete = True
        for raw in self.source.fetch(chunk):
            if self.should_stop():
                complete = False
                break
            decided.append(self._decide(raw))
            del raw  # only the decision is kept: a chunk holds one message's bytes at a time
        plans = self._plans(decided)
        known = self.store.known_messages([p.hash for p in plans])
        new, again, firsts = [], [], {}
        for plan in plans:
            res.seen += 1
            if plan.hash in known or plan.hash in firsts:
                again.append(plan)
            else:
                firsts[plan.hash] = plan
                new.append(plan)
        if new and not self.dry_run:
            written = {id(p) for p in self._commit(new, state)}
            for plan in new:  # recorded meanwhile by another daemon on this store: not again
                if id(plan) not in written:
                    res.duplicates += 1
                    if plan.target:  # moving it again is harmless; leaving it could strand it
                        moves.add(plan.target, plan.uid, plan.hash, _key(plan))
            new = [p for p in new if id(p) in written]
        self._let_go()
        for plan in new:
            self._count(plan, res)
            if plan.target:
                moves.add(plan.target, plan.uid, plan.hash)
        for plan in again:  # already in the ledger: never applied again
            res.duplicates += 1
            prior = known.get(plan.hash)
            if prior is None:  # the same bytes twice in this chunk: moved with the first
                if firsts[plan.hash].target:
                    moves.add(firsts[plan.hash].target, plan.uid, plan.hash)
            elif prior.get("moved_at") is not None:
                log.info("%s: UID %s was handled on %s (%s) and moved to %s; it is back in %s, "
                         "so someone put it there: left where it is", self.source.url, plan.uid,
                         prior["moved_at"], prior.get("kind"), prior.get("moved_to"), state.folder)
            elif prior.get("moved_to"):  # committed, but the move did not finish (a crash)
                moves.add(prior["moved_to"], plan.uid, plan.hash, _key(plan))
        return [p.uid for p in plans], complete

    def _decide(self, raw: RawMessage) -> _Decided:
        """Classify one message and keep what the plan needs; its bytes are let go."""
        out = _Decided(raw.uid, raw.internaldate, raw.digest or message_hash(raw.data))
        try:
            out.decision = self.classify(raw.data)
        except Exception as exc:  # noqa: BLE001 - one bad message must not stop the poll
            log.warning("UID %s of %s: could not classify: %s", raw.uid, self.source.url, exc)
            out.error = f"UID {raw.uid}: {type(exc).__name__}: {exc}"
            out.sender, out.subject = _headers(raw.data)
            return out
        if answers_invitation(out.decision):
            out.in_reply_to = _in_reply_to(raw.data)
        return out

    def _plans(self, decided: list[_Decided]) -> list[Plan]:
        wanted = [a for d in decided if d.decision is not None for a in lookup_addresses(d.decision)]
        owners = self.store.contacts_for_emails(wanted, self.data_group) if wanted else {}
        outlets = self.store.outlets_for_emails(wanted) if wanted else {}
        plans = []
        for d in decided:
            raw = RawMessage(d.uid, b"", d.internaldate)
            if d.decision is None:
                plan = error_plan(raw, self.data_group, d.error or "unreadable")
                plan.sender, plan.subject = d.sender, d.subject
            else:
                plan = plan_message(raw, d.decision, owners, self.data_group, self.folders,
                                    outlets)
                plan.in_reply_to = d.in_reply_to
            plan.hash = d.hash  # the SHA-256 of the whole message, however it was read
            plans.append(plan)
        return plans

    def _count(self, plan: Plan, res: PollResult) -> None:
        res.kinds[plan.kind or "error"] += 1
        setattr(res, _COUNTER[plan.status], getattr(res, _COUNTER[plan.status]) + 1)
        if plan.review_reason and plan.status not in ("review", "error"):
            res.review += 1
        if self.dry_run or len(res.plans) < DESCRIBE:
            res.plans.append(plan.describe())

    # -- store ----------------------------------------------------------------------------
    def _commit(self, plans: list[Plan], state: FolderState) -> list[Plan]:
        """Apply the plans and write their ledger rows in one transaction; if that fails, apply
        them one by one so that only the failing message is recorded as an error. Returns the
        plans written: without those another daemon sharing the store recorded meanwhile (their
        ledger rows would collide), which are then neither applied nor recorded again."""
        try:
            self._write(plans, state)
            return plans
        except (StoreBusy, duckdb.IOException, duckdb.FatalException):
            raise
        except Exception as exc:  # noqa: BLE001
            taken = self.store.known_messages([p.hash for p in plans])
            if taken:
                log.info("%s: %d of %d messages were recorded meanwhile by another daemon using "
                         "this store: not applied again", self.source.url, len(taken), len(plans))
                return self._commit([p for p in plans if p.hash not in taken], state) \
                    if len(taken) < len(plans) else []
            log.warning("%s: chunk of %d messages failed (%s); applying them one by one",
                        self.source.url, len(plans), exc)
        for plan in plans:
            self._commit_one(plan, state)
        return plans

    def _write(self, plans: list[Plan], state: FolderState) -> None:
        with self.store.transaction():
            ops = Writes()
            for plan in plans:
                apply_plan(self.store, plan, ops)
            missing = self.store.apply_writes(ops, self.scoring).missing
            for plan in plans:
                if plan.hash in missing:
                    self._failed(plan, f"no contact with id {plan.contact_id}")
            self.store.add_ledger_rows([self._row(p, state) for p in plans])

    def _commit_one(self, plan: Plan, state: FolderState) -> None:
        try:
            self._write([plan], state)
            return
        except (StoreBusy, duckdb.IOException, duckdb.FatalException):
            raise
        except Exception as exc:  # noqa: BLE001
            self._failed(plan, f"{type(exc).__name__}: {exc}")
        with self.store.transaction():
            self.store.add_ledger_rows([self._row(plan, state)])

    def _failed(self, plan: Plan, why: str) -> None:
        plan.status, plan.target = "error", None
        plan.error = f"UID {plan.uid}: could not apply {plan.kind}: {why}"
        plan.review_reason = "could not be applied: " + plan.error
        log.warning("%s: %s", self.source.url, plan.error)

    def _row(self, plan: Plan, state: FolderState) -> dict:
        row = {
            "message_hash": plan.hash, "mailbox": self.source.url, "folder": state.folder,
            "uid": plan.uid, "uidvalidity": state.uidvalidity, "received_at": plan.received_at,
            "sender": plan.sender, "subject": plan.subject, "evidence": {"error": plan.error},
            "contact_id": plan.contact_id, "data_group": plan.data_group, "status": plan.status,
            "error": plan.error, "moved_to": plan.target, "review": bool(plan.review_reason),
            "review_reason": plan.review_reason,
            "review_state": "open" if plan.review_reason else None,
        }
        d = plan.decision
        if d is not None:
            row.update(message_id=d.message_id, sender=d.sender or plan.sender,
                       subject=d.subject or plan.subject, kind=d.kind, stage=d.stage,
                       rule=d.rule, confidence=d.confidence, language=d.language,
                       evidence=d.evidence, new_text=(d.new_text or "")[:NEW_TEXT_LIMIT])
        return row

    # -- moves ----------------------------------------------------------------------------
    def _flush(self, moves: _Moves, state: FolderState, upto: int, res: PollResult) -> None:
        """Move what the committed chunks decided, then remember ``upto`` as the last UID."""
        if self.dry_run:
            return
        for folder, uids in moves.by_folder.items():
            self.source.move(uids, folder)
            res.moved += len(uids)
        for folder, keys in moves.again.items():  # an interrupted move: finish it, copy nothing twice
            finish = getattr(self.source, "finish_move", None)
            if finish is not None:
                finish(sorted(keys), folder, keys)
            else:
                self.source.move(sorted(keys), folder)
            res.moved += len(keys)
        with self.store.transaction():
            self.store.mark_moved(moves.hashes)
            self.store.set_mailbox_state(self.source.url, state.folder, state.uidvalidity, upto)
        self._let_go()
        moves.clear()

    def _let_go(self) -> None:
        """Close the store file between chunks (at most twice a second), so that a notebook
        gets its turn while the next chunk is fetched and classified."""
        if time.monotonic() - self._released_at > RELEASE_EVERY:
            self.store.release()
            self._released_at = time.monotonic()


_COUNTER = {"applied": "applied", "left": "left", "review": "review", "error": "errors"}


@dataclass
class _Decided:
    """One message after classification: what its plan needs, without the message's bytes."""

    uid: int
    internaldate: dt.datetime | None
    hash: str
    decision: Decision | None = None
    error: str | None = None
    sender: str | None = None
    subject: str | None = None
    in_reply_to: tuple[str, ...] = ()


class _Moves:
    """Moves waiting for their chunk's commit: folder → UIDs (and, for moves a crash interrupted,
    folder → UID → MessageKey, to finish without copying twice), and the hashes to mark moved."""

    def __init__(self) -> None:
        self.by_folder: dict[str, list[int]] = {}
        self.again: dict[str, dict[int, MessageKey]] = {}
        self.hashes: list[str] = []

    def add(self, folder: str, uid: int, digest: str, retry: MessageKey | None = None) -> None:
        if retry is None:
            self.by_folder.setdefault(folder, []).append(uid)
        else:
            self.again.setdefault(folder, {})[uid] = retry
        self.hashes.append(digest)

    def clear(self) -> None:
        self.by_folder.clear()
        self.again.clear()
        self.hashes.clear()

    def __len__(self) -> int:
        return len(self.hashes)


def _key(plan: Plan) -> MessageKey:
    """How ``finish_move`` recognises this message's copy in its target folder."""
    return MessageKey(plan.hash, plan.decision.message_id if plan.decision is not None else None)


def _in_reply_to(data: bytes) -> tuple[str, ...]:
    try:
        return parse_message(data).in_reply_to
    except Exception:  # noqa: BLE001
        return ()


def poll_once(store, source: MailboxSource, classify: Classify, settings,
              **kwargs) -> PollResult:
    """Connect, poll once, close: what ``optdesk run --once`` does."""
    with source:
        return Ingestor(store, source, classify, settings, **kwargs).poll()

