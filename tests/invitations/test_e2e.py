"""The acceptance loop against real servers: invite over SMTP (aiosmtpd, STARTTLS + login),
reply into a real Dovecot, one daemon poll (``optdesk.daemon.ingest``), then the store.

Every refusal path goes through the same loop: a decline, an automatic reply, a spoofed
sender, a forged, an expired and a replayed token.
"""

from __future__ import annotations

import dataclasses
import json
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

import pytest

from optdesk.daemon.ingest import build_classifier, poll_once
from optdesk.outgoing import invitations as inv
from optdesk.sources import open_source
from optdesk.store import utcnow
from optdesk.tokens import make_token

from .conftest import GROUP, KEY, build_store

pytestmark = [pytest.mark.imap, pytest.mark.slow]

FIELDS = inv.InvitationFields("Acme Press", "press@acme.example", "", "", "en")


class Loop:
    """One store, one SMTP server, one Dovecot account, wired as in production."""

    def __init__(self, store, settings, smtp, dovecot) -> None:
        self.store, self.settings, self.smtp, self.dovecot = store, settings, smtp, dovecot

    def invite(self, contact_id: int = 1, fields=FIELDS):
        results = inv.send_invitations(self.store, self.settings, GROUP, [contact_id], fields,
                                       actor="ana")
        assert results[0].status == "sent", results[0]
        return results[0], self.smtp.messages[-1]["message"]

    def reply(self, invitation, body: str, *, sender="Ann One <a1@news.example>", to=None,
              headers=None, in_reply_to=True) -> bytes:
        msg = EmailMessage()
        msg["From"] = sender
        msg["To"] = to or str(invitation["Reply-To"])
        msg["Subject"] = "Re: " + str(invitation["Subject"])
        msg["Date"] = format_datetime(utcnow().replace(tzinfo=None).astimezone())
        msg["Message-ID"] = make_msgid(domain="news.example")
        if in_reply_to:
            msg["In-Reply-To"] = invitation["Message-ID"]
            msg["References"] = invitation["Message-ID"]
        for name, value in (headers or {}).items():
            msg[name] = value
        quoted = "\n".join("> " + line for line in invitation.get_content().splitlines())
        msg.set_content(f"{body}\n\nOn Monday, Acme Press wrote:\n{quoted}\n")
        data = msg.as_bytes()
        self.dovecot.append(data)
        return data

    def poll(self):
        source = open_source(self.settings.mailbox, self.settings)
        classifier = build_classifier(self.settings, self.store)
        result = poll_once(self.store, source, classifier.classify, self.settings,
                           scoring=classifier.rules.bounce_scoring)
        assert result.errors == 0, result.summary()
        return result

    def opted_out(self, contact_id: int = 1) -> bool:
        return self.store.contact(contact_id, GROUP)["optout"] is not None

    def ledger_row(self) -> dict:
        return self.store.ledger().row(0, named=True)


