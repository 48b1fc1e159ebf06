"""The notebook 03 view without a browser: set widgets, click, check the store and the HTML."""

from __future__ import annotations

import pytest

from fixtures.store import contact_row, write_contacts_csv
from optdesk.views.invitations import SOURCES, InvitationsView
from optdesk.views.selection import set_selection

from .conftest import GROUP, KEY, make_settings

HOSTILE = "<img src=x onerror=alert(1)>"


@pytest.fixture
def view(inv_store, smtp_sink, tmp_path):
    sink, url = smtp_sink
    rows = [contact_row(77, "h77@news.example", first_name=HOSTILE, last_name="", language="en")]
    inv_store.import_contacts(write_contacts_csv(tmp_path / "hostile.csv", rows), GROUP)
    inv_store.opt_out(77, GROUP, source="manual", actor="t")
    selection = tmp_path / "selection.json"
    v = InvitationsView(inv_store, make_settings(inv_store.path, smtp_url=url), actor="ana",
                        selection_path=selection, key=KEY)
    yield v, sink, selection
    inv_store.release()


def test_defaults_come_from_settings_and_language_changes_the_default_subject(view):
    v, _, _ = view
    assert (v.sender_name.value, v.sender_email.value) == ("Acme Press", "press@acme.example")
    assert v.language.value == "each" and v.subject.value == ""  # each contact's own language
    assert v.language.description == "Message language"
    assert v.language_filter.description == "Contact language"
    v.language.value = "en"
    assert v.subject.value == "Would you like to hear from Acme PR again?"
    v.language.value = "nl"
    assert v.subject.value == "Wilt u weer berichten van Acme PR ontvangen?"
    v.subject.value = "Mijn eigen onderwerp"
    v.language.value = "de"
    assert v.subject.value == "Mijn eigen onderwerp"  # a typed subject is kept


def test_selection_preview_send_results_and_statuses(view, inv_store):
    v, sink, selection = view
    set_selection(GROUP, [1, 2, 77, 6], origin="02-opted-out-contacts", path=selection)
    v.source.value = SOURCES[0]
    v.load_button.click()
    assert "4 contacts selected in 02-opted-out-contacts" in v.selection_info.value
    assert "<b>4</b> contacts: <b>3</b> can be invited, <b>1</b> will be skipped" in \
        v.who_html.value
    v.comments.value = "Hello <b>there</b>"
    v.preview_button.click()
    assert v.status.text == ""
    html = v.preview_html.value
    assert "Dear Ann One" in html and "Hello &lt;b&gt;there&lt;/b&gt;" in html
    assert "opted out by a spam complaint" in v.who_html.value and HOSTILE not in html
    assert HOSTILE not in v.who_html.value
    v.send_button.click()
    assert v.confirm_box.layout.display == "" and sink.messages == []
    v.confirm_button.click()
    assert "3 sent, 1 skipped" in v.status.text
    assert [m["rcpt_tos"][0] for m in sink.messages] == [
        "a1@news.example", "h77@news.example", "a6@news.example"]
    assert (v.progress.value, v.progress.max) == (4, 4)
    assert [r.status for r in v.results] == ["sent", "skipped", "sent", "sent"]
    assert "&lt;img src=x onerror=alert(1)&gt;" in v.statuses_html.value
    assert HOSTILE not in v.statuses_html.value and HOSTILE not in v.results_html.value
    assert "<td>&lt;img src=x onerror=alert(1)&gt;</td><td>h77@news.example</td><td>sent" in \
        v.results_html.value
    assert "sent: 3" in v.statuses_html.value
    assert inv_store.events(kinds=["invitation_sent"])["actor"].to_list() == ["ana"] * 3


def test_statuses_show_accepted_and_expired(view, inv_store):
    v, _, _ = view
    v.source.value = SOURCES[2]
    v.ids.value = "1, 6"
    v.send()
    first = inv_store.invitations(GROUP, contact_ids=[1]).row(0, named=True)
    inv_store.accept_invitation(None, sender="a1@news.example", message_hash="h",
                                in_reply_to=[inv_store.invitation(first["invitation_id"])
                                             ["message_id"]])
    inv_store.expire_invitations(now=first["expires_at"].replace(year=first["expires_at"].year + 1))
    v.refresh_button.click()
    assert "accepted: 1" in v.statuses_html.value and "expired: 1" in v.statuses_html.value


def test_filter_source(view, inv_store):
    v, sink, _ = view
    v.source.value = SOURCES[1]
    v.language_filter.value = "fr"
    v.load_button.click()
    # French-speaking opted-out contacts of the fixture: 2 (complaint), 4, 5, 6
    assert "<b>4</b> contacts: <b>1</b> can be invited" in v.who_html.value


