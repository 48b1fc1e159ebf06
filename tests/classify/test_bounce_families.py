"""Hand-written delivery notices, one or more per family (tests/classify/corpus/bounces): the
reason and family per recipient, what counts against an address, and the sending incidents."""

from __future__ import annotations

import json
import pathlib
import textwrap

import pytest

from optdesk.classify import Classifier, load_rules
from optdesk.errors import RuleError

ROOT = pathlib.Path(__file__).resolve().parents[2]
BOUNCES = pathlib.Path(__file__).resolve().parent / "corpus" / "bounces"

# file -> (kind, counted addresses, [(recipient, reason)], [(incident reason, provider)])
EXPECTED = {
    "gone-userunknown-postfix.eml": ("bounce_hard", ["nobody.here@newsroom.example"],
                                     [("nobody.here@newsroom.example", "userunknown")], []),
    "gone-hostunknown-exim.eml": ("bounce_hard", ["desk@no-such-paper.example"],
                                  [("desk@no-such-paper.example", "hostunknown")], []),
    "gone-notaccept-nullmx.eml": ("bounce_hard", ["info@parked-domain.example"],
                                  [("info@parked-domain.example", "notaccept")], []),
    "trouble-mailboxfull-qmail.eml": ("bounce_soft", ["full.inbox@weekly.example"],
                                      [("full.inbox@weekly.example", "mailboxfull")], []),
    "trouble-mailboxfull-german.eml": ("bounce_soft", ["redaktion@zeitung.example"],
                                       [("redaktion@zeitung.example", "mailboxfull")], []),
    "trouble-mailboxfull-french.eml": ("bounce_soft", ["redaction@journal.example"],
                                       [("redaction@journal.example", "mailboxfull")], []),
    "trouble-mailboxfull-ses.eml": ("bounce_soft", ["busy.reporter@mail.example"],
                                    [("busy.reporter@mail.example", "mailboxfull")], []),
    "trouble-suspend-gmail.eml": ("bounce_soft", ["former.editor@gmail.example"],
                                  [("former.editor@gmail.example", "suspend")], []),
    "filtered-after-data-sendmail.eml": ("bounce_soft", ["culture@magazine.example"],
                                         [("culture@magazine.example", "filtered")], []),
    "sending-blocked-spamhaus.eml": ("bounce_hard", [],
                                     [("editor@outlook-hosted.example", "blocked")],
                                     [("blocked", "outlook.com")]),
    "sending-authfailure-dmarc.eml": ("bounce_hard", [], [("tech.desk@gmail.example", "authfailure")],
                                      [("authfailure", "google.com")]),
    "sending-requireptr.eml": ("bounce_hard", [], [("news@isp-mail.example", "requireptr")],
                               [("requireptr", "isp-mail.example")]),
    "sending-toomanyconn.eml": ("bounce_soft", [], [("desk@bigmail.example", "toomanyconn")],
                                [("toomanyconn", "bigmail.example")]),
    "sending-expired.eml": ("bounce_soft", [], [("features@slowmail.example", "expired")],
                            [("expired", "slowmail.example")]),
    "sending-rejected-mail-from.eml": ("bounce_hard", [], [("arts@review.example", "rejected")],
                                       [("rejected", "review.example")]),
    "none-delivered.eml": ("human", [], [("confirmed@tribune.example", "delivered")], []),
    "mixed-gone-full-blocked.eml": ("bounce_hard",
                                    ["left.the.paper@daily.example", "full.inbox@weekly.example"],
                                    [("left.the.paper@daily.example", "userunknown"),
                                     ("full.inbox@weekly.example", "mailboxfull"),
                                     ("editor@blocked.example", "blocked")],
                                    [("blocked", "blocked.example")]),
}
FAMILY = {"gone": "undeliverable", "trouble": "soft", "filtered": "soft", "sending": "incident",
          "none": "none"}


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_rules(ROOT / "rules"), signing_key=b"k")


def test_every_file_has_an_expectation():
    assert sorted(p.name for p in BOUNCES.glob("*.eml")) == sorted(EXPECTED)
    families = {name.split("-", 1)[0] for name in EXPECTED}
    assert {"gone", "trouble", "filtered", "sending", "none"} <= families


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_reason_and_family_per_recipient(clf, name):
    kind, counted, reasons, incidents = EXPECTED[name]
    d = clf.classify((BOUNCES / name).read_bytes())
    assert d.stage == "bounce" and d.kind == kind, d.evidence
    assert list(d.addresses) == counted
    assert [(r["address"], r["reason"]) for r in d.recipients] == reasons, d.recipients
    for r in d.recipients:
        assert r["effect"] == FAMILY[r["family"]]
        assert (r["address"] in d.addresses) == (r["effect"] in ("undeliverable", "soft"))
    assert [(i["reason"], i["provider"]) for i in d.incidents] == incidents
    for incident in d.incidents:  # the incident's addresses are carried apart, never counted
        assert not set(incident["recipients"]) & set(d.addresses)
    assert not d.review
    json.dumps(d.to_json(name))


