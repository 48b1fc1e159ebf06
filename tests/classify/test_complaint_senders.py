"""Who may file a complaint (issue 12, item 1): a forged ARF report — any From, any recipient in
Original-Rcpt-To — must not opt anyone out. Only a configured feedback-loop sender, authenticated
for its domain (a DKIM signature verified by dkimpy, or the Authentication-Results of the team's
own MX), is accepted; anything else is a complaint pending review.

DKIM keys are made here (openssl) and served by a fake DNS look-up: no network."""

from __future__ import annotations

import json
import pathlib

import pytest

from fixtures.fbl import FakeDns, arf_report, dkim_signed
from optdesk.classify import Classifier, load_rules
from optdesk.feedback_loops import DEFAULT_SENDERS, PROVIDERS, ComplaintSenders
from optdesk.mail import parse_message
from optdesk.settings_checks import complaint_senders

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = load_rules(ROOT / "rules")
VICTIM = "reader.one@example.net"


@pytest.fixture
def dns() -> FakeDns:
    found = FakeDns()
    found.publish("fbl", "hotmail.com")
    found.publish("s2048", "arf.mail.yahoo.com")
    found.publish("evil", "attacker.example", label="b")
    return found


def classify(raw: bytes, **senders):
    clf = Classifier(RULES, signing_key=b"k" * 32, complaint_senders=ComplaintSenders(**senders))
    return clf.classify(raw)


def _pending(d, words: str) -> None:
    assert (d.kind, d.addresses) == ("complaint", (VICTIM,)), d.evidence
    assert d.review is True and d.evidence["reporter_check"]["accepted"] is False
    assert any(words in r for r in d.evidence["review_reasons"]), d.evidence["review_reasons"]


def _accepted(d, how: str) -> None:
    assert (d.kind, d.addresses, d.review) == ("complaint", (VICTIM,), False), d.evidence
    assert d.evidence["reporter_check"]["accepted"] is True
    assert how in d.evidence["reporter_check"]["authentication"]
    json.dumps(d.to_json("x"))


# -- the forgery of the issue -------------------------------------------------------------------
def test_a_forged_report_from_an_arbitrary_address_is_held_for_review():
    d = classify(arf_report("anyone@attacker.example", VICTIM))
    _pending(d, "complaint from anyone@attacker.example, not a configured feedback-loop sender")
    assert d.evidence["reporter_check"]["listed_as"] is None


def test_a_forged_report_that_writes_a_provider_s_from_is_held_too(dns):
    d = classify(arf_report("staff@hotmail.com", VICTIM), lookup=dns)
    _pending(d, "complaint from staff@hotmail.com not authenticated for hotmail.com: no DKIM "
                "signature, and no Authentication-Results of the team's MX")


# -- DKIM, verified with dkimpy -----------------------------------------------------------------
def test_a_provider_s_signed_report_is_accepted(dns):
    raw = dkim_signed(arf_report("staff@hotmail.com", VICTIM), "hotmail.com")
    _accepted(classify(raw, lookup=dns), "DKIM signature of hotmail.com verified")
    assert dns.asked == ["fbl._domainkey.hotmail.com"]


def test_relaxed_alignment_a_signature_of_the_parent_domain(dns):
    dns.publish("s1", "yahoo.com")
    raw = dkim_signed(arf_report("feedback@arf.mail.yahoo.com", VICTIM), "yahoo.com", "s1")
    _accepted(classify(raw, lookup=dns), "DKIM signature of yahoo.com verified")


def test_a_signature_made_with_another_key_does_not_verify(dns):
    raw = dkim_signed(arf_report("staff@hotmail.com", VICTIM), "hotmail.com", label="b")
    _pending(classify(raw, lookup=dns), "DKIM signature of hotmail.com did not verify")


def test_the_attacker_s_own_valid_signature_is_not_the_provider_s(dns):
    raw = dkim_signed(arf_report("staff@hotmail.com", VICTIM), "attacker.example", "evil", "b")
    d = classify(raw, lookup=dns)
    _pending(d, "DKIM signature of attacker.example verified, but attacker.example is not the "
                "domain of the sender")


def test_a_signed_report_changed_afterwards_does_not_verify(dns):
    raw = dkim_signed(arf_report("staff@hotmail.com", "someone.else@example.net"), "hotmail.com")
    raw = raw.replace(b"someone.else@example.net", VICTIM.encode())
    _pending(classify(raw, lookup=dns), "did not verify")


