"""Rules as data: validation names file, line and reason; every rule type is documented."""

from __future__ import annotations

import pathlib
import re
import shutil
import textwrap

import pytest

from optdesk.classify import RULE_TYPES, load_rules
from optdesk.errors import RuleError

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = ROOT / "rules"


def _write(folder: pathlib.Path, name: str, text: str) -> None:
    (folder / name).write_text(textwrap.dedent(text), encoding="utf-8")


def _error(tmp_path: pathlib.Path, text: str) -> str:
    _write(tmp_path, "20-x.yaml", text)
    with pytest.raises(RuleError) as info:
        load_rules(tmp_path)
    return str(info.value)


def test_shipped_rules_load():
    rules = load_rules(RULES)
    assert len(rules) > 50
    assert rules.files == tuple(sorted(rules.files))
    for rule_type in RULE_TYPES:
        assert rules.of(rule_type), f"no shipped rule of type {rule_type}"
    assert rules.bounce_scoring.threshold > rules.bounce_scoring.weight  # one soft bounce never suppresses


def test_every_rule_type_is_documented():
    readme = (RULES / "README.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^### `([a-z_]+)`", readme, re.MULTILINE))
    assert documented == set(RULE_TYPES)


def test_unknown_rule_type_names_file_and_line(tmp_path):
    message = _error(tmp_path, """\
        - id: ok
          type: footer
          patterns: ['^x']

        - id: bad
          type: foo
          patterns: ['x']
        """)
    assert message == f"{tmp_path.name}/20-x.yaml:6: unknown rule type 'foo'"


def test_bad_regex_points_at_the_pattern_line(tmp_path):
    message = _error(tmp_path, """\
        - id: p
          type: auto_reply_body
          language: en
          patterns:
            - 'fine'
            - '(unclosed'
        """)
    assert message.startswith(f"{tmp_path.name}/20-x.yaml:6: bad regex '(unclosed'")


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("- id: a\n  type: auto_reply_body\n  patterns: ['x']\n", 1, "missing field 'language'"),
    ("- id: a\n  type: footer\n  patterns: ['x']\n  colour: red\n", 4, "unknown field 'colour'"),
    ("- id: a\n  type: auto_reply_body\n  language: klingon\n  patterns: ['x']\n", 3,
     "language must be one of"),
    ("- id: a\n  type: auto_reply_body\n  language: en\n  confidence: 2\n  patterns: ['x']\n", 1,
     "confidence must be between 0 and 1"),
    ("- id: a\n  type: return_date\n  language: en\n  patterns: ['back on (.*)']\n", 1,
     "has no (?P<date>...) group"),
    ("- id: a\n  type: footer\n  patterns: []\n", 3, "patterns must be a non-empty list"),
    ("- type: footer\n  patterns: ['x']\n", 1, "missing field 'id'"),
    ("- id: a\n  type: bounce_scoring\n  weight: many\n  half_life_days: 7\n  threshold: 2\n", 3,
     "weight must be a float"),
    ("id: a\ntype: footer\n", 1, "a rules file must be a YAML list"),
    ("- id: a\n  type: footer\n  patterns: ['x'\n", 4, "YAML error"),
    ("- id: a\n  type: bounce_gate\n  field: colour\n  patterns: ['x']\n", 1, "unknown field 'colour'"),
])
def test_validation_errors(tmp_path, text, line, reason):
    message = _error(tmp_path, text)
    assert message.startswith(f"{tmp_path.name}/20-x.yaml:{line}: "), message
    assert reason in message


def test_duplicate_ids_across_files(tmp_path):
    _write(tmp_path, "10-a.yaml", "- id: same\n  type: footer\n  patterns: ['a']\n")
    _write(tmp_path, "20-b.yaml", "\n- id: same\n  type: footer\n  patterns: ['b']\n")
    with pytest.raises(RuleError, match=r"20-b.yaml:2: duplicate rule id 'same' \(first at .*10-a.yaml:1\)"):
        load_rules(tmp_path)


