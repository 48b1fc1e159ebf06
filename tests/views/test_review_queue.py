"""Notebook 05's view without a browser: the queue, the evidence, one-click decisions."""

from __future__ import annotations

import datetime as dt

import pytest

from optdesk.views.review_queue import ReviewQueueView


def add_review(store, digest, sender, contact_id=None, *, group="demo", minutes=0,
               new_text="maybe remove me", kind="opt_out", reason="low confidence (0.60)"):
    store.add_ledger_rows([{
        "message_hash": digest, "mailbox": "fake:INBOX", "folder": "INBOX", "uid": minutes + 1,
        "sender": sender, "subject": f"re: news {digest}", "kind": kind, "stage": "opt_out",
        "rule": "en-remove", "confidence": 0.6, "evidence": {"matched": "remove <me>"},
        "new_text": new_text, "contact_id": contact_id, "data_group": group,
        "received_at": dt.datetime(2026, 11, 1, 9, 0) + dt.timedelta(minutes=minutes),
        "processed_at": dt.datetime(2026, 11, 2, 9, 0) + dt.timedelta(minutes=minutes),
        "status": "review", "review": True, "review_reason": reason, "review_state": "open",
    }])


def queue_store(demo_store):
    ids = [r["contact_id"] for r in demo_store.find_contacts("ma", "demo", 50).iter_rows(named=True)
           if not r["opted_out"]][:2]
    add_review(demo_store, "h1", "first@example.org", ids[0], minutes=1)
    add_review(demo_store, "h2", "<script>alert(1)</script>@x.example", ids[1], minutes=2,
               new_text="<img src=x onerror=alert(1)> please take me off")
    add_review(demo_store, "h3", "stranger@example.net", None, minutes=3,
               reason="unknown sender")
    add_review(demo_store, "h4", "other@example.org", ids[0], group="other", minutes=4)
    return ids


def test_queue_lists_oldest_first_and_shows_the_first(demo_store):
    ids = queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk")
    assert [r["message_hash"] for r in view.rows] == ["h1", "h2", "h3"]
    assert "<b>3</b> messages waiting" in view.summary.value
    assert view.items.value == 0 and view.current["message_hash"] == "h1"
    shown = view.detail.value
    name = demo_store.contact(ids[0], "demo")["contact"]["name"]
    assert "first@example.org" in shown and name in shown and "maybe <mark>remove</mark> me" in shown
    assert "low confidence (0.60)" in shown and "remove &lt;me&gt;" in shown
    assert "confidence 0.60" in shown
    assert view.decisions.layout.display == ""
    view.group.value = ""
    assert [r["message_hash"] for r in view.rows] == ["h1", "h2", "h3", "h4"]


def test_apply_opt_out_records_the_analyst_and_moves_to_the_next(demo_store):
    ids = queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk")
    view.reason.value = "clear enough"
    view.optout_button.click()
    optout = demo_store.contact(ids[0], "demo")["optout"]
    assert optout["source"] == "reply" and optout["actor"] == "ana@desk"
    event = demo_store.events(kinds=["review_resolved"]).row(0, named=True)
    assert event["actor"] == "ana@desk" and event["message_hash"] == "h1"
    assert event["source"] == "opt_out" and event["reason"] == "clear enough"
    assert [r["message_hash"] for r in view.rows] == ["h2", "h3"]
    assert view.current["message_hash"] == "h2", "the next message is shown"
    assert "opt-out applied" in view.status.text and view.reason.value == ""


def test_human_and_dismiss_change_no_opt_out(demo_store):
    ids = queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk")
    view.human_button.click()
    view.dismiss_button.click()
    assert demo_store.contact(ids[0], "demo")["optout"] is None
    assert demo_store.contact(ids[1], "demo")["optout"] is None
    events = demo_store.events(kinds=["review_resolved"])
    assert sorted(events["source"].to_list()) == ["dismiss", "human"]
    assert set(events["actor"]) == {"ana@desk"}
    assert [r["message_hash"] for r in view.rows] == ["h3"]


def test_unknown_sender_opt_out_suppresses_the_address(demo_store):
    queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk")
    view.items.value = 2
    assert "no contact has this address" in view.detail.value
    view.optout_button.click()
    assert demo_store.is_suppressed("stranger@example.net", "demo")


def test_resolved_tab_shows_who_decided(demo_store):
    queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk")
    view.human_button.click()
    view.state.value = "resolved"
    assert [r["message_hash"] for r in view.rows] == ["h1"]
    assert "human reply by ana@desk" in view.detail.value
    assert view.decisions.layout.display == "none"


def test_someone_else_resolved_it_first(demo_store):
    queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk")
    demo_store.resolve_review("h1", "dismiss", "bob@desk")
    view.optout_button.click()
    assert "already resolved by someone else" in view.status.text
    assert demo_store.events(kinds=["review_resolved"])["actor"].to_list() == ["bob@desk"]


def test_values_are_escaped(demo_store):
    queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk")
    view.items.value = 1
    shown = view.detail.value
    assert "&lt;script&gt;alert(1)&lt;/script&gt;@x.example" in shown
    assert "&lt;img src=x onerror=alert(1)&gt; please take me off" in shown
    assert "<script>" not in shown and "<img" not in shown


def test_empty_queue(demo_store):
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk")
    assert view.rows == [] and "Nothing to review" in view.detail.value
    assert "<b>0</b> messages" in view.summary.value
    assert view.decisions.layout.display == "none"


