"""The bounce stage's shortcuts give what the plain way gives (optdesk.classify.bounce.anchors,
detectors, judge's reason index, the gate's groups).

Each shortcut only skips work that cannot change a result: a pattern is tried only where it may
start, a flufl.bounce pattern set is skipped when its start line cannot occur, a group of gate
rules is skipped when none of its patterns can match. These tests hold each one to the plain
computation over real notices: the bounce corpus in tests/classify/corpus, sisimai's corpus and
flufl.bounce's samples when they are at hand, and case-shuffled copies of their texts.
"""

from __future__ import annotations

import email
import pathlib
import random
import re
import sys

import pytest
from bounce_corpus import SISIMAI, available
from flufl.bounce import all_failures as flufl_all_failures

from optdesk.classify import load_rules
from optdesk.classify.bounce import anchors, detectors, judge, notice, recipients
from optdesk.classify.context import Context
from optdesk.mail import parse_message

gate = sys.modules["optdesk.classify.bounce.gate"]  # the package exports the function gate

ROOT = pathlib.Path(__file__).resolve().parents[2]
FLUFL_DATA = ROOT / "data" / "cache" / "flufl" / "flufl_bounce-6.0.0" / "tests" / "data"


def _files() -> list[pathlib.Path]:
    files = sorted((ROOT / "tests" / "classify" / "corpus").rglob("*.eml"))
    if available():
        files += sorted((SISIMAI / "eml").glob("*.eml"))
    if FLUFL_DATA.is_dir():  # fetched by test_classify_flufl_corpus
        files += sorted(FLUFL_DATA.glob("*.txt"))
    return files


@pytest.fixture(scope="module")
def rules():
    return load_rules(ROOT / "rules")


@pytest.fixture(scope="module")
def raws() -> list[bytes]:
    return [p.read_bytes() for p in _files()]


@pytest.fixture(scope="module")
def notices(raws) -> list[notice.Notice]:
    return [notice.Notice(parse_message(raw)) for raw in raws]


def _shuffled(texts: list[str], seed: int = 5) -> list[str]:
    rng = random.Random(seed)
    return ["".join(c.upper() if rng.random() < 0.4 else c for c in t) for t in texts]


@pytest.fixture(scope="module")
def texts(notices) -> list[str]:
    """Normalised notice texts and diagnostics (as judge reads them), and shuffled copies."""
    found = []
    for n in notices:
        found.append(judge.normalise(n.text))
        found += [judge.normalise(r.diagnostic) for r in n.dsn[1]]
    found = [t for t in dict.fromkeys(found) if t]
    return found + _shuffled(found[:300])


def _sig(m: re.Match | None):
    return None if m is None else (m.span(), m.groups())


# -- anchors -------------------------------------------------------------------------------


def test_risky_characters_are_those_the_regex_engine_folds_otherwise():
    """RISKY is every character where str.lower and the engine's case-insensitive matching part:
    its engine lowercase is in re._casefix, or str.lower gives something else."""
    import _sre
    from re import _casefix

    folds = set(_casefix._EXTRA_CASES)
    for others in _casefix._EXTRA_CASES.values():
        folds.update(others)
    risky = set()
    for code in range(0x80, sys.maxunicode + 1):
        if 0xD800 <= code <= 0xDFFF:
            continue
        low = _sre.unicode_tolower(code)
        if low in folds or chr(code).lower() != chr(low):
            risky.add(chr(code))
    assert risky == set(anchors.RISKY)


def test_plain_case_refuses_what_lower_cannot_tell():
    assert anchors.plain_case("User Unknown", "user unknown")
    assert anchors.plain_case("Empfänger unbekannt", "empfänger unbekannt")
    assert not anchors.plain_case("uſer unknown", "uſer unknown")  # long s matches "s"
    assert not anchors.plain_case("İstanbul", "İstanbul".lower())  # lower() is longer


