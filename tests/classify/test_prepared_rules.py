"""optdesk.classify.prepared: the loaded rules kept between runs decide exactly as the files do,
follow every change to the files, and never hide a rules error."""

from __future__ import annotations

import json
import pathlib
import pickle
import re
import shutil

import pytest

from optdesk import domains
from optdesk.classify import Classifier, load_rules
from optdesk.classify.prepared import (
    LazyPattern,
    _compiled_state,
    _restored,
    cache_dir,
    prepared_rules,
    rules_key,
)
from optdesk.errors import RuleError

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "classify" / "corpus"
SISIMAI = ROOT.parent / "shared" / "corpora" / "sisimai" / "eml"


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("OPTDESK_CACHE_DIR", str(folder))
    return folder


@pytest.fixture
def rules_dir(tmp_path):
    copy = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", copy)
    return copy


def _messages() -> list[pathlib.Path]:
    files = sorted(CORPUS.rglob("*.eml"))
    if SISIMAI.is_dir():
        files += sorted(SISIMAI.glob("*.eml"))[::6]
    return files


def _decisions(rules) -> list[str]:
    clf = Classifier(rules, signing_key=b"k" * 32)
    return [json.dumps(clf.classify(p.read_bytes()).to_json(p.name), sort_keys=True)
            for p in _messages()]


def test_decisions_from_the_cache_are_those_of_the_files(cache, rules_dir):
    expected = _decisions(load_rules(rules_dir))
    built = prepared_rules(rules_dir)  # loads the files and stores the state
    assert list(cache.glob("rules-*.pickle")), "nothing stored"
    read = prepared_rules(rules_dir)  # read from the cache
    assert read is not built
    # the patterns come back compiled, from the engine's stored instructions
    assert all(isinstance(p, re.Pattern) for r in read.rules for p in getattr(r, "patterns", None) or ())
    assert len(expected) > 100
    assert _decisions(built) == expected
    assert _decisions(read) == expected


def test_a_changed_rules_file_is_read_again(cache, rules_dir):
    mail = (b"From: a@example.net\r\nTo: desk@example.org\r\nSubject: hello\r\n"
            b"X-Test-Added: yes\r\n\r\nThanks, could you send the photos?\r\n")
    before = Classifier(prepared_rules(rules_dir), signing_key=b"k" * 32).classify(mail)
    assert before.kind == "human"
    first = rules_key(rules_dir)
    target = rules_dir / "30-auto-reply.yaml"
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n- id: added-by-the-test\n  type: auto_reply_header\n"
                        "  header: X-Test-Added\n  pattern: '\\S'\n", encoding="utf-8")
    assert rules_key(rules_dir) != first
    rules = prepared_rules(rules_dir)
    assert "added-by-the-test" in {r.id for r in rules.rules}
    after = Classifier(rules, signing_key=b"k" * 32).classify(mail)
    assert (after.kind, after.rule) == ("auto_reply", "added-by-the-test")


def test_a_bad_rule_is_reported_with_file_and_line_even_with_a_cache(cache, rules_dir):
    prepared_rules(rules_dir)
    target = rules_dir / "30-auto-reply.yaml"
    lines = target.read_text(encoding="utf-8").splitlines()
    index = next(i for i, line in enumerate(lines) if line.startswith("  pattern: '"))
    lines[index] = "  pattern: '(unclosed'"
    target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(RuleError, match=rf"30-auto-reply.yaml:{index + 1}: bad regex"):
        prepared_rules(rules_dir)


def test_a_damaged_cache_is_rebuilt(cache, rules_dir):
    prepared_rules(rules_dir)
    (stored,) = cache.glob("rules-*.pickle")
    stored.write_bytes(b"not a pickle")
    rules = prepared_rules(rules_dir)
    assert len(rules) == len(load_rules(rules_dir))
    assert pickle.loads(stored.read_bytes()).__class__.__name__ == "RuleSet"