def test_reopen_a_decision_and_the_note_shows_in_resolved(demo_store):
    queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana")
    view.reason.value = "phoned: <b>she</b> is fine"
    view.human_button.click()
    view.state.value = "resolved"
    assert "phoned: <b>she</b> is fine" in view.items.options[0][0]  # plain text in a Select
    assert "phoned: &lt;b&gt;she&lt;/b&gt; is fine" in view.detail.value
    assert view.reopening.layout.display == "" and view.decisions.layout.display == "none"
    view.reopen_reason.value = "wrong call"
    view.reopen_button.click()
    assert "reopened" in view.status.text
    assert demo_store.review_queue("demo", state="resolved").height == 0
    view.state.value = "open"
    assert "h1" in [r["message_hash"] for r in view.rows]
    events = demo_store.events(data_group="demo", kinds=["review_reopened"])
    assert events["actor"].to_list() == ["ana"] and events["reason"].to_list() == ["wrong call"]


def test_evidence_reads_as_sentences_with_the_words_marked(demo_store):
    from optdesk.views import review_evidence

    row = {"kind": "opt_out", "confidence": 0.6, "review_reason": "low confidence",
           "new_text": "Please <remove> my address from your list",
           "evidence": '{"matched": "Please remove my address", "verdict": "request", '
                       '"in": "body", "language": "en", "entries": ["en:remove:remove", '
                       '"en:self:my * address", "en:targets:list"]}'}
    html = review_evidence.evidence_html(row)
    assert "a request to be removed</b> (60% sure)" in html
    assert "asks to be removed in the reply: “Please remove my address”" in html
    assert html.index("<details>") > html.index("</ul>"), "raw JSON behind the toggle"
    marked = review_evidence.highlight(row["new_text"], review_evidence.matched_words(
        review_evidence.parse(row["evidence"])))
    assert "&lt;<mark>remove</mark>&gt; <mark>my</mark> <mark>address</mark>" in marked
    assert "<mark>list</mark>" in marked
    bounce = {"kind": "bounce_hard", "confidence": None, "new_text": "", "review_reason": None,
              "evidence": '{"recipients": [{"address": "a@b.example", "reason": "no such user",'
                          ' "family": "mailbox"}]}'}
    said = " ".join(review_evidence.sentences(bounce))
    assert "Delivery to <b>a@b.example</b> failed: no such user (mailbox)" in said
    assert "no reply text" in said


def test_the_resolved_contact_is_named_by_the_teams_id():
    from optdesk.views.review_queue import item_detail

    row = {"contact_id": 41, "contact_external_id": "c-1234", "contact_name": "Ann One",
           "sender": "ann@x.example", "subject": "remove me", "received_at": None,
           "review_reason": "low confidence", "kind": "opt_out", "stage": "intent",
           "rule": "r", "confidence": 0.5, "data_group": "g1", "error": None,
           "review_state": "open", "evidence": None, "new_text": "remove me"}
    shown = item_detail(row)
    assert "(contact #c-1234)" in shown and "#41" not in shown


@pytest.mark.parametrize(("written", "entry", "shown"), [
    ("Bitte loeschen Sie mich", "löschen", "loeschen"),
    ("Bitte LÖSCHEN Sie mich", "loschen", "LÖSCHEN"),
    ("Merci de me désinscrire.", "desinscrire", "désinscrire"),
    ("Merci de me desinscrire.", "désinscrire", "desinscrire"),
    ("N’envoyez plus rien", "n'envoyez", "N’envoyez"),
    ("Bitte streichen, danke", "Streichen", "streichen"),
])
def test_a_lexicon_word_is_marked_in_any_spelling_and_shown_as_written(written, entry, shown):
    from optdesk.views import review_evidence

    ev = review_evidence.parse(f'{{"entries": ["de:remove:{entry}"]}}')
    marked = review_evidence.highlight(written, review_evidence.matched_words(ev))
    assert f"<mark>{shown}</mark>" in marked and marked.count("<mark>") == 1, marked
    assert marked.replace(f"<mark>{shown}</mark>", shown) == written


def test_highlight_escapes_and_marks_only_whole_words():
    from optdesk.views.review_evidence import highlight

    assert highlight("<b>Löschen</b> löschenswert", ["loeschen"]) == (
        "&lt;b&gt;<mark>Löschen</mark>&lt;/b&gt; löschenswert")
    assert highlight("take-off, remove-me", ["remove"]) == "take-off, <mark>remove</mark>-me"


def test_open_the_contact_of_an_item_with_its_actions(demo_store, tmp_path):
    from optdesk.views.review_queue import record_target

    ids = queue_store(demo_store)
    view = ReviewQueueView(demo_store, "demo", actor="ana@desk",
                           selection_path=tmp_path / "selection.json")
    assert view.open_record_button.layout.display == ""
    assert view.record_box.layout.display == "none"
    view.open_record_button.click()
    assert view.record_box.layout.display == ""
    assert f"contact #{ids[0]}" in view.panel.record_html.value
    assert view.panel.optout_button.layout.display == "", "the record's actions are there"
    view.panel.optout_button.click()
    view.panel.confirm_button.click()
    assert demo_store.contact(ids[0], "demo")["optout"]["actor"] == "ana@desk"
    assert "is opted out of demo" in view.panel.status.text
    view.items.value = 1  # another item: the record of the first one closes
    assert view.record_box.layout.display == "none"
    view.open_record_button.click()
    assert f"contact #{ids[1]}" in view.panel.record_html.value
    view.close_record_button.click()
    assert view.record_box.layout.display == "none"
    view.items.value = 2  # an unknown sender has no record to open
    assert view.open_record_button.layout.display == "none"
    assert record_target(view.current) is None
    assert record_target({"contact_id": 7, "data_group": "demo"}) == (7, "demo")
    assert record_target(None) is None