def test_errors_are_messages_and_nothing_is_sent(view, inv_store):
    v, sink, _ = view
    v.source.value = SOURCES[2]
    v.ids.value = "1, abc"
    v.load_button.click()
    assert "no contact with id abc" in v.status.text  # ids are the team's, text
    v.ids.value = "1 6"
    v.subject.value = "Hi\r\nBcc: all@example.org"
    v.send_button.click()
    assert "subject contains a carriage return" in v.status.text
    assert v.confirm_box.layout.display == "none"
    v.confirm_button.click()  # even forced, the send refuses the field
    assert "subject contains" in v.status.text
    assert sink.messages == [] and inv_store.invitations(GROUP).height == 0
    v.ids.value = ""
    v.contact_ids = []
    v.subject.value = "ok"
    v.preview_button.click()
    assert "no contacts chosen" in v.status.text


def test_switching_from_ids_to_a_filter_mails_the_filtered_set(view, inv_store):
    v, sink, _ = view
    v.source.value = SOURCES[2]
    v.ids.value = "1 5 77"
    v.load_button.click()
    assert "<b>3</b> contacts" in v.who_html.value
    v.send_button.click()
    assert v.confirm_box.layout.display == ""
    v.source.value = SOURCES[1]  # what is on screen now: French-speaking opted-out contacts
    assert v.confirm_box.layout.display == "none", "a confirmation for other contacts is gone"
    v.language_filter.value = "fr"
    v.preview_button.click()
    assert "a6@news.example" in v.preview_html.value and "a1@news.example" not in v.preview_html.value
    who = v.who_html.value
    assert "Will be mailed" in who and "a6@news.example" in who and "Skipped" in who
    assert "spam complaint" in who  # contact 2, and why
    v.send_button.click()
    assert "to the <b>1</b> contacts listed above" in v.confirm_text.value
    v.confirm_button.click()
    assert [m["rcpt_tos"][0] for m in sink.messages] == ["a6@news.example"]
    sent = inv_store.invitations(GROUP)
    assert sent["contact_id"].to_list() == [6] and sent["language"].to_list() == ["fr"]


def test_each_contact_gets_their_own_language_and_a_clean_preview(view, inv_store):
    v, sink, _ = view
    v.source.value = SOURCES[2]
    v.ids.value = "1 6"
    v.load_button.click()
    assert "<td>a6@news.example</td><td>fr</td>" in v.who_html.value
    assert "<td>a1@news.example</td><td>en</td>" in v.who_html.value
    v.preview_button.click()
    html = v.preview_html.value
    assert "Dear Ann One" in html and "Élodie" in html
    shown, details = html.split("<details>")[0], html.split("<details>")[1]
    assert "Reply-To" not in shown and "Message-ID" not in shown
    assert "Reply-To" in details and "Message-ID" in details
    assert "word-break:normal" in shown
    v.send()
    langs = dict(zip(*inv_store.invitations(GROUP).select("contact_id", "language")
                     .to_dict(as_series=False).values(), strict=True))
    assert langs == {1: "en", 6: "fr"}
    subjects = {m["rcpt_tos"][0]: str(m["msg"]["Subject"]) for m in sink.messages}
    assert subjects["a1@news.example"] != subjects["a6@news.example"]


def test_stop_finishes_the_message_in_hand(view, inv_store, monkeypatch):
    from optdesk.outgoing import invitations as inv

    v, sink, _ = view
    v.source.value = SOURCES[2]
    v.ids.value = "1 6 77"
    real = inv._Run.send_one

    def send_then_stop(self, row):
        result = real(self, row)
        v.stop_button.click()  # clicked while the first message is being sent
        return result

    monkeypatch.setattr(inv._Run, "send_one", send_then_stop)
    results = v.send()
    assert [r.status for r in results] == ["sent", "not sent", "not sent"]
    assert len(sink.messages) == 1 and inv_store.invitations(GROUP).height == 1
    assert "1 sent, 2 not sent" in v.status.text


def test_time_left():
    from optdesk.views.invitations import time_left

    assert time_left(10, 160, 2.0) == " · about 30 s left"
    assert time_left(100, 15000, 20.0) == " · about 50 min left"
    assert time_left(0, 10, 1.0) == "" and time_left(10, 10, 5.0) == ""


def test_contacts_are_typed_and_shown_by_the_teams_text_id(view, inv_store, tmp_path):
    from fixtures.store import contact_row, write_contacts_csv

    v, sink, _ = view
    csv = write_contacts_csv(tmp_path / "team.csv", [
        contact_row("c-1234", "c1234@news.example", first_name="Tess", language="en")])
    inv_store.import_contacts(csv, GROUP)
    key = inv_store.contact_key("c-1234")
    inv_store.opt_out(key, GROUP, source="reply", actor="daemon")
    v.source.value = SOURCES[2]
    v.ids.value = "c-1234, 1"
    v.load_button.click()
    assert v.contact_ids == [key, 1]
    v.send()
    assert "<td>c-1234</td><td>Tess Lastc-1234</td>" in v.results_html.value
    assert {m["rcpt_tos"][0] for m in sink.messages} == {"c1234@news.example", "a1@news.example"}
