"""Property tests: mutated and truncated messages, wrong charsets, huge headers, deep nesting.
Never a crash, always a valid decision, and never an opt-out out of noise."""

from __future__ import annotations

import json
import pathlib
import re

import pytest
from classify_mailgen import STYLES, message, reply
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optdesk.classify import KINDS, Classifier, load_rules

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"

HUMAN_TEXTS = ["Thanks, could you send me the pictures?", "Merci, je transmets à la rédaction.",
               "Danke, wir melden uns.", "Gracias por la información."]
NOT_OPT_OUT = [reply(text, "en", style) for text in HUMAN_TEXTS for style in STYLES] + [
    p.read_bytes() for p in sorted(CORPUS.glob("*.eml")) if "optout" not in p.name]
ALL = NOT_OPT_OUT + [reply("Please remove me from your list.", "en", s) for s in STYLES]
CHARSETS = ["utf-8", "us-ascii", "iso-8859-1", "utf-16", "utf-7", "koi8-r", "shift_jis", "bogus-42",
            "", "x-unknown", "cp1252"]
_CHARSET = re.compile(rb"charset=\"?[\w-]*\"?", re.IGNORECASE)

CLF = Classifier(load_rules(ROOT / "rules"), signing_key=b"k")
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _valid(raw: bytes):
    d = CLF.classify(raw)
    # stage "classify" is what the classifier answers when a stage raised: never acceptable
    assert d.stage != "classify", d.evidence
    assert d.kind in KINDS
    assert all(a == a.lower() for a in d.addresses)
    json.dumps(d.to_json("x"))
    return d


@FAST
@given(st.binary(max_size=5000))
def test_random_bytes(raw):
    assert _valid(raw).kind != "opt_out"


@FAST
@given(st.text(max_size=2000), st.text(max_size=200))
def test_random_text_body_and_subject(body, subject):
    raw = message(body.replace("\r", ""), subject=" ".join(subject.splitlines()))
    # noise is text without any word of the opt-out vocabulary
    if not re.search(r"[a-z]{3}", body + subject, re.IGNORECASE):
        assert _valid(raw).kind != "opt_out"
    else:
        _valid(raw)


@FAST
@given(st.sampled_from(NOT_OPT_OUT), st.floats(0, 1))
def test_truncated_messages_never_become_opt_outs(raw, fraction):
    assert _valid(raw[: int(len(raw) * fraction)]).kind != "opt_out"


@FAST
@given(st.sampled_from(ALL), st.lists(st.tuples(st.floats(0, 1), st.binary(min_size=1, max_size=8)),
                                      max_size=20))
def test_mutated_messages_never_crash(raw, edits):
    data = bytearray(raw)
    for where, junk in edits:
        i = int(len(data) * where)
        data[i : i + len(junk)] = junk
    _valid(bytes(data))


@FAST
@given(st.sampled_from(NOT_OPT_OUT), st.sampled_from(CHARSETS))
def test_wrong_charsets(raw, charset):
    mutated = _CHARSET.sub(b"charset=" + charset.encode(), raw)
    assert _valid(mutated).kind != "opt_out"


@settings(max_examples=20, deadline=None)
@given(st.sampled_from(ALL), st.integers(10_000, 400_000), st.sampled_from(["Subject", "X-Junk", "To", "From"]))
def test_huge_headers(raw, size, name):
    header = f"{name}: {'x' * size}\n".encode()
    _valid(header + raw)
    _valid(raw.replace(b"\n\n", b"\n" + header + b"\n", 1))


@pytest.mark.parametrize("depth", [1, 10, 200, 900, 1500, 5000])
def test_deeply_nested_multiparts(depth):
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth))
    raw = f"From: a@example.com\nSubject: nested\n{head}Content-Type: text/plain\n\nPlease remove me.\n"
    d = _valid(raw.encode())
    if d.stage == "parse":
        assert d.kind == "human" and d.review and "error" in d.evidence


def test_a_stage_that_raises_fails_the_property(monkeypatch):
    """The property above can fail: with the opt-out stage raising, ``_valid`` refuses."""
    from optdesk.classify import classifier

    def broken(ctx):
        raise RuntimeError("opt-out stage broke")

    stages = tuple((name, broken if name == "opt_out" else run) for name, run in classifier.STAGES)
    monkeypatch.setattr(classifier, "STAGES", stages)
    with pytest.raises(AssertionError):
        _valid(reply("Please remove me from your list.", "en", STYLES[0]))


def test_non_bytes_input_is_tolerated():
    assert _valid("From: a@example.com\n\nhello").kind == "human"