def test_a_key_missing_from_dns_or_a_dns_failure_means_review(dns):
    raw = dkim_signed(arf_report("staff@hotmail.com", VICTIM), "hotmail.com", "gone")
    _pending(classify(raw, lookup=dns), "DKIM signature of hotmail.com did not verify")

    def broken(name, timeout=5):
        raise TimeoutError("DNS timed out")

    raw = dkim_signed(arf_report("staff@hotmail.com", VICTIM), "hotmail.com")
    _pending(classify(raw, lookup=broken), "DNS timed out")


def test_a_signature_of_part_of_the_body_is_not_enough(dns):
    raw = dkim_signed(arf_report("staff@hotmail.com", VICTIM), "hotmail.com", length=True)
    _pending(classify(raw, lookup=dns), "signs only part of the body (l=)")


def test_two_from_addresses_are_refused(dns):
    raw = arf_report("staff@hotmail.com, anyone@attacker.example", VICTIM)
    _pending(classify(dkim_signed(raw, "hotmail.com"), lookup=dns), "2 From addresses")


# -- Authentication-Results of the team's own MX --------------------------------------------------
MX = ("mx.example.org",)


@pytest.mark.parametrize("result", [
    "dkim=pass header.d=hotmail.com header.s=fbl",
    "dkim=pass (2048-bit key) header.i=@hotmail.com",
    "spf=pass smtp.mailfrom=staff@hotmail.com",
    "dkim=none; spf=pass smtp.mailfrom=bounces.hotmail.com",
    "dmarc=pass (p=none) header.from=hotmail.com",
])
def test_a_pass_in_the_mx_s_authentication_results_is_accepted(result):
    raw = arf_report("staff@hotmail.com", VICTIM,
                     headers=(f"Authentication-Results: mx.example.org; {result}",))
    _accepted(classify(raw, authserv_ids=MX), "Authentication-Results of mx.example.org")


@pytest.mark.parametrize("result", [
    "dkim=fail header.d=hotmail.com; spf=softfail smtp.mailfrom=staff@hotmail.com",
    "dkim=pass header.d=attacker.example; spf=pass smtp.mailfrom=x@attacker.example",
    "none",
])
def test_no_pass_for_the_sender_s_domain_in_the_mx_s_results_means_review(result):
    raw = arf_report("staff@hotmail.com", VICTIM,
                     headers=(f"Authentication-Results: mx.example.org; {result}",))
    _pending(classify(raw, authserv_ids=MX), "Authentication-Results of mx.example.org show no "
                                             "passing DKIM, SPF or DMARC result for hotmail.com")


def test_results_written_by_anyone_else_are_ignored():
    forged = "Authentication-Results: mx.attacker.example; dkim=pass header.d=hotmail.com"
    raw = arf_report("staff@hotmail.com", VICTIM, headers=(forged,))
    _pending(classify(raw, authserv_ids=MX), "not authenticated")
    _pending(classify(raw), "not authenticated")  # no authserv-id configured: none trusted


def test_only_the_topmost_header_of_the_mx_counts():
    raw = arf_report("staff@hotmail.com", VICTIM, headers=(
        "Authentication-Results: mx.example.org; dkim=fail header.d=hotmail.com",
        "Authentication-Results: mx.example.org; dkim=pass header.d=hotmail.com",  # forged below
    ))
    _pending(classify(raw, authserv_ids=MX), "dkim=fail (hotmail.com)")
    raw = arf_report("staff@hotmail.com", VICTIM, headers=(
        "Authentication-Results: mx.example.org; dkim",  # the MX's, unreadable: nothing below
        "Authentication-Results: mx.example.org; dkim=pass header.d=hotmail.com",
    ))
    _pending(classify(raw, authserv_ids=MX), "Authentication-Results of mx.example.org could "
                                             "not be read")


# -- the sender list ------------------------------------------------------------------------------
def test_domain_entries_cover_sub_domains_only(dns):
    senders = ComplaintSenders(senders=("fbl.isp.example", "@loop.example", "abuse@one.example"))
    assert senders.listed("reports@fbl.isp.example") == "fbl.isp.example"
    assert senders.listed("reports@eu.fbl.isp.example") == "fbl.isp.example"
    assert senders.listed("reports@evilfbl.isp.example") is None
    assert senders.listed("x@loop.example") == "@loop.example"
    assert senders.listed("ABUSE@One.Example") == "abuse@one.example"
    assert senders.listed("other@one.example") is None
    assert senders.listed(None) is None and senders.listed("") is None


