"""One address rule for the importer, the invitations and SMTP; nothing reserved that is not sent.

A contact ``garcía@example.es`` (a non-ASCII local part) imports; it is invited where the SMTP
server offers SMTPUTF8 and skipped up front, with the reason, where it does not; either way no
invitation is left ``pending`` and the rest of the batch goes on.
"""

from __future__ import annotations

from email import message_from_string, policy

import pytest

from fixtures.store import contact_row, write_contacts_csv
from optdesk import addresses
from optdesk.errors import HeaderInjection, InvalidField, SmtpError
from optdesk.outgoing import invitations as inv
from optdesk.outgoing.smtp import SmtpSender, build_message, safe_address
from optdesk.settings import SmtpSettings

from .conftest import GROUP, KEY, make_settings

FIELDS = inv.InvitationFields("Acme Press", "press@acme.example", "", "", "es")
SAMPLES = [
    "ok@x.example", "a+tag@x.example", "o'brien@x.example", "García@example.es",
    "a@münchen.example", "a@xn--mnchen-3ya.example", "a@x..example", "a@-x.example",
    "a.@x.example", ".a@x.example", "a@x_y.example", "a@x", "a@localhost", "a@host.local",
    "a@b.test", '"q"@x.example', "a@[127.0.0.1]", "x" * 65 + "@x.example", "a@@x.example",
    "a@x.example.", "a@123.example.45", "é@x.example", "a b@x.example",
]


def add_contact(store, tmp_path, contact_id: int, email: str) -> None:
    path = write_contacts_csv(tmp_path / f"extra{contact_id}.csv",
                              [contact_row(contact_id, email, first_name="Ana",
                                           last_name=f"Test{contact_id}", language="es")])
    store.import_contacts(path, GROUP)
    store.opt_out(contact_id, GROUP, source="reply", actor="t", reason="baja")


def pending(store) -> int:
    return store.invitations(GROUP, statuses=["pending"]).height


@pytest.mark.parametrize("email", SAMPLES)
def test_every_caller_holds_to_the_one_rule(settings, email):
    ok = addresses.problem(email) is None
    try:
        inv.check_email("sender email", email)
        invitations_ok = True
    except InvalidField:
        invitations_ok = False
    try:
        safe_address(f"Ann <{email}>", "To")
        smtp_ok = True
    except HeaderInjection:
        smtp_ok = False
    assert invitations_ok == smtp_ok == ok
    if ok:
        build_message(sender="p@acme.example", to=email, subject="s", text="t")


def test_garcia_is_skipped_up_front_without_smtputf8(inv_store, tmp_path, smtp_ascii_sink):
    sink, url = smtp_ascii_sink
    add_contact(inv_store, tmp_path, 7, "garcía@example.es")
    settings = make_settings(inv_store.path, smtp_url=url)
    results = inv.send_invitations(inv_store, settings, GROUP, [1, 7, 6], FIELDS, actor="t",
                                   key=KEY)
    assert [(r.contact_id, r.status) for r in results] == [(1, "sent"), (7, "skipped"),
                                                            (6, "sent")]
    reason = results[1].reason
    assert "garcía@example.es" in reason and "SMTPUTF8" in reason and "does not offer" in reason
    assert results[1].invitation_id is None
    assert [m["rcpt_tos"] for m in sink.messages] == [["a1@news.example"], ["a6@news.example"]]
    rows = inv_store.invitations(GROUP)
    assert sorted(rows["contact_id"].to_list()) == [1, 6] and pending(inv_store) == 0
    # nothing holds the contact: a later batch, on a server that takes it, sends
    assert inv.plan(inv_store, GROUP, [7], cooloff_days=90)[0][1] is None


def test_garcia_is_sent_where_the_server_offers_smtputf8(inv_store, tmp_path, smtp_utf8_sink):
    sink, url = smtp_utf8_sink
    add_contact(inv_store, tmp_path, 7, "García@Example.ES")
    settings = make_settings(inv_store.path, smtp_url=url)
    results = inv.send_invitations(inv_store, settings, GROUP, [7, 1], FIELDS, actor="t",
                                   key=KEY)
    assert [r.status for r in results] == ["sent", "sent"]
    first, second = sink.messages
    assert first["rcpt_tos"] == ["garcía@example.es"] and first["smtputf8"]
    got = message_from_string(first["data"].decode("utf-8"), policy=policy.default)
    assert got["To"].addresses[0].addr_spec == "garcía@example.es"
    assert not second["smtputf8"]  # an ASCII message needs no SMTPUTF8
    assert inv_store.invitation(results[0].invitation_id)["status"] == "sent"