@pytest.mark.parametrize("pattern, expected", [
    (r"\buser unknown\b", {"user unk"}),
    (r"\b(user|address)( name)? (is )?unknown", {"user unk", "user nam", "user is ", "address "}),
    (r"(?<![\d.])([245])\.(\d{1,3})", {"2.", "4.", "5."}),
    (r"^\s*loop", None),  # may start with any white space
    (r"(?:foo)?\w+", None),
    (r"bo[iî]te", {"boite", "boîte"}),
    (r"\[(rcpt_to|data)\]", {"[rcpt_to", "[data]"}),
    (r"uſer", {"u"}),  # the prefix stops before a character the engine folds otherwise
])
def test_prefixes(pattern, expected):
    found = anchors.prefixes(re.compile(pattern, re.I | re.M))
    assert (None if found is None else set(found)) == expected


def test_the_trie_finds_every_string_that_starts_anywhere():
    index = anchors.AnchorIndex.of_strings([frozenset({"ab"}), frozenset({"abc", "x"}),
                                            frozenset({"b"}), None])
    assert index.unanchored == (3,)
    hits = index.hits("xabcab")
    assert hits == [(0, (1,)), (1, (0, 1)), (2, (2,)), (4, (0,)), (5, (2,))]
    assert index.first("xabcab") == {1: 0, 0: 1, 2: 2}


def test_the_reason_index_finds_each_pattern_s_leftmost_match(rules, texts):
    index = judge._ReasonIndex.of(rules)
    short = [t for t in texts if len(t) < 2000]
    for text in short[::3]:  # a third of them: 329 patterns each
        low = text.lower()
        if not anchors.plain_case(text, low):
            continue
        hits = index.anchors.hits(low)
        for pid, pattern in enumerate(index.patterns):
            got = None
            for pos, ids in hits:
                if pid in ids and (got := pattern.match(text, pos)):
                    break
            assert _sig(got) == _sig(pattern.search(text)), (pattern.pattern, text)


def test_the_reason_index_literals_are_the_rule_set_s(rules):
    index = judge._ReasonIndex.of(rules)
    for i, rule in enumerate(index.rules):
        assert index.literals[i] == rules.rule_literals(rule), rule.id


def test_judge_candidates_as_the_plain_loop_gives_them(rules, texts):
    index = judge._ReasonIndex.of(rules)
    conditions = (("", ""), ("rcpt", "5.1.1"), ("data", "5.7.1"), ("mail", ""))
    for n, text in enumerate(texts + ["550 uſer unknown", "550 5.1.1 User unknown"]):
        for command, status in (conditions[n % 4], conditions[(n + 1) % 4]):
            want = [r.id for r, _ in judge._candidates(rules, text, command, status)]
            low = text.lower()
            if not anchors.plain_case(text, low):
                continue  # judge searches these the plain way
            hits: list = []
            got = index.candidates(text, low, command, status, hits)
            assert [r.id for r, _ in got] == want, text
            for rule, _ in got:
                plain = next((m.group(0) for m in (p.search(text) for p in rule.patterns) if m), None)
                assert index.first_match(rule, text, hits) == plain


def test_a_text_with_a_long_s_is_judged_the_plain_way(rules):
    verdict = judge.judge(rules, [("diagnostic", "550 5.1.1 <a@b.example>: uſer unknown")],
                          status="5.1.1", address="a@b.example")
    assert verdict.reason == "userunknown"


@pytest.mark.parametrize("name", ["_STATUS_AT", "_CODE_AT", "_REMOTE_AT", "_COMMAND_UNLESS_TRANSCRIPT"])
def test_anchored_search_and_finditer_are_the_pattern_s(notices, name):
    anchored = getattr(recipients, name)
    assert anchored._scan is not None  # it has prefixes: the shortcut is in use
    sources = [n.text for n in notices] + [n.full_text[:20_000] for n in notices]
    for text in sources + _shuffled(sources[:200]):
        assert _sig(anchored.search(text)) == _sig(anchored.pattern.search(text))
        assert [_sig(m) for m in anchored.finditer(text)] == \
            [_sig(m) for m in anchored.pattern.finditer(text)]


def test_command_in_reads_what_the_whole_pattern_reads(notices):
    for n in notices:
        for text in (n.text, n.text.upper(), ">>> RCPT TO:<a@b>\n<<< 550 no\n" + n.text):
            want = [next(g for g in m.groups() if g) for m in recipients._COMMAND.finditer(text)]
            found = [m.group(0) for m in recipients._COMMAND.finditer(text)]
            got = recipients.command_in(text)
            assert got == (recipients._COMMANDS.get(want[-1].lower(), "") if found else "")