def test_one_bounce_scoring_only(tmp_path):
    rule = "- id: {0}\n  type: bounce_scoring\n  weight: 1\n  half_life_days: 7\n  threshold: 2\n"
    _write(tmp_path, "10-a.yaml", rule.format("s1") + rule.format("s2"))
    with pytest.raises(RuleError, match="only one bounce_scoring"):
        load_rules(tmp_path)


def test_name_order_and_disabled_rules(tmp_path):
    _write(tmp_path, "20-b.yaml", "- id: second\n  type: footer\n  patterns: ['b']\n")
    _write(tmp_path, "10-a.yaml", "- id: first\n  type: footer\n  patterns: ['a']\n"
                                  "- id: unused\n  type: footer\n  enabled: false\n  patterns: ['c']\n")
    rules = load_rules(tmp_path)
    assert [r.id for r in rules.rules] == ["first", "second"]
    assert rules.bounce_scoring.rule is None  # defaults when no rule


def test_empty_or_missing_folder(tmp_path):
    with pytest.raises(RuleError, match="no rules files"):
        load_rules(tmp_path)
    with pytest.raises(RuleError, match="does not exist"):
        load_rules(tmp_path / "nope")


def test_an_analyst_adds_a_word_without_code(tmp_path):
    from classify_mailgen import reply

    from optdesk.classify import Classifier

    shutil.copytree(RULES, tmp_path / "rules")
    raw = reply("Kindly expunge me from your distribution.", "en", "gt")
    assert Classifier(load_rules(tmp_path / "rules")).classify(raw).kind == "human"
    lexicon = tmp_path / "rules" / "intent" / "en.yaml"
    lexicon.write_text(lexicon.read_text(encoding="utf-8").replace(
        "remove:\n", "remove:\n  - expunge\n", 1), encoding="utf-8")
    d = Classifier(load_rules(tmp_path / "rules")).classify(raw)
    assert (d.kind, d.rule) == ("opt_out", "intent:en:remove+self+list")
    assert "en:remove:expunge" in d.evidence["entries"]


@pytest.mark.parametrize(("text", "line", "reason"), [
    ("language: en\nremoev:\n  - x\n", 2, "unknown category 'remoev'"),
    ("language: en\nremove:\n  - take *\n", 3, "a gap '*' must stand between two words"),
    ("language: en\nremove:\n  - '* off'\n", 3, "a gap '*' must stand between two words"),
    ("language: en\nstemmer: klingon\n", 2, "unknown stemmer 'klingon'"),
    ("remove:\n  - x\n", 1, "missing key 'language'"),
    ("language: en\nremove: delete\n", 2, "remove must be a list"),
    ("language: en\nremove:\n  - [a, b]\n", 3, "must be a non-empty word or phrase"),
    ("language: en\nremove:\n  - 'x'\n bad\n", 4, "YAML error"),
])
def test_lexicon_errors_name_file_and_line(tmp_path, text, line, reason):
    shutil.copytree(RULES, tmp_path / "rules")
    (tmp_path / "rules" / "intent" / "xx.yaml").write_text(text, encoding="utf-8")
    with pytest.raises(RuleError) as info:
        load_rules(tmp_path / "rules")
    assert str(info.value).startswith(f"rules/intent/xx.yaml:{line}: "), str(info.value)
    assert reason in str(info.value)


def test_quoting_file_errors_name_file_and_line(tmp_path):
    shutil.copytree(RULES, tmp_path / "rules")
    (tmp_path / "rules" / "mail" / "quoting.yaml").write_text("wrote:\n  - 'wrote'\n  - '(bad'\n")
    with pytest.raises(RuleError, match=r"^rules/mail/quoting.yaml:3: bad regex '\(bad'"):
        load_rules(tmp_path / "rules")
