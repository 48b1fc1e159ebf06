"""Hand-written messages in the shapes real systems send: ARF reports, DSNs, Exchange
automatic replies, read receipts, Gmail HTML-only and Outlook plain replies (tests/classify/corpus).
"""

from __future__ import annotations

import json
import pathlib
from datetime import date

import pytest

from optdesk.classify import Classifier, load_rules

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"

# file → (kind, addresses, rule or None)
EXPECTED = {
    "arf_complaint.eml": ("complaint", ("reader.one@example.net",), "arf-feedback-report"),
    "arf_without_rcpt_to.eml": ("complaint", ("second.reader@example.com",), "arf-feedback-report"),
    "dsn_delayed_mailbox_full.eml": ("bounce_soft", ("full.box@example.com",), "bounce-mailboxfull"),
    "dsn_permanent_mailbox_full.eml": ("bounce_soft", ("over.quota@example.com",), "bounce-mailboxfull"),
    "dsn_policy_and_unknown.eml": ("bounce_hard", ("gone@example.com",), "bounce-userunknown"),
    "gmail_html_only_optout.eml": ("opt_out", ("luca.bianchi@giornale.example.it",), None),
    "mailing_list_digest.eml": ("auto_reply", (), "hdr-list-id"),
    "outlook_automatic_reply.eml": ("auto_reply", (), "hdr-auto-submitted"),
    "outlook_thanks_quoted_footer.eml": ("human", (), None),
    "read_receipt.eml": ("auto_reply", (), "hdr-read-receipt"),
}


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_rules(ROOT / "rules"), signing_key=b"k")


def test_every_corpus_file_has_an_expectation():
    assert sorted(p.name for p in CORPUS.glob("*.eml")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_file(clf, name):
    kind, addresses, rule = EXPECTED[name]
    d = clf.classify((CORPUS / name).read_bytes())
    assert (d.kind, d.addresses) == (kind, addresses), d.evidence
    if rule:
        assert d.rule == rule
    if kind != "human":  # every decision says what it matched
        assert d.evidence["matched"], d.evidence
    json.dumps(d.to_json(name))  # evidence is JSON-serialisable


def test_complaint_address_is_the_recipient_not_the_reporter(clf):
    d = clf.classify((CORPUS / "arf_complaint.eml").read_bytes())
    assert d.sender == "staff@hotmail.com"
    assert d.evidence["feedback_type"] == "abuse"
    assert "staff@hotmail.com" not in d.addresses


def test_policy_refusal_never_counts_against_the_recipient(clf):
    d = clf.classify((CORPUS / "dsn_policy_and_unknown.eml").read_bytes())
    assert d.evidence["policy_refusals"] == ["editor@newsroom.example"]
    assert "editor@newsroom.example" not in d.addresses


def test_exchange_out_of_office_with_unsubscribe_words(clf):
    d = clf.classify((CORPUS / "outlook_automatic_reply.eml").read_bytes())
    assert d.kind == "auto_reply" and d.language == "fr"
    assert d.return_date == date(2026, 11, 16)


def test_html_only_reply_reads_only_the_new_text(clf):
    d = clf.classify((CORPUS / "gmail_html_only_optout.eml").read_bytes())
    assert "rispondi" not in d.new_text and "Grazie" in d.new_text
    assert d.language == "it"