def test_the_cache_is_private_and_can_be_turned_off(cache, rules_dir, monkeypatch):
    prepared_rules(rules_dir)
    (stored,) = cache.glob("rules-*.pickle")
    assert stored.stat().st_mode & 0o077 == 0 and cache.stat().st_mode & 0o077 == 0
    monkeypatch.setenv("OPTDESK_CACHE_DIR", "off")
    assert cache_dir() is None
    shutil.rmtree(cache)
    prepared_rules(rules_dir)
    assert not cache.exists()


def test_the_suffix_list_comes_with_the_rules(cache, rules_dir, monkeypatch):
    prepared_rules(rules_dir)
    monkeypatch.setattr(domains, "_LIST", None)
    domains.registrable.cache_clear()
    prepared_rules(rules_dir)
    assert domains._LIST is not None  # adopted from the cache, not parsed again
    assert domains.registrable("mx1.mail.protection.outlook.com") == "outlook.com"


def test_a_lazy_pattern_is_a_pattern():
    lazy = LazyPattern(r"(?P<w>st[o0]p)\b", re.IGNORECASE)
    assert lazy.search("please STOP now").group("w") == "STOP"
    assert [m.group(0) for m in lazy.finditer("stop st0p")] == ["stop", "st0p"]
    assert lazy.sub("x", "Stop it") == "x it"
    assert lazy.groupindex == {"w": 1}
    again = pickle.loads(pickle.dumps(lazy))
    assert again.pattern == lazy.pattern and again.flags == lazy.flags
    assert again.match("stop")


def _all_patterns(rules) -> list[re.Pattern]:
    found = [p for r in rules.rules for p in getattr(r, "patterns", None) or ()]
    q = rules.quoting
    found += [v for v in vars(q).values() if isinstance(v, re.Pattern)]
    return found


def test_a_restored_pattern_is_the_compiled_pattern():
    """Every pattern of the rules, rebuilt from its stored state, is the pattern re.compile
    makes: same source, flags, groups, and the same matches on every corpus message."""
    patterns = _all_patterns(load_rules(ROOT / "rules"))
    assert len(patterns) > 300
    texts = [p.read_bytes().decode("utf-8", "replace")[:20_000] for p in _messages()[::3]]
    for original in patterns:
        state = _compiled_state(original)
        assert state is not None, original.pattern
        again = pickle.loads(pickle.dumps(_restored(*state)))  # a real re.Pattern pickles too
        restored = _restored(*state)
        assert isinstance(restored, re.Pattern)
        assert (restored.pattern, restored.flags, restored.groups, restored.groupindex) == (
            original.pattern, original.flags, original.groups, original.groupindex)
        assert again.pattern == original.pattern
        for text in texts:
            mine, theirs = restored.search(text), original.search(text)
            assert (mine and mine.span()) == (theirs and theirs.span()), original.pattern


def test_a_stored_pattern_the_engine_refuses_is_compiled_from_its_source():
    state = list(_compiled_state(re.compile(r"(?P<w>st[o0]p)\b", re.IGNORECASE)))
    state[2] = b"\xff\xff\xff\xff" * 3  # instructions the engine rejects
    fallback = _restored(*state)
    assert isinstance(fallback, LazyPattern)
    assert fallback.search("please STOP now").group("w") == "STOP"


def test_the_cache_brings_what_each_worker_would_build_on_its_first_messages(cache, rules_dir, monkeypatch):
    from optdesk.classify import intent, prefilter

    prepared_rules(rules_dir)  # stored
    monkeypatch.setattr(prefilter, "_SCANS", {})
    monkeypatch.setattr(intent, "_BY_LANGUAGE", None)
    rules = prepared_rules(rules_dir)  # read
    assert rules.warm["scans"] and prefilter._SCANS == rules.warm["scans"]
    assert intent.stopwords_by_language() is rules.warm["stopwords"]  # adopted, not built again
    assert "und" in intent.stopwords_by_language()["de"]
