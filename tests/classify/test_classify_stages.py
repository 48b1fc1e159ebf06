"""Conformance of the classification stage seam: every stage, on every kind of message."""

from __future__ import annotations

import json
import pathlib

import pytest
from classify_mailgen import STYLES, message, reply
from test_classify_flufl_corpus import _sdist_dir

from optdesk.classify import KINDS, STAGES, load_rules
from optdesk.classify.context import Context
from optdesk.mail import parse_message
from optdesk.tokens import make_token

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
RULES = load_rules(ROOT / "rules")
KEY = b"stage-key"


def _messages() -> list[tuple[str, bytes]]:
    found = [(p.name, p.read_bytes()) for p in sorted(CORPUS.glob("*.eml"))]
    data = _sdist_dir() / "tests" / "data"
    found += [(p.name, p.read_bytes()) for p in sorted(data.glob("*.txt"))]
    found += [(f"reply-{s}", reply("Please remove me.", "en", s)) for s in STYLES]
    token = make_token(KEY, "optin", 3, "demo", "jane.doe@example.com")
    found.append(("optin", message("Yes please\n", to=f"optin+{token}@example.org")))
    found.append(("garbage", b"\x00\xff" * 50))
    return found


MESSAGES = _messages()


@pytest.mark.parametrize(("name", "stage"), STAGES, ids=[n for n, _ in STAGES])
def test_stage_contract(name, stage):
    decisive = 0
    for label, raw in MESSAGES:
        ctx = Context(parse_message(raw), RULES, KEY)
        decision, details = stage(ctx)
        json.dumps(details)
        assert isinstance(ctx.review_reasons, list)
        if decision is None:
            continue
        decisive += 1
        assert decision.stage == name, label
        assert decision.kind in KINDS, label
        assert 0.0 <= decision.confidence <= 1.0, label
        assert all(a == a.lower() and "@" in a for a in decision.addresses), label
        if decision.kind not in ("opt_out", "complaint", "bounce_hard", "bounce_soft"):
            assert decision.addresses == (), label
    assert decisive, f"stage {name} decided nothing on the whole corpus"


def test_stages_run_in_the_documented_order():
    assert [name for name, _ in STAGES] == ["complaint", "bounce", "auto_reply", "opt_in", "opt_out"]