def test_incident_names_status_code_and_text(clf):
    d = clf.classify((BOUNCES / "sending-blocked-spamhaus.eml").read_bytes())
    incident = d.incidents[0]
    assert incident["remote"] == "mx1.eur.mail.protection.outlook.com"
    assert (incident["status"], incident["code"]) == ("5.7.1", "550")
    assert "Spamhaus" in incident["diagnostic"] and incident["count"] == 1
    assert incident["original_message_id"] == "<release-sending-blocked-spamhaus@agency.example>"


def test_rules_test_explains_the_reason(clf):
    steps = clf.explain((BOUNCES / "mixed-gone-full-blocked.eml").read_bytes())
    bounce = next(s for s in steps if s.stage == "bounce")
    assert bounce.decisive
    by = {r["address"]: r for r in bounce.details["recipients"]}
    assert by["editor@blocked.example"]["rule"] == "bounce-blocked"
    assert "blocked" in by["editor@blocked.example"]["matched"]
    assert bounce.details["incidents"][0]["recipients"] == ["editor@blocked.example"]


def _error(tmp_path, text: str) -> str:
    (tmp_path / "21-x.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(tmp_path)
    return str(info.value)


@pytest.mark.parametrize(("text", "where", "reason"), [
    ("- id: a\n  type: bounce_reason\n  family: gone\n  reason: blocked\n  patterns: ['x']\n", 1,
     "reason 'blocked' belongs to family 'sending', not 'gone'"),
    ("- id: a\n  type: bounce_reason\n  family: gone\n  reason: nosuchreason\n  patterns: ['x']\n", 4,
     "reason must be one of"),
    ("- id: a\n  type: bounce_reason\n  family: trouble\n  reason: mailboxfull\n  status: ['5.2']\n", 5,
     "bad status code '5.2'"),
    ("- id: a\n  type: bounce_reason\n  family: trouble\n  reason: mailboxfull\n", 1,
     "give patterns, status codes or both"),
    ("- id: a\n  type: bounce_reason\n  family: gone\n  reason: userunknown\n  patterns: ['(x']\n", 5,
     "bad regex '(x'"),
    ("- id: a\n  type: bounce_reason\n  family: gone\n  reason: userunknown\n  else_reason: filtered\n"
     "  patterns: ['x']\n", 1, "else_reason goes with"),
])
def test_bad_bounce_reason_rules_name_file_and_line(tmp_path, text, where, reason):
    message = _error(tmp_path, text)
    assert message.startswith(f"{tmp_path.name}/21-x.yaml:{where}: "), message
    assert reason in message, message


def _optdesk(*args: str, cwd: pathlib.Path):
    import os
    import subprocess
    import sys

    env = {**os.environ, "OPTDESK_SECRET": "cli-test-secret-of-32-bytes-or-more",
           "OPTDESK_RULES_DIR": str(ROOT / "rules")}
    env.pop("OPTDESK_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "optdesk", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_cli_classify_a_folder_of_eml_files(tmp_path):
    lines = [json.loads(x) for x in _optdesk("classify", "--json", str(BOUNCES), cwd=tmp_path)
             .splitlines()]
    assert [pathlib.Path(x["file"]).name for x in lines] == sorted(EXPECTED)
    by_name = {pathlib.Path(x["file"]).name: x for x in lines}
    blocked = by_name["sending-blocked-spamhaus.eml"]
    assert blocked["addresses"] == []
    assert [(r["reason"], r["family"], r["effect"]) for r in blocked["evidence"]["recipients"]] == \
        [("blocked", "sending", "incident")]


def test_cli_rules_test_explains_each_recipient(tmp_path):
    out = _optdesk("rules", "test", str(BOUNCES / "mixed-gone-full-blocked.eml"), cwd=tmp_path)
    bounce = out.split("2. bounce", 1)[1].split("3. ", 1)[0]
    assert "DECISIVE" in bounce
    for needle in ('"reason": "userunknown"', '"family": "trouble"', '"effect": "incident"',
                   '"rule": "bounce-blocked"', "incidents:"):
        assert needle in bounce, needle
