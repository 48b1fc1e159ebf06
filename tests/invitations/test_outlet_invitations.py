"""Invitations to an outlet's own address (issue 15): an outlet that opted out can be invited
back; its acceptance (a valid token, a clear yes, from one of the outlet's own addresses) opts
the OUTLET back in, never a contact. Store, CLI against a real SMTP server (aiosmtpd), and the
whole loop through a real Dovecot and one daemon poll."""

from __future__ import annotations

import dataclasses
import json

import polars as pl
import pytest

from fixtures.store import outlet_row, write_outlets_csv
from optdesk.cli import main
from optdesk.outgoing import invitations as inv
from optdesk.store import utcnow
from optdesk.store.invitations import token_subject
from optdesk.tokens import verify_token

from .conftest import GROUP, KEY, build_store
from .test_e2e import Loop

FIELDS = inv.InvitationFields("Acme Press", "press@acme.example", "", "", "en")


def add_outlet(store, tmp_path, *, opt_out=True):
    """Outlet ``OUT-9`` (newsdesk@ and redaktion@nine.example) with contact 3 at it; opted
    out of the group with its contacts. Returns the outlet's internal key."""
    store.import_outlets(write_outlets_csv(tmp_path / "outlets.csv", [
        outlet_row("OUT-9", "newsdesk@nine.example", name="Nine News", language="de"),
        outlet_row("OUT-9", "redaktion@nine.example", name="Nine News", language="de")]), GROUP)
    key = store.outlet_key("OUT-9")
    with store.db.transaction() as con:
        con.execute("UPDATE contacts SET outlet_id = ? WHERE contact_id = 3", [key])
    if opt_out:
        store.opt_out_outlet(key, GROUP, source="manual", actor="t", reason="closed desk",
                             with_contacts=True)
    return key


def reserve(store, outlet_key):
    return store.reserve_invitation(
        None, GROUP, outlet_id=outlet_key, sender_name="A", sender_email="a@acme.example",
        subject="s", comments="", language="en", actor="t", ttl_days=30, cooloff_days=90)


def payload(res, **kw):
    out = {"purpose": "optin", "contact_id": res.subject, "data_group": res.data_group,
           "nonce": res.nonce, "expires_at": res.expires_at.isoformat(), "email_fp": "00",
           "email": None}
    out.update(kw)
    return out


def outlet_opted_out(store, key) -> bool:
    return store.outlet(key, GROUP)["optout"] is not None


def contacts_opted_in_by_invitation(store) -> int:
    return store.events(kinds=["opt_in"]).filter(pl.col("source") == "invitation").height


def contact_opted_out(store, cid=3) -> bool:
    return store.contact(cid, GROUP)["optout"] is not None


@pytest.fixture
def outlet(inv_store, tmp_path):
    return inv_store, add_outlet(inv_store, tmp_path)


def test_an_opted_out_outlet_is_reserved_at_its_own_address(outlet):
    store, key = outlet
    res = reserve(store, key)
    assert res.contact_id is None and res.outlet_id == key
    assert res.email == "newsdesk@nine.example" and res.name == "Nine News"
    assert res.subject == f"outlet:{key}" == token_subject(None, key)
    row = store.invitation(res.invitation_id)
    assert row["contact_id"] is None and row["outlet_id"] == key and row["status"] == "pending"
    listed = store.invitations(GROUP, outlet_ids=[key]).row(0, named=True)
    assert listed["name"] == "Nine News" and listed["outlet_id"] == key
    assert store.invitations(GROUP, contact_ids=[3]).height == 0


def test_guardrails_apply_to_outlets(inv_store, tmp_path):
    key = add_outlet(inv_store, tmp_path, opt_out=False)
    assert reserve(inv_store, key) == f"not opted out in data group {GROUP!r}"
    assert reserve(inv_store, 10_000) == "no such outlet"
    inv_store.opt_out_outlet(key, GROUP, source="complaint", actor="t", reason="spam")
    assert reserve(inv_store, key) == "opted out by a spam complaint: never invited"
    assert inv_store.db.scalar("SELECT count(*) FROM invitations") == 0


def test_the_undeliverable_address_is_passed_over(outlet):
    store, key = outlet
    with store.db.transaction() as con:
        con.execute("INSERT INTO deliverability (email, undeliverable) VALUES (?, true)",
                    ["newsdesk@nine.example"])
    assert reserve(store, key).email == "redaktion@nine.example"


def test_acceptance_opts_the_outlet_in_and_no_contact(outlet):
    store, key = outlet
    res = reserve(store, key)
    store.mark_invitation_sent(res.invitation_id, message_id="<o1@reply.example>", actor="t")
    assert outlet_opted_out(store, key) and contact_opted_out(store)
    result = store.accept_invitation(payload(res), sender="Redaktion@Nine.example",
                                     message_hash="h1", received_at=utcnow())
    assert (result.accepted, result.reason) == (True, "outlet opted in")
    assert result.outlet_id == key and result.contact_id is None
    assert not outlet_opted_out(store, key)
    assert not store.is_suppressed("newsdesk@nine.example", GROUP)
    assert contact_opted_out(store)  # its contacts stay as they were
    event = store.events(kinds=["outlet_opt_in"]).row(0, named=True)
    assert event["source"] == "invitation" and event["invitation_id"] == res.invitation_id
    assert event["outlet_id"] == key and event["contact_id"] is None
    assert json.loads(event["evidence"])["token_nonce"] == res.nonce
    assert contacts_opted_in_by_invitation(store) == 0
    assert store.invitation(res.invitation_id)["status"] == "accepted"


