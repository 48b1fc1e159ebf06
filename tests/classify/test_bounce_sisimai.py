"""Table-driven over sisimai's public bounce corpus (457 real notices from Postfix, Sendmail, Exim,
qmail, Exchange, Office 365, Gmail, Yahoo, Amazon SES, Lotus Notes …), read from
../shared/corpora/sisimai beside the repository (never copied into it).

What must hold (issue 11): no sending-side or transit failure counts against an address, at least
98 % of recipients land in the right family (per recipient, against expected.json's reason mapped
through the corpus README's family table), every hard bounce is found with its address, no bounce
reaches a later stage, complaints and automatic replies are found, success notices are not bounces.
"""

from __future__ import annotations

import collections
import json
import pathlib

import pytest
from bounce_corpus import SISIMAI, available, expected, readme_families, score

from optdesk.classify import Classifier, load_rules
from optdesk.classify.bounce_reasons import REASONS

ROOT = pathlib.Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.skipif(
    not available(), reason=f"sisimai corpus not found at {SISIMAI} (shared/corpora/sisimai beside "
                            "the repository); these tests read it in place")


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_rules(ROOT / "rules"), signing_key=b"k")


@pytest.fixture(scope="module")
def result(clf):
    return score(clf.classify)


@pytest.fixture(scope="module")
def decisions(clf) -> dict[str, object]:
    return {name: clf.classify((SISIMAI / "eml" / name).read_bytes()) for name in expected()}


def test_the_family_table_is_the_readme_s():
    table = readme_families()
    assert table == {reason: family for reason, (family, _) in REASONS.items()}


def test_at_least_98_percent_of_recipients_in_the_right_family(result):
    assert result.accuracy >= 0.98, (f"{result.right}/{result.recipients}", result.wrong)


@pytest.mark.parametrize("family", ["gone", "trouble", "filtered", "sending"])
def test_each_family_is_mostly_right(result, family):
    counts = result.per_family[family]
    # filtered is where sisimai leans most on what it knows of each MTA and gateway
    floor = {"gone": 0.97, "trouble": 0.9, "filtered": 0.85, "sending": 0.98}[family]
    assert counts["right"] >= floor * counts["expected"], (family, dict(counts))


def test_no_sending_side_failure_counts_against_an_address(result, decisions):
    assert result.blamed == 0
    sending = {r for r, (f, _) in REASONS.items() if f == "sending"}
    for name, rows in expected().items():
        d = decisions[name]
        if {r["reason"] for r in rows} <= sending:  # score.py's blamed and sender_soft
            assert not (d.kind in ("bounce_hard", "bounce_soft") and d.addresses), (name, d.rule)


def test_every_hard_bounce_is_found_with_its_address(result, decisions):
    missed = [name for name, rows in expected().items() if any(r["hard"] for r in rows)
              and not (decisions[name].kind == "bounce_hard" and decisions[name].addresses)]
    assert missed == []
    assert result.hard_found == result.hard_files


def test_no_bounce_reaches_a_later_stage(result):
    assert result.non_bounce_stage == []


def test_complaints_and_success_notices(decisions):
    for name, rows in expected().items():
        reasons = {r["reason"] for r in rows}
        d = decisions[name]
        if "feedback" in reasons:
            assert d.kind == "complaint" and d.addresses, name
        if "vacation" in reasons:
            assert d.kind == "auto_reply", name
        if "delivered" in reasons:
            assert d.kind not in ("bounce_hard", "bounce_soft") and d.rule == "dsn-success", name
        assert d.kind not in ("opt_out", "opt_in"), name


def test_sending_incidents_carry_their_recipients_apart(decisions):
    incidents = [i for d in decisions.values() for i in d.incidents]
    assert len(incidents) > 150
    for d in decisions.values():
        for incident in d.incidents:
            assert incident["family"] == "sending" and incident["count"] == len(incident["recipients"])
            assert not set(incident["recipients"]) & set(d.addresses)
    providers = collections.Counter(i["provider"] for i in incidents)
    assert providers["google.com"] >= 3  # Gmail's refusals, by remote host


def test_classify_json_reports_reason_and_family_per_recipient(decisions):
    d = decisions["lhost-postfix-01.eml"] if "lhost-postfix-01.eml" in decisions else next(iter(decisions.values()))
    record = d.to_json("x")["evidence"]["recipients"][0]
    assert {"address", "reason", "family", "effect", "rule", "status", "code"} <= set(record)
    json.dumps(d.to_json("x"))


def test_a_notice_that_reports_rcpt_to_for_the_address_confirms_it_is_gone():
    """"550 … no such user here" with the refused command reported as "RCPT TO: addr" (a qmail-
    style details block) is about the address; the wording alone would only be 'filtered'."""
    from optdesk.classify.bounce.judge import _names

    text = "550 - Requested action not taken: no such user here Message details: RCPT TO: a.b@x.example"
    assert _names(text, "a.b@x.example")
    assert not _names(text, "b@x.example")
    assert not _names("RCPT TO: a.b@x.example.org", "a.b@x.example")
