"""Store.accept_invitation: the only way an invitation opts a contact back in, and its refusals."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from optdesk.store import utcnow

from .conftest import GROUP


@pytest.fixture
def sent(inv_store):
    """Invitation to contact 1 (a1@news.example), sent now; returns (store, reservation, msgid)."""
    res = inv_store.reserve_invitation(
        1, GROUP, sender_name="A", sender_email="a@acme.example", subject="s", comments="",
        language="en", actor="t", ttl_days=30, cooloff_days=90)
    inv_store.mark_invitation_sent(res.invitation_id, message_id="<inv1@reply.example>",
                                   actor="t")
    return inv_store, res


def payload(res, **kw):
    out = {"purpose": "optin", "contact_id": res.contact_id, "data_group": res.data_group,
           "nonce": res.nonce, "expires_at": res.expires_at.isoformat(), "email_fp": "00",
           "email": None}
    out.update(kw)
    return out


def opted_out(store, cid=1):
    return store.contact(cid, GROUP)["optout"] is not None


def refused(store):
    return store.events(kinds=["invitation_refused"])


def test_accept_by_token_opts_in_with_proof(sent):
    store, res = sent
    result = store.accept_invitation(payload(res), sender="A1@News.example", message_hash="h1",
                                     message_id="<r1@mail.example>", received_at=utcnow())
    assert (result.accepted, result.reason, result.status) == (True, "opted in", "accepted")
    assert not opted_out(store) and not store.is_suppressed("a1@news.example", GROUP)
    row = store.invitation(res.invitation_id)
    assert row["status"] == "accepted" and row["answer_message_hash"] == "h1"
    opt_in = store.events(contact_id=1, kinds=["opt_in"]).row(0, named=True)
    assert opt_in["source"] == "invitation" and opt_in["invitation_id"] == res.invitation_id
    assert opt_in["message_hash"] == "h1"
    proof = json.loads(opt_in["evidence"])
    assert proof["token_nonce"] == res.nonce and proof["matched_by"] == "token"
    assert proof["message_hash"] == "h1" and proof["received_at"]
    assert proof["invitation_id"] == res.invitation_id
    assert store.events(contact_id=1, kinds=["invitation_accepted"]).height == 1
    assert refused(store).height == 0


@pytest.mark.parametrize("mid", ["<inv1@reply.example>", "inv1@reply.example"])
def test_accept_by_in_reply_to_from_a_private_address(sent, mid):
    store, res = sent
    result = store.accept_invitation(None, sender="p1@own.example", message_hash="h2",
                                     in_reply_to=["<other@x>", mid])
    assert result.accepted and not opted_out(store)
    proof = json.loads(store.events(kinds=["opt_in"])["evidence"][0])
    assert proof["matched_by"] == "in_reply_to" and proof["token_nonce"] == str(res.nonce)


def test_decline_is_recorded_and_changes_nothing_else(sent):
    store, res = sent
    result = store.accept_invitation(payload(res), sender="a1@news.example", message_hash="h3",
                                     affirmative=False)
    assert (result.accepted, result.reason, result.status) == (False, "declined", "declined")
    assert opted_out(store)
    assert store.events(kinds=["invitation_declined"]).height == 1
    # an acceptance after a decline is refused: one answer per invitation
    late = store.accept_invitation(payload(res), sender="a1@news.example", message_hash="h4")
    assert not late.accepted and "already answered" in late.reason and opted_out(store)


def test_spoofed_sender_is_refused_and_recorded(sent):
    store, res = sent
    result = store.accept_invitation(payload(res), sender="attacker@evil.example",
                                     message_hash="h5")
    assert not result.accepted
    assert result.reason == "sender attacker@evil.example is not one of the contact's addresses"
    assert opted_out(store) and store.invitation(res.invitation_id)["status"] == "sent"
    event = refused(store).row(0, named=True)
    assert event["reason"] == result.reason and event["invitation_id"] == res.invitation_id
    assert event["contact_id"] == 1 and event["message_hash"] == "h5"
    # another contact's address is no better
    other = store.accept_invitation(payload(res), sender="a6@news.example", message_hash="h6")
    assert not other.accepted and opted_out(store)
    # the real contact can still accept afterwards
    assert store.accept_invitation(payload(res), sender="a1@news.example",
                                   message_hash="h7").accepted


def test_private_address_of_another_group_is_not_the_contacts(inv_store):
    with inv_store.db.transaction() as con:
        con.execute("INSERT INTO addresses (email, contact_id, kind, data_group) VALUES"
                    " ('q1@else.example', 1, 'private', 'other')")
    res = inv_store.reserve_invitation(
        1, GROUP, sender_name="A", sender_email="a@acme.example", subject="s", comments="",
        language="en", actor="t", ttl_days=30, cooloff_days=90)
    inv_store.mark_invitation_sent(res.invitation_id, message_id="<m@x>", actor="t")
    result = inv_store.accept_invitation(payload(res), sender="q1@else.example",
                                         message_hash="h")
    assert not result.accepted and opted_out(inv_store)


def test_replayed_acceptance_is_refused_and_the_same_message_is_idempotent(sent):
    store, res = sent
    assert store.accept_invitation(payload(res), sender="a1@news.example",
                                   message_hash="h1").accepted
    store.opt_out(1, GROUP, source="manual", actor="t", reason="asked again later")
    replay = store.accept_invitation(payload(res), sender="a1@news.example", message_hash="h9")
    assert not replay.accepted and replay.reason.startswith("token already used")
    assert opted_out(store)
    events = store.events().height
    same = store.accept_invitation(payload(res), sender="a1@news.example", message_hash="h1")
    assert same.accepted and same.reason.startswith("already applied")
    assert store.events().height == events and opted_out(store)


def test_expired_invitation_is_refused(sent):
    store, res = sent
    late = res.expires_at + dt.timedelta(minutes=1)
    result = store.accept_invitation(payload(res), sender="a1@news.example", message_hash="h",
                                     received_at=late)
    assert not result.accepted and result.reason.startswith("invitation expired on")
    assert opted_out(store)


def test_expire_invitations_marks_and_records(sent):
    store, res = sent
    assert store.expire_invitations(now=res.expires_at - dt.timedelta(minutes=1)) == 0
    assert store.invitation_counts(GROUP)["sent"] == 1
    assert store.invitation_counts(GROUP, now=res.expires_at + dt.timedelta(hours=1))[
        "expired"] == 1  # shown as expired before the job runs
    assert store.expire_invitations(now=res.expires_at + dt.timedelta(hours=1)) == 1
    assert store.expire_invitations(now=res.expires_at + dt.timedelta(hours=2)) == 0
    assert store.invitation(res.invitation_id)["status"] == "expired"
    assert store.events(kinds=["invitation_expired"])["invitation_id"].to_list() == [
        res.invitation_id]
    result = store.accept_invitation(payload(res), sender="a1@news.example", message_hash="h")
    assert not result.accepted and "expired" in result.reason and opted_out(store)


@pytest.mark.parametrize("change, reason", [
    ({"contact_id": 6}, "token does not match its invitation"),
    ({"data_group": "other"}, "token does not match its invitation"),
    ({"nonce": 1}, "token names no invitation"),
    ({"email": "a6@news.example"}, "token was issued to another address"),
])
def test_token_not_matching_its_invitation_is_refused(sent, change, reason):
    store, res = sent
    if change.get("nonce") == res.nonce:
        change["nonce"] = res.nonce + 1
    result = store.accept_invitation(payload(res, **change), sender="a1@news.example",
                                     message_hash="h")
    assert not result.accepted and result.reason.startswith(reason)
    assert opted_out(store) and refused(store)["reason"][0].startswith(reason)


def test_bad_token_reported_by_the_classifier_is_recorded(sent):
    store, res = sent
    result = store.accept_invitation(None, sender="a1@news.example", message_hash="h",
                                     token_error="bad signature")
    assert not result.accepted and result.reason == "bad token: bad signature"
    assert refused(store)["reason"].to_list() == ["bad token: bad signature"]
    # even with the In-Reply-To of a real invitation, a forged token is not waved through
    both = store.accept_invitation(None, sender="a1@news.example", message_hash="h2",
                                   token_error="expired", in_reply_to="<inv1@reply.example>")
    assert not both.accepted and both.invitation_id == res.invitation_id and opted_out(store)


def test_no_token_and_no_known_in_reply_to(sent):
    store, _ = sent
    result = store.accept_invitation(None, sender="a1@news.example", message_hash="h",
                                     in_reply_to=["<unknown@x>"])
    assert not result.accepted and result.invitation_id is None
    assert "no invitation token" in result.reason and opted_out(store)


def test_an_invitation_that_was_never_sent_cannot_be_accepted(inv_store):
    res = inv_store.reserve_invitation(
        1, GROUP, sender_name="A", sender_email="a@acme.example", subject="s", comments="",
        language="en", actor="t", ttl_days=30, cooloff_days=90)
    result = inv_store.accept_invitation(payload(res), sender="a1@news.example",
                                         message_hash="h")
    assert not result.accepted and "never sent" in result.reason and opted_out(inv_store)


def test_invitations_listing(sent):
    store, res = sent
    df = store.invitations(GROUP)
    assert df.columns[:5] == ["invitation_id", "contact_id", "name", "email", "status"]
    assert df.row(0, named=True)["name"] == "Ann One"
    assert store.invitations(GROUP, statuses=["accepted"]).height == 0
    assert store.invitations(GROUP, contact_ids=[1]).height == 1
    assert store.invitations(GROUP, contact_ids=[6]).height == 0
    assert store.invitation_for_message_id("<nope@x>") is None


def test_lookup_result_as_payload(sent):
    """The classifier hands the invitation_lookup dict back as the payload (In-Reply-To match)."""
    store, res = sent
    found = store.invitation_for_message_id("inv1@reply.example")
    assert json.loads(json.dumps(found)) == found
    assert found["invitation_id"] == res.invitation_id and found["via"] == "in_reply_to"
    result = store.accept_invitation(found, sender="a1@news.example", message_hash="h")
    assert result.accepted and not opted_out(store)
    proof = json.loads(store.events(kinds=["opt_in"])["evidence"][0])
    assert proof["matched_by"] == "in_reply_to" and proof["token_nonce"] == str(res.nonce)