@pytest.mark.parametrize(("sender", "token", "reason"), [
    ("a3@news.example", {}, "a3@news.example is not one of the outlet's own addresses"),
    ("newsdesk@nine.example", {"contact_id": 3}, "token does not match its invitation"),
    ("newsdesk@nine.example", {"data_group": "other"}, "token does not match its invitation"),
])
def test_acceptance_is_refused_without_the_outlets_token_and_address(outlet, sender, token,
                                                                     reason):
    store, key = outlet
    res = reserve(store, key)
    store.mark_invitation_sent(res.invitation_id, message_id="<o2@reply.example>", actor="t")
    result = store.accept_invitation(payload(res, **token), sender=sender, message_hash="h2")
    assert not result.accepted and reason in result.reason
    assert outlet_opted_out(store, key) and contact_opted_out(store)
    assert store.events(kinds=["outlet_opt_in"]).height == 0
    assert contacts_opted_in_by_invitation(store) == 0
    assert store.events(kinds=["invitation_refused"]).height == 1


def test_a_contacts_token_never_opens_an_outlets_invitation(outlet):
    """A contact's token names an integer: it cannot match an outlet's ``outlet:KEY``."""
    store, key = outlet
    res = reserve(store, key)
    store.mark_invitation_sent(res.invitation_id, message_id="<o3@reply.example>", actor="t")
    result = store.accept_invitation(payload(res, contact_id=key), sender="newsdesk@nine.example",
                                     message_hash="h3")
    assert not result.accepted and outlet_opted_out(store, key)


def test_a_decline_changes_nothing(outlet):
    store, key = outlet
    res = reserve(store, key)
    store.mark_invitation_sent(res.invitation_id, message_id="<o4@reply.example>", actor="t")
    result = store.accept_invitation(payload(res), sender="newsdesk@nine.example",
                                     message_hash="h4", affirmative=False)
    assert not result.accepted and result.status == "declined"
    assert outlet_opted_out(store, key)


# -- the CLI against a real SMTP server ------------------------------------------------------
@pytest.fixture
def cli(inv_store, tmp_path, monkeypatch, smtp_sink):
    sink, url = smtp_sink
    add_outlet(inv_store, tmp_path)
    config = tmp_path / "optdesk.toml"
    config.write_text(
        '[invitations]\nreply_domain = "reply.example"\norganisation = "Acme PR"\n'
        'sender_name = "Acme Press"\nsender_email = "press@acme.example"\n'
        "[smtp]\nrate_per_second = 200.0\n", encoding="utf-8")
    monkeypatch.setenv("OPTDESK_CONFIG", str(config))
    monkeypatch.setenv("OPTDESK_SECRET", KEY.decode())
    monkeypatch.setenv("OPTDESK_SMTP_URL", url)
    db = str(inv_store.path)
    inv_store.release()
    return (lambda *args: main(["--db", db, *args])), sink


def test_invite_outlet_sends_to_its_own_address(cli, inv_store, capsys):
    run, sink = cli
    code = run("invite", "--data-group", GROUP, "--contact", "1", "--outlet", "OUT-9")
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("contact 1: sent to a1@news.example")
    assert lines[1].startswith("outlet OUT-9: sent to newsdesk@nine.example (invitation ")
    assert "2 sent" in err
    assert [m["rcpt_tos"] for m in sink.messages] == [["a1@news.example"],
                                                      ["newsdesk@nine.example"]]
    msg = sink.messages[1]["msg"]
    assert "Nine News" in msg.get_content()
    token = msg["Reply-To"].addresses[0].username.removeprefix("optin+")
    key = inv_store.outlet_key("OUT-9")
    assert verify_token(KEY, token, "optin", email="newsdesk@nine.example").contact_id == (
        f"outlet:{key}")
    assert inv_store.invitation_for_message_id(msg["Message-ID"])["outlet_id"] == key
    assert run("invitations", "--data-group", GROUP, "--outlet", "OUT-9") == 0
    listed = capsys.readouterr().out.splitlines()
    assert len(listed) == 1 and "outlet OUT-9 <newsdesk@nine.example> sent" in listed[0]
    assert run("invite", "--data-group", GROUP, "--outlet", "OUT-9") == 0
    assert "outlet OUT-9: skipped: already invited on" in capsys.readouterr().out
    assert len(sink.messages) == 2


def test_invite_needs_someone_and_knows_the_outlet(cli, capsys):
    run, sink = cli
    assert run("invite", "--data-group", GROUP) == 2
    assert "at least one --contact or --outlet" in capsys.readouterr().err
    assert run("invite", "--data-group", GROUP, "--outlet", "OUT-nope") == 2
    assert "no outlet with id OUT-nope" in capsys.readouterr().err
    assert run("invite", "--data-group", GROUP, "--outlet", "OUT-9", "--preview", "1") == 0
    out = capsys.readouterr().out
    assert out.startswith("=== outlet OUT-9\n") and "To: Nine News <newsdesk@nine.example>" in out
    assert sink.messages == []