def test_an_international_domain_goes_in_its_ascii_form_to_any_server(inv_store, tmp_path,
                                                                       smtp_ascii_sink):
    sink, url = smtp_ascii_sink
    add_contact(inv_store, tmp_path, 7, "ana@münchen.example")
    settings = make_settings(inv_store.path, smtp_url=url)
    (result,) = inv.send_invitations(inv_store, settings, GROUP, [7], FIELDS, actor="t", key=KEY)
    assert result.status == "sent"
    assert sink.messages[0]["rcpt_tos"] == ["ana@xn--mnchen-3ya.example"]


def test_an_address_the_rule_refuses_is_skipped_and_the_batch_goes_on(inv_store, settings):
    """An address stored before the rule (or by another path) never reserves an invitation."""
    with inv_store.db.transaction() as con:
        con.execute("UPDATE addresses SET email = 'a1@x..example' WHERE email = 'a1@news.example'")
    planned = dict((row["contact_id"], reason) for row, reason in
                   inv.plan(inv_store, GROUP, [1, 6], cooloff_days=90))
    assert planned[1] == ("primary address 'a1@x..example' is not an email address: An email "
                          "address cannot have two periods in a row; fix it first")
    from .test_guardrails import Recorder
    smtp = Recorder()
    results = inv.send_invitations(inv_store, settings, GROUP, [1, 6], FIELDS, actor="t",
                                   connect=smtp, key=KEY)
    assert [r.status for r in results] == ["skipped", "sent"]
    assert inv_store.invitations(GROUP)["contact_id"].to_list() == [6]


def test_a_message_that_cannot_be_built_reserves_nothing(inv_store, settings, monkeypatch):
    """Whatever refuses the message at the send, the reservation is rolled back with it."""
    from .test_guardrails import Recorder

    real = inv.message_for

    def failing(fields, reservation, settings, key):
        if reservation.contact_id == 1:
            raise InvalidField("contact address cannot be used")
        return real(fields, reservation, settings, key)

    monkeypatch.setattr(inv, "message_for", failing)
    smtp = Recorder()
    results = inv.send_invitations(inv_store, settings, GROUP, [1, 6], FIELDS, actor="t",
                                   connect=smtp, key=KEY)
    assert [r.status for r in results] == ["skipped", "sent"]
    assert "nothing reserved or sent" in results[0].reason
    assert inv_store.invitations(GROUP)["contact_id"].to_list() == [6]
    assert pending(inv_store) == 0


def test_reserve_rolls_back_when_build_raises(inv_store):
    def boom(reservation):
        raise InvalidField(f"no message for {reservation.email}")

    with pytest.raises(InvalidField, match="a1@news.example"):
        inv_store.reserve_invitation(
            1, GROUP, sender_name="A", sender_email="a@acme.example", subject="s", comments="",
            language="en", actor="t", ttl_days=30, cooloff_days=90, build=boom)
    assert inv_store.invitations(GROUP).height == 0


def test_smtp_sender_refuses_utf8_up_front_and_sends_where_offered(smtp_ascii_sink,
                                                                   smtp_utf8_sink):
    msg = build_message(sender="Press <press@acme.example>", to="García <garcía@example.es>",
                        subject="Hola", text="t")
    sink, url = smtp_ascii_sink
    with SmtpSender(SmtpSettings(url=url, rate_per_second=0)) as smtp:
        assert smtp.offers_smtputf8 is False
        with pytest.raises(SmtpError, match="garcía@example.es has a non-ASCII local part, "
                                            "which needs SMTPUTF8"):
            smtp.send(msg)
    assert sink.messages == []
    sink, url = smtp_utf8_sink
    with SmtpSender(SmtpSettings(url=url, rate_per_second=0)) as smtp:
        smtp.send(msg)
    assert sink.messages[0]["rcpt_tos"] == ["garcía@example.es"]


@pytest.mark.parametrize("to, match", [
    ("a@-x.example", "recipient 'a@-x.example' is not an email address: .*hyphen"),
    ("a@x..example", "the recipient in To is no address that can be read"),
])
def test_smtp_sender_refuses_a_bad_recipient_before_sending(smtp_sink, to, match):
    from email.message import EmailMessage
    from email.policy import SMTP

    sink, url = smtp_sink
    msg = EmailMessage(policy=SMTP)
    msg["From"] = "press@acme.example"
    msg["To"] = to
    msg.set_content("t")
    with SmtpSender(SmtpSettings(url=url, rate_per_second=0)) as smtp, pytest.raises(
            SmtpError, match=match):
        smtp.send(msg)
    assert sink.messages == []


def test_the_importer_takes_garcia(store, tmp_path):
    """The importer and the invitations agree: what imports can be invited (given SMTPUTF8)."""
    path = write_contacts_csv(tmp_path / "g.csv", [contact_row(1, "garcía@example.es")])
    store.import_contacts(path, "g1")
    assert store.contact(1, "g1")["addresses"]["email"].to_list() == ["garcía@example.es"]
    assert inv.check_email("contact address", "garcía@example.es") == "garcía@example.es"