def test_a_configured_sender_s_report_is_accepted_and_the_defaults_then_do_not_apply(dns):
    dns.publish("k", "isp.example")
    raw = dkim_signed(arf_report("fbl@isp.example", VICTIM), "isp.example", "k")
    _accepted(classify(raw, senders=("fbl@isp.example",), lookup=dns), "isp.example verified")
    hotmail = dkim_signed(arf_report("staff@hotmail.com", VICTIM), "hotmail.com")
    _pending(classify(hotmail, senders=("fbl@isp.example",), lookup=dns),
             "not a configured feedback-loop sender")
    _pending(classify(hotmail, senders=(), lookup=dns), "not a configured feedback-loop sender")


def test_require_authentication_false_accepts_an_unsigned_report_but_never_a_failed_one(dns):
    _accepted(classify(arf_report("staff@hotmail.com", VICTIM), require_authentication=False),
              "accepted: require_authentication = false")
    bad = dkim_signed(arf_report("staff@hotmail.com", VICTIM), "hotmail.com", label="b")
    _pending(classify(bad, require_authentication=False, lookup=dns), "did not verify")
    _pending(classify(arf_report("anyone@attacker.example", VICTIM),
                      require_authentication=False), "not a configured feedback-loop sender")


def test_the_defaults_are_exact_addresses_of_the_documented_providers():
    assert DEFAULT_SENDERS == tuple(a for group in PROVIDERS.values() for a in group)
    assert {"staff@hotmail.com", "feedback@arf.mail.yahoo.com", "scomp@aol.net",
            "feedbackloop@comcastfbl.senderscore.net", "feedbackloop@fbl.fastmail.com",
            "feedbackloop@fbl.zoho.com", "feedbackloop@mailru.senderscore.net",
            "feedbackloop@yandexfbl.senderscore.net"} <= set(DEFAULT_SENDERS)
    # never a whole domain: a free-mail domain entry would let any of its users complain
    assert all("@" in a.lstrip("@") for a in DEFAULT_SENDERS)
    assert complaint_senders(list(DEFAULT_SENDERS)) == DEFAULT_SENDERS  # valid as settings
    assert ComplaintSenders().listed("someone@hotmail.com") is None


# -- other complaint shapes, and what stays as it was ---------------------------------------------
def test_an_ses_complaint_from_an_unlisted_sender_is_held_for_review():
    body = ('{"notificationType":"Complaint","complaint":{"complainedRecipients":'
            f'[{{"emailAddress":"{VICTIM}"}}],"complaintFeedbackType":"abuse"}},'
            '"mail":{"source":"press@example.org"}}')
    raw = ("From: AWS Notifications <no-reply@sns.amazonaws.com>\r\nTo: fbl@example.org\r\n"
           "Subject: AWS Notification Message\r\nMessage-ID: <ses-1@example>\r\n\r\n"
           f"{body}\r\n").encode()
    d = classify(raw)
    _pending(d, "complaint from no-reply@sns.amazonaws.com, not a configured feedback-loop sender")
    assert d.rule == "ses-complaint"


def test_a_not_spam_report_is_still_not_a_complaint():
    assert classify(arf_report("anyone@attacker.example", VICTIM,
                               feedback_type="not-spam")).kind != "complaint"


def test_explain_shows_the_check(dns):
    clf = Classifier(RULES, signing_key=b"k" * 32, complaint_senders=ComplaintSenders(lookup=dns))
    steps = clf.explain(arf_report("anyone@attacker.example", VICTIM))
    assert steps[0].stage == "complaint" and steps[0].decisive
    assert steps[0].details["reporter_check"] == {
        "accepted": False, "reporter": "anyone@attacker.example", "listed_as": None}
    assert steps[-1].details["review"] is True


def test_the_check_never_raises_on_what_a_message_holds():
    senders = ComplaintSenders(authserv_ids=MX)
    for raw in (b"From: staff@hotmail.com\r\nDKIM-Signature: v=1; garbage\r\n\r\nx",
                b"From: staff@hotmail.com\r\nAuthentication-Results: ;;; ===\r\n\r\nx",
                b"From: staff@hotmail.com\r\nDKIM-Signature: \xff\xfe\r\n\r\nx", b""):
        verdict = senders.check(parse_message(raw), raw)
        assert verdict.accepted is False and verdict.reason