@pytest.fixture
def loop(dovecot, smtp_server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTDESK_SECRET", KEY.decode())
    monkeypatch.setenv("OPTDESK_SMTP_PASSWORD", "s3cret")
    smtp = smtp_server("starttls", users={"press": "s3cret"})
    store = build_store(tmp_path / "optdesk.duckdb")
    base = dovecot.settings()
    settings = dataclasses.replace(
        base, db=str(store.path), data_group=GROUP, secret_file=str(tmp_path / "unused.key"),
        invitations=dataclasses.replace(base.invitations, reply_domain="reply.example",
                                        organisation="Acme PR"),
        smtp=dataclasses.replace(base.smtp, url=smtp.url, ca_file=smtp.ca_file,
                                 rate_per_second=100.0))
    yield Loop(store, settings, smtp, dovecot)
    store.release()


def test_affirmative_reply_opts_the_contact_back_in(loop):
    assert loop.opted_out()
    sent, invitation = loop.invite()
    assert loop.smtp.messages[-1]["login"] == "press" and loop.smtp.messages[-1]["tls"]
    loop.reply(invitation, "Yes, please keep me informed.")
    result = loop.poll()
    assert result.applied == 1 and result.kinds["opt_in"] == 1
    assert not loop.opted_out()
    assert not loop.store.is_suppressed("a1@news.example", GROUP)
    row = loop.store.invitation(sent.invitation_id)
    assert row["status"] == "accepted" and row["answer_message_hash"] is not None
    event = loop.store.events(contact_id=1, kinds=["opt_in"]).row(0, named=True)
    assert event["source"] == "invitation" and event["invitation_id"] == sent.invitation_id
    proof = json.loads(event["evidence"])
    assert proof["invitation_id"] == sent.invitation_id
    assert proof["token_nonce"] == int(row["nonce"]) and proof["matched_by"] == "token"
    assert proof["message_hash"] == row["answer_message_hash"] == event["message_hash"]
    assert proof["received_at"] and proof["sender"] == "a1@news.example"
    assert loop.store.events(contact_id=1, kinds=["invitation_accepted"]).height == 1
    assert loop.dovecot.contents("INBOX") == {}  # moved to optdesk/opt_in


def test_a_yes_matched_only_by_in_reply_to_is_reviewed_never_accepted(loop):
    sent, invitation = loop.invite(6, dataclasses.replace(FIELDS, language="fr"))
    loop.reply(invitation, "Oui, avec plaisir.", sender="Élodie Six <b6@news.example>",
               to="press@acme.example")  # not the token address: anyone can forge this From
    loop.poll()
    assert loop.opted_out(6)
    assert loop.store.invitation(sent.invitation_id)["status"] == "sent"
    row = loop.ledger_row()
    assert row["review"] and "In-Reply-To" in row["review_reason"]


def test_decline_is_recorded_and_changes_nothing(loop):
    sent, invitation = loop.invite()
    loop.reply(invitation, "No thanks, I'd rather not.")
    loop.poll()
    assert loop.opted_out()
    assert loop.store.invitation(sent.invitation_id)["status"] == "declined"
    assert loop.store.events(kinds=["invitation_declined"]).height == 1
    assert "declined" in loop.ledger_row()["review_reason"]


def test_automatic_reply_is_not_an_answer(loop):
    sent, invitation = loop.invite()
    loop.reply(invitation, "I am out of the office until 3 December. Yes, I will reply then.",
               headers={"Auto-Submitted": "auto-replied"})
    result = loop.poll()
    assert result.kinds["auto_reply"] == 1 and loop.opted_out()
    assert loop.store.invitation(sent.invitation_id)["status"] == "sent"  # still open


def test_spoofed_sender_is_refused(loop):
    sent, invitation = loop.invite()
    loop.reply(invitation, "Yes!", sender="Ann One <ann.one@attacker.example>")
    loop.poll()
    assert loop.opted_out()
    assert loop.store.invitation(sent.invitation_id)["status"] == "sent"
    refused = loop.store.events(kinds=["invitation_refused"]).row(0, named=True)
    assert "ann.one@attacker.example is not one of the contact's addresses" in refused["reason"]
    row = loop.ledger_row()
    assert row["review"] and "not one of the contact's addresses" in row["review_reason"]


def test_forged_token_is_refused(loop):
    sent, invitation = loop.invite()
    local, domain = str(invitation["Reply-To"]).split("@")
    forged = local[:-3] + ("aaa" if not local.endswith("aaa") else "bbb")
    loop.reply(invitation, "Yes", to=f"{forged}@{domain}", in_reply_to=False)
    loop.poll()
    assert loop.opted_out() and loop.store.invitation(sent.invitation_id)["status"] == "sent"
    row = loop.ledger_row()
    assert row["review"] and "token rejected: bad signature" in row["review_reason"]
    refused = loop.store.events(kinds=["invitation_refused"])
    assert refused["reason"].to_list() == ["bad token: bad signature"]


def test_expired_token_is_refused(loop):
    sent, invitation = loop.invite()
    row = loop.store.invitation(sent.invitation_id)
    past = utcnow().replace(year=utcnow().year - 1)
    expired = make_token(KEY, "optin", 1, GROUP, "a1@news.example", expires_at=past,
                         nonce=int(row["nonce"]))
    loop.reply(invitation, "Yes", to=f"optin+{expired}@reply.example", in_reply_to=False)
    loop.poll()
    assert loop.opted_out()
    assert "token rejected: expired" in loop.ledger_row()["review_reason"]
    assert loop.store.events(kinds=["invitation_refused"])["reason"].to_list() == [
        "bad token: expired"]


def test_reply_after_the_invitation_expired_is_refused(loop):
    sent, invitation = loop.invite()
    with loop.store.db.transaction() as con:  # the invitation went out 31 days ago
        con.execute("UPDATE invitations SET expires_at = expires_at - INTERVAL 31 DAY"
                    " WHERE invitation_id = ?", [sent.invitation_id])
    loop.reply(invitation, "Yes")
    loop.poll()
    assert loop.opted_out()
    reason = loop.store.events(kinds=["invitation_refused"])["reason"][0]
    assert reason.startswith("invitation expired on")


def test_replayed_acceptance_is_refused(loop):
    sent, invitation = loop.invite()
    loop.reply(invitation, "Yes please.")
    loop.poll()
    assert not loop.opted_out()
    loop.store.opt_out(1, GROUP, source="manual", actor="t", reason="asked again by phone")
    loop.reply(invitation, "Yes please.")  # a new copy of the acceptance (new Message-ID)
    loop.poll()
    assert loop.opted_out()
    reason = loop.store.events(kinds=["invitation_refused"])["reason"][0]
    assert reason.startswith("token already used")
    assert loop.store.events(contact_id=1, kinds=["opt_in"]).height == 1