# -- the whole loop: SMTP, Dovecot, one daemon poll ------------------------------------------
@pytest.fixture
def loop(dovecot, smtp_server, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTDESK_SECRET", KEY.decode())
    monkeypatch.setenv("OPTDESK_SMTP_PASSWORD", "s3cret")
    smtp = smtp_server("starttls", users={"press": "s3cret"})
    store = build_store(tmp_path / "optdesk.duckdb")
    key = add_outlet(store, tmp_path)
    base = dovecot.settings()
    settings = dataclasses.replace(
        base, db=str(store.path), data_group=GROUP, secret_file=str(tmp_path / "unused.key"),
        invitations=dataclasses.replace(base.invitations, reply_domain="reply.example",
                                        organisation="Acme PR"),
        smtp=dataclasses.replace(base.smtp, url=smtp.url, ca_file=smtp.ca_file,
                                 rate_per_second=100.0))
    yield Loop(store, settings, smtp, dovecot), key
    store.release()


def send_to_outlet(loop, key):
    results = inv.send_invitations(loop.store, loop.settings, GROUP, [], FIELDS, actor="ana",
                                   outlet_ids=[key])
    assert results[0].status == "sent", results[0]
    return results[0], loop.smtp.messages[-1]["message"]


@pytest.mark.imap
@pytest.mark.slow
def test_an_outlets_yes_opts_the_outlet_back_in(loop):
    loop, key = loop
    sent, invitation = send_to_outlet(loop, key)
    loop.reply(invitation, "Yes, please keep us informed.",
               sender="Nine News <newsdesk@nine.example>")
    result = loop.poll()
    assert result.applied == 1 and result.kinds["opt_in"] == 1
    assert not outlet_opted_out(loop.store, key)
    assert contact_opted_out(loop.store)
    row = loop.store.invitation(sent.invitation_id)
    assert row["status"] == "accepted" and row["answer_message_hash"] is not None
    event = loop.store.events(kinds=["outlet_opt_in"]).row(0, named=True)
    assert event["invitation_id"] == sent.invitation_id and event["source"] == "invitation"
    assert contacts_opted_in_by_invitation(loop.store) == 0


@pytest.mark.imap
@pytest.mark.slow
def test_an_outlet_invitation_answered_from_a_contacts_address_is_refused(loop):
    loop, key = loop
    sent, invitation = send_to_outlet(loop, key)
    loop.reply(invitation, "Yes!", sender="Three <a3@news.example>")
    loop.poll()
    assert outlet_opted_out(loop.store, key) and contact_opted_out(loop.store)
    assert loop.store.invitation(sent.invitation_id)["status"] == "sent"
    refused = loop.store.events(kinds=["invitation_refused"]).row(0, named=True)
    assert "not one of the outlet's own addresses" in refused["reason"]
    assert loop.ledger_row()["review"]


@pytest.mark.imap
@pytest.mark.slow
def test_an_unclear_outlet_answer_changes_nothing(loop):
    loop, key = loop
    sent, invitation = send_to_outlet(loop, key)
    loop.reply(invitation, "Maybe, who is asking?", sender="newsdesk@nine.example")
    loop.poll()
    assert outlet_opted_out(loop.store, key)
    assert loop.store.invitation(sent.invitation_id)["status"] == "sent"
    assert loop.ledger_row()["review"]


# -- the 03 view: outlets in the ids box ---------------------------------------------------------
def test_the_03_view_invites_an_outlet_named_in_the_ids_box(inv_store, smtp_sink, tmp_path):
    from optdesk.views.invitations import SOURCES, InvitationsView

    from .conftest import make_settings

    sink, url = smtp_sink
    key = add_outlet(inv_store, tmp_path)
    v = InvitationsView(inv_store, make_settings(inv_store.path, smtp_url=url), actor="ana",
                        selection_path=tmp_path / "selection.json", key=KEY)
    v.source.value = SOURCES[2]
    v.ids.value = "1, outlet:OUT-9"
    v.load_button.click()
    assert "<b>2</b> contacts: <b>2</b> can be invited" in v.who_html.value
    assert "outlet OUT-9" in v.who_html.value and "newsdesk@nine.example" in v.who_html.value
    v.preview_button.click()
    assert "Nine News &lt;newsdesk@nine.example&gt;" in v.preview_html.value
    v.send_button.click()
    v.confirm_button.click()
    assert "2 sent" in v.status.text
    assert [m["rcpt_tos"][0] for m in sink.messages] == ["a1@news.example",
                                                        "newsdesk@nine.example"]
    assert "outlet OUT-9" in v.results_html.value
    assert inv_store.invitations(GROUP, outlet_ids=[key]).height == 1
    v.ids.value = "outlet:OUT-nope"
    v.load_button.click()
    assert "no outlet with id OUT-nope" in v.status.text
    inv_store.release()
