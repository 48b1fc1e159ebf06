"""Rendering: templates in seven languages, field checks, the token in Reply-To, preview = send."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from optdesk.errors import HeaderInjection, InvalidField
from optdesk.outgoing import invitations as inv
from optdesk.store.invitations import Reservation
from optdesk.tokens import verify_token

from .conftest import GROUP, KEY

# the word each template asks the contact to answer with
ANSWER = {"en": "YES", "fr": "OUI", "de": "JA", "es": "SÍ", "it": "SÌ", "nl": "JA", "pt": "SIM"}


def reservation(**kw) -> Reservation:
    values = dict(invitation_id=7, contact_id=1, data_group=GROUP, email="a1@news.example",
                  name="Ann One", nonce=1234, expires_at=dt.datetime(2030, 1, 31, 12))
    values.update(kw)
    return Reservation(**values)


@pytest.mark.parametrize("language", inv.LANGUAGES)
def test_every_language_renders_subject_body_comments_and_answer_word(settings, language):
    fields = inv.check_fields(inv.InvitationFields(
        "Zoë from Acme", "zoe@acme.example", "", "A line of mine.\r\nAnd another.", language),
        settings)
    assert "Acme PR" in fields.subject  # the default subject names the organisation
    msg = inv.message_for(fields, reservation(), settings, KEY)
    body = msg.get_content()
    assert "Ann One" in body and "Acme PR" in body and "2030-01-31" in body
    assert "A line of mine.\nAnd another." in body
    assert ANSWER[language] in body
    assert "${" not in body and "$" not in msg["Subject"]
    assert msg["Content-Language"] == language
    # the other templates differ: the language really changes the text
    others = {lang for lang in inv.LANGUAGES if lang != language}
    assert all(inv.load_template(o).body != inv.load_template(language).body for o in others)


def test_empty_comments_leave_no_empty_paragraph(settings):
    fields = inv.check_fields(inv.InvitationFields("A", "a@acme.example"), settings)
    body = inv.message_for(fields, reservation(), settings, KEY).get_content()
    assert "\n\n\n" not in body


def test_headers_token_and_message_id(settings):
    fields = inv.check_fields(inv.InvitationFields("Zoë Müller", "zoe@acme.example",
                                                   "Hello again", "", "de"), settings)
    msg = inv.message_for(fields, reservation(), settings, KEY)
    assert msg["From"].addresses[0].display_name == "Zoë Müller"
    assert msg["From"].addresses[0].addr_spec == "zoe@acme.example"
    assert msg["To"].addresses[0].addr_spec == "a1@news.example"
    assert msg["Subject"] == "Hello again"
    local, domain = msg["Reply-To"].addresses[0].addr_spec.split("@")
    assert domain == "reply.example" and local.startswith("optin+")
    assert len(local) <= 64
    payload = verify_token(KEY, local.removeprefix("optin+"), "optin", email="a1@news.example",
                           now=dt.datetime(2030, 1, 1, tzinfo=dt.UTC))
    assert (payload.contact_id, payload.data_group, payload.nonce) == (1, GROUP, 1234)
    assert payload.expires_at >= dt.datetime(2030, 1, 31, 12, tzinfo=dt.UTC)
    assert re.fullmatch(r"<[^<>@\s]+\.optdesk\.invitation\.7@reply\.example>", msg["Message-ID"])
    # on the wire: 7-bit headers, non-ASCII names encoded
    wire = msg.as_bytes()
    head = wire.split(b"\r\n\r\n", 1)[0]
    assert head.isascii() and b"=?utf-8?" in head


@pytest.mark.parametrize("field", ["sender_name", "sender_email", "subject"])
@pytest.mark.parametrize("bad", ["\r\nBcc: victim@example.org", "\nX: y", "\r", "a\x00b",
                                 "a\u2028b", "a\x85b"])
def test_line_breaks_and_controls_in_header_fields_are_refused(settings, field, bad):
    values = {"sender_name": "Acme", "sender_email": "press@acme.example", "subject": "Hi"}
    values[field] = values[field].replace("@", bad + "@") if field == "sender_email" else (
        values[field] + bad)
    with pytest.raises(HeaderInjection) as info:
        inv.check_fields(inv.InvitationFields(**values), settings)
    assert field.replace("_", " ") in str(info.value)


def test_header_injection_through_settings_is_refused(inv_store):
    from .conftest import make_settings

    bad = make_settings(inv_store.path, organisation="Acme\r\nBcc: x@example.org")
    with pytest.raises(HeaderInjection, match="organisation"):
        inv.check_fields(inv.InvitationFields("A", "a@acme.example"), bad)


@pytest.mark.parametrize("values, match", [
    ({"language": "xx"}, "language 'xx'"),
    ({"sender_email": "not an address"}, "sender email"),
    ({"sender_email": "a@b@c.example"}, "sender email"),
    ({"comments": "x" * (inv.MAX_COMMENTS + 1)}, "comments"),
])
def test_invalid_fields(settings, values, match):
    fields = {"sender_name": "A", "sender_email": "a@acme.example", **values}
    with pytest.raises(InvalidField, match=match):
        inv.check_fields(inv.InvitationFields(**fields), settings)


def test_contact_name_with_line_break_cannot_reach_a_header(settings):
    fields = inv.check_fields(inv.InvitationFields("A", "a@acme.example"), settings)
    with pytest.raises(HeaderInjection, match="contact name"):
        inv.message_for(fields, reservation(name="Ann\r\nBcc: x@example.org"), settings, KEY)


def test_preview_is_the_send_renderer(inv_store, settings):
    fields = inv.InvitationFields("Acme Press", "press@acme.example", "", "Note", "fr")
    items = inv.preview(inv_store, settings, GROUP, [6, 2, 3, 1], fields, limit=3, key=KEY)
    assert [p.contact_id for p in items] == [6, 2, 3]
    assert items[1].skip_reason.startswith("opted out by a spam complaint")
    assert items[2].skip_reason.startswith("not opted out")
    first = items[0]
    assert first.email == "a6@news.example" and first.skip_reason is None
    # the same message the send builds for the same reservation
    checked = inv.check_fields(fields, settings)
    expires = first.message["Reply-To"]  # token differs only by nonce and id
    again = inv.message_for(checked, reservation(contact_id=6, email="a6@news.example",
                                                 name="Élodie Six", invitation_id=0, nonce=0,
                                                 expires_at=dt.datetime.now() + dt.timedelta(days=30)),
                            settings, KEY)
    assert first.message.get_content() == again.get_content()
    assert first.message["Subject"] == again["Subject"] and first.message["From"] == again["From"]
    assert expires.startswith("optin+")
    assert "Subject: Souhaitez-vous" in first.text and "Bonjour Élodie Six" in first.text
