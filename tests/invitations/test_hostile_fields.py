"""Hostile fields: RFC 2047 encoded line breaks, overlong values; refused before any write."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import re
from email import message_from_bytes, policy
from email.header import decode_header, make_header

import pytest
from hypothesis import given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from optdesk.cli import main
from optdesk.errors import HeaderInjection, InvalidField
from optdesk.outgoing import invitations as inv

from .conftest import GROUP, KEY, make_settings
from .test_render import reservation

BCC_Q = "=?utf-8?q?Hi=0D=0ABcc:_x@attacker.example?="
BCC_B = "=?utf-8?b?" + base64.b64encode(b"Hi\r\nBcc: x@attacker.example").decode() + "?="
ENCODED = [
    BCC_Q, BCC_B, "Hello =?UTF-8?Q?there=0A?= you", "Hi=?utf-8?q?=0D=0A?=Bcc:x@attacker.example",
    "=?utf-8?q?a=E2=80=A8b?=", "=?iso-8859-1?q?a=0Db?=", "=?utf-8?q?a=00b?=",
]
EXPECTED_HEADERS = {"from", "to", "reply-to", "subject", "date", "message-id", "content-type",
                    "content-transfer-encoding", "mime-version", "content-language"}


def fields(**kw) -> inv.InvitationFields:
    values = {"sender_name": "Acme Press", "sender_email": "press@acme.example",
              "subject": "Hello", "comments": "", "language": "en", **kw}
    return inv.InvitationFields(**values)


@pytest.mark.parametrize("value", ENCODED)
@pytest.mark.parametrize("field", ["sender_name", "subject"])
def test_encoded_line_breaks_are_refused_after_decoding(settings, field, value):
    with pytest.raises(HeaderInjection) as info:
        inv.check_fields(fields(**{field: value}), settings)
    message = str(info.value)
    assert field.replace("_", " ") in message and "RFC 2047" in message


def test_encoded_words_without_controls_still_pass(settings):
    checked = inv.check_fields(fields(subject="=?utf-8?q?caf=C3=A9?= news"), settings)
    msg = inv.message_for(checked, reservation(), settings, KEY)
    assert str(msg["Subject"]) == "café news"


def test_encoded_line_breaks_through_settings(inv_store):
    bad = make_settings(inv_store.path, organisation=BCC_Q)
    with pytest.raises(HeaderInjection, match="organisation.*RFC 2047"):
        inv.check_fields(fields(), bad)


def test_build_message_checks_what_it_built(settings):
    """build_message (also the preview's) never emits a header nobody wrote, checked or not."""
    unchecked = dataclasses.replace(inv.check_fields(fields(), settings), subject=BCC_Q)
    with pytest.raises(HeaderInjection, match="Subject"):
        inv.message_for(unchecked, reservation(), settings, KEY)
    unchecked = dataclasses.replace(unchecked, subject="Hi", sender_name=BCC_B)
    with pytest.raises(HeaderInjection, match="From"):
        inv.message_for(unchecked, reservation(), settings, KEY)
    with pytest.raises(HeaderInjection, match="contact name"):
        inv.message_for(inv.check_fields(fields(), settings),
                        reservation(name="Ann =?utf-8?q?=0D=0ABcc:_x@attacker.example?="),
                        settings, KEY)


def test_encoded_subject_writes_and_sends_nothing_against_a_real_server(inv_store, smtp_sink):
    sink, url = smtp_sink
    settings = make_settings(inv_store.path, smtp_url=url)
    for bad in (fields(subject=BCC_Q), fields(sender_name=BCC_B)):
        with pytest.raises(HeaderInjection):
            inv.send_invitations(inv_store, settings, GROUP, [1, 6], bad, actor="t", key=KEY)
        with pytest.raises(HeaderInjection):
            inv.preview(inv_store, settings, GROUP, [1, 6], bad, key=KEY)
    assert sink.messages == []
    assert inv_store.invitations(GROUP).height == 0  # no row, not even a failed one
    assert inv_store.events(kinds=["invitation_sent"]).height == 0


def test_cli_refuses_an_encoded_subject_with_exit_2(inv_store, smtp_sink, tmp_path, monkeypatch,
                                                    capsys):
    sink, url = smtp_sink
    monkeypatch.setenv("OPTDESK_SECRET", KEY.decode())
    monkeypatch.setenv("OPTDESK_SMTP_URL", url)
    monkeypatch.setenv("OPTDESK_CONFIG", str(tmp_path / "none.toml"))
    (tmp_path / "none.toml").write_text('[invitations]\nreply_domain = "reply.example"\n')
    db = str(inv_store.path)
    inv_store.release()
    code = main(["--db", db, "invite", "--data-group", GROUP, "--contact", "1",
                 "--sender-name", "Acme", "--sender-email", "press@acme.example",
                 "--subject", BCC_Q])
    err = capsys.readouterr().err
    assert code == 2 and "subject contains" in err and "RFC 2047" in err
    assert "Traceback" not in err and sink.messages == []
    from optdesk.store import Store
    assert Store(db).invitations(GROUP).height == 0


@pytest.mark.parametrize("field, size, limit", [
    ("sender_name", 10_000, inv.MAX_NAME), ("sender_name", inv.MAX_NAME + 1, inv.MAX_NAME),
    ("subject", inv.MAX_SUBJECT + 1, inv.MAX_SUBJECT),
])
def test_overlong_fields_are_refused(settings, field, size, limit):
    with pytest.raises(InvalidField) as info:
        inv.check_fields(fields(**{field: "x" * size}), settings)
    assert str(info.value) == (f"{field.replace('_', ' ')} is {size:,} characters long; "
                               f"at most {limit}")


def test_overlong_organisation_is_refused(inv_store):
    bad = make_settings(inv_store.path, organisation="O" * (inv.MAX_NAME + 1))
    with pytest.raises(InvalidField, match="organisation"):
        inv.check_fields(fields(subject=""), bad)


@pytest.mark.parametrize("name", [
    "x" * inv.MAX_NAME,                                   # one long word: cannot fold
    ("Zoë Martin " * 20)[: inv.MAX_NAME].strip(),        # words: folded at 78
    ("Wörter " * 30)[: inv.MAX_NAME].strip(),            # non-ASCII: encoded words, folded
])
def test_longest_fields_fold_on_the_wire(inv_store, smtp_sink, name):
    sink, url = smtp_sink
    settings = make_settings(inv_store.path, smtp_url=url)
    subject = ("Une longue phrase à lire " * 10)[: inv.MAX_SUBJECT]
    results = inv.send_invitations(inv_store, settings, GROUP, [1],
                                   fields(sender_name=name, subject=subject), actor="t", key=KEY)
    assert [r.status for r in results] == ["sent"]
    (got,) = sink.messages
    head = got["data"].split(b"\r\n\r\n", 1)[0]
    lines = head.split(b"\r\n")
    assert max(len(line) for line in lines) <= 998
    if " " in name:
        assert max(len(line) for line in lines) <= 78
    msg = got["msg"]
    assert {k.lower() for k in msg.keys()} == EXPECTED_HEADERS
    assert len(msg.keys()) == len(EXPECTED_HEADERS)
    # read as RFC 2047 says (whitespace between adjacent encoded words dropped); the email
    # package's address parser keeps that whitespace inside a display name
    raw_from = next(f for f in re.split(rb"\r\n(?=\S)", head) if f.startswith(b"From:"))
    raw_from = raw_from.removeprefix(b"From:").replace(b"\r\n", b"").decode("ascii").strip()
    assert str(make_header(decode_header(raw_from))) == f"{name} <press@acme.example>"
    assert str(msg["Subject"]) == subject.strip()


def test_a_ten_thousand_character_name_in_the_store_is_skipped(inv_store, settings):
    with inv_store.db.transaction() as con:
        con.execute("UPDATE contacts SET name = ? WHERE contact_id = 6", ["N" * 10_000])
    (row, reason), = inv.plan(inv_store, GROUP, [6], cooloff_days=90,
                              now=dt.datetime.now(dt.UTC).replace(tzinfo=None))
    assert reason == "contact name is 10,000 characters long; at most 128; fix it first"


UNWRITABLE = ["\x80\t=?utf-8?b?=0D", "é\t=?utf-8?b?=0D"]  # CPython's folder raises on these


@pytest.mark.parametrize("value", UNWRITABLE)
@pytest.mark.parametrize("field", ["sender_name", "subject"])
def test_a_value_the_email_package_cannot_write_is_refused_up_front(settings, field, value):
    # the subject cannot be written out; as a display name, the email package reads a control
    # character into it: refused either way, naming the field
    with pytest.raises((InvalidField, HeaderInjection)) as info:
        inv.check_fields(fields(**{field: value}), settings)
    assert str(info.value).startswith(field.replace("_", " "))
    if field == "subject":
        assert "the email package cannot write it out" in str(info.value)


@pytest.mark.parametrize("value", UNWRITABLE)
def test_a_contact_name_that_cannot_be_written_is_skipped_reserving_nothing(inv_store, settings,
                                                                             value):
    from .test_guardrails import Recorder

    with inv_store.db.transaction() as con:
        con.execute("UPDATE contacts SET name = ? WHERE contact_id = 1", [value])
    previews = inv.preview(inv_store, settings, GROUP, [1, 6], fields(), key=KEY)
    assert previews[0].skip_reason == ("the contact's name contains a line break or control "
                                       "character; fix it first")
    smtp = Recorder()
    results = inv.send_invitations(inv_store, settings, GROUP, [1, 6], fields(), actor="t",
                                   connect=smtp, key=KEY)
    assert [r.status for r in results] == ["skipped", "sent"]
    assert inv_store.invitations(GROUP)["contact_id"].to_list() == [6]


_PIECES = st.sampled_from(["=?utf-8?q?", "=?utf-8?b?", "?=", "=0D", "=0A", "DQo", "Bcc:", " ",
                           "\r", "\n", "\t", "x@attacker.example", "é", "_", "\u2028", "=?"])


@hyp_settings(max_examples=300, deadline=None)
@given(name=st.lists(_PIECES | st.text(max_size=4), max_size=12).map("".join),
       subject=st.lists(_PIECES | st.text(max_size=4), max_size=12).map("".join))
def test_no_field_value_adds_a_header(name, subject):
    """Whatever the analyst types: refused cleanly, or a message with exactly our headers."""
    settings = make_settings("unused.duckdb")
    try:
        checked = inv.check_fields(fields(sender_name=name, subject=subject), settings)
        msg = inv.message_for(checked, reservation(), settings, KEY)
    except (HeaderInjection, InvalidField):
        return
    back = message_from_bytes(msg.as_bytes(), policy=policy.default)
    assert {k.lower() for k in back.keys()} == EXPECTED_HEADERS
    assert len(back.keys()) == len(EXPECTED_HEADERS)