def test_message_ids_as_findall_gives_them(notices):
    plain = re.compile(notice._MESSAGE_ID.pattern.pattern, re.IGNORECASE)
    for n in notices:
        text = n.full_text + "\n" + n.mail.header("message-id")
        for variant in (text, text.swapcase()):
            assert [m.group(1) for m in notice._MESSAGE_ID.finditer(variant)] == \
                plain.findall(variant)


# -- flufl.bounce -----------------------------------------------------------------------------


def _outcome(function, raw: bytes):
    try:
        return function(email.message_from_bytes(raw))
    except Exception as exc:  # noqa: BLE001 - the same error must come out
        return ("raised", type(exc).__name__, str(exc))


def test_all_failures_is_flufl_bounce_s(raws):
    assert detectors.FAST  # the flufl.bounce this follows (else there is nothing to compare)
    replies = [ROOT / "tests" / "classify" / "corpus" / n for n in
               ("gmail_html_only_optout.eml", "outlook_automatic_reply.eml")]
    for raw in raws + [p.read_bytes() for p in replies if p.exists()]:
        assert _outcome(detectors.all_failures, raw) == _outcome(flufl_all_failures, raw)


def test_simplematch_reads_a_notice_whose_start_line_is_late():
    raw = (b"From: MAILER-DAEMON@example.org\nTo: us@example.com\nSubject: failure\n\n"
           + b"filler line\n" * 50
           + b"Here is your list of failed recipients\n<gone@example.net>\n"
           + b"Here is your returned mail\n<not-this@example.net>\n")
    assert _outcome(detectors.all_failures, raw) == _outcome(flufl_all_failures, raw)
    assert _outcome(detectors.all_failures, raw)[1] == frozenset({b"gone@example.net"})


def test_simplematch_block_lines_searched_only_where_they_may_match():
    """After the start line, the address and end patterns are tried only in lines holding one
    of their literals (cased ones in the lower-cased line): the same addresses, the same end."""
    block = (b"A MESSAGE that you sent could not be delivered\n" + b"x" * 3000 + b"\n"
             + b"  Gone@Example.NET\n" + b"END of message? no\n")
    for ending in (b"---\n<later@example.net>\n", b"\n", b"-- (not the end)\nlast@example.net\n",
                   "\u0130 \u017f \u0131\n---\nlate@example.net\n".encode()):
        raw = (b"From: MAILER-DAEMON@example.org\nTo: us@example.com\nSubject: failure\n"
               b"Content-Type: text/plain; charset=utf-8\n\n" + block + ending)
        assert _outcome(detectors.all_failures, raw) == _outcome(flufl_all_failures, raw)
    assert _outcome(detectors.all_failures, raw)[1]


# -- the gate -------------------------------------------------------------------------------


def _gate_rule_by_rule(ctx: Context) -> list[dict]:
    """The gate as it was: every rule, every pattern."""
    hits = []
    if ctx.mail.null_sender:
        hits.append({"rule": "null-sender", "field": "return-path", "matched": "<>",
                     "strength": "weak"})
    for rule in ctx.rules.of("bounce_gate"):
        value = gate._gate_value(ctx, rule.field)
        for pattern in rule.patterns:
            m = pattern.search(value) if value else None
            if m:
                hits.append({"rule": rule.id, "field": rule.field, "matched": m.group(0)[:80],
                             "strength": rule.strength})
                break
    return hits


def test_the_gate_groups_fire_as_the_rules_one_by_one(rules, raws):
    subjects = ["Undelivered Mail Returned to Sender", "Re: Fwd: Mail delivery failed",
                "Your message to list was rejected", "Loop alert", "メール配信エラー",
                "Non remis : press release", "uſer unknown", "Thanks!", "Re: press release"]
    extra = [f"From: someone@example.org\nSubject: {s}\n\nbody\n".encode() for s in subjects]
    for raw in raws + extra:
        ctx = Context(parse_message(raw), rules, b"k")
        assert gate.gate(ctx) == _gate_rule_by_rule(ctx)
