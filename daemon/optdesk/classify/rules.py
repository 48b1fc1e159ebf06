"""Load and validate ``rules/*.yaml`` in name order. Errors name the file, the line and the reason.

A rules file is a YAML list of mappings; each has ``id``, ``type`` (a key of RULE_TYPES) and the
fields of that type. YAML node marks give the line of the offending field.
"""

from __future__ import annotations

import pathlib
import re
from collections.abc import Iterable
from typing import Any

import yaml

from optdesk.bounce_scoring import BounceScoring
from optdesk.classify.intent import Reader, stopwords
from optdesk.classify.lexicon import Lexicon, default_lexicon, load_lexicon
from optdesk.classify.prefilter import combined
from optdesk.classify.ruletypes import FLAGS, RULE_TYPES, FieldSpec, Rule
from optdesk.errors import RuleError
from optdesk.mail.newtext import Quoting, default_quoting, load_quoting
from optdesk.yamlfile import compose_text

_COMMON = {"id", "type", "description", "enabled"}


class RuleSet:
    """Validated rules grouped by type, in load order."""

    def __init__(self, rules: Iterable[Rule], files: Iterable[str] = (),
                 lexicon: Lexicon | None = None, quoting: Quoting | None = None) -> None:
        self.rules: tuple[Rule, ...] = tuple(rules)
        self.files: tuple[str, ...] = tuple(files)
        self._lexicon = lexicon
        self._quoting = quoting
        self._reader: Reader | None = None
        self._by_type: dict[str, tuple[Rule, ...]] = {}
        self._patterns: dict[str, tuple[re.Pattern[str], ...]] = {}
        self._any: dict[str, re.Pattern[str] | None] = {}
        self._literals: dict[str, frozenset[str] | None] = {}
        self.suffix_list = None  # the parsed Public Suffix List, kept with prepared rules
        for name in RULE_TYPES:
            self._by_type[name] = tuple(r for r in self.rules if r.type == name)
        scoring = self._by_type["bounce_scoring"]
        self.bounce_scoring = (
            BounceScoring(scoring[0].weight, scoring[0].half_life_days, scoring[0].threshold,
                          scoring[0].id)
            if scoring else BounceScoring()
        )

    @property
    def lexicon(self) -> Lexicon:
        """The intent lexicons (rules/intent/); the shipped ones when none were loaded."""
        if self._lexicon is None:
            self._lexicon = default_lexicon()
        return self._lexicon

    @property
    def quoting(self) -> Quoting:
        """How replies quote (rules/mail/quoting.yaml); the shipped one when none was loaded."""
        if self._quoting is None:
            self._quoting = default_quoting()
        return self._quoting

    @property
    def reader(self) -> Reader:
        """The intent reader over the lexicons."""
        if self._reader is None:
            self._reader = Reader(self.lexicon, stopwords())
        return self._reader

    def of(self, rule_type: str) -> tuple[Rule, ...]:
        """Rules of one type, in load order."""
        return self._by_type[rule_type]

    def patterns(self, rule_type: str) -> tuple[re.Pattern[str], ...]:
        """All compiled patterns of the rules of one type."""
        if rule_type not in self._patterns:
            self._patterns[rule_type] = tuple(p for r in self.of(rule_type) for p in r.patterns)
        return self._patterns[rule_type]

    def literals(self, rule_type: str) -> frozenset[str] | None:
        """Lower-case strings of which any match of any rule of this type contains one."""
        if rule_type not in self._literals:
            self._literals[rule_type] = combined((p.pattern, p.flags) for p in self.patterns(rule_type))
        return self._literals[rule_type]

    def rule_literals(self, rule: Rule) -> frozenset[str] | None:
        """Like ``literals`` for one rule."""
        key = f"rule:{rule.id}"
        if key not in self._literals:
            self._literals[key] = combined((p.pattern, p.flags) for p in rule.patterns)
        return self._literals[key]

    def any_pattern(self, rule_type: str) -> re.Pattern[str] | None:
        """One alternation of every pattern of a type: a quick "could anything match?" test.

        None when it cannot be built (e.g. repeated group names); callers then check each rule.
        """
        if rule_type not in self._any:
            sources = [p.pattern for p in self.patterns(rule_type)]
            try:
                self._any[rule_type] = re.compile("|".join(f"(?:{s})" for s in sources), FLAGS) if sources else None
            except re.error:
                self._any[rule_type] = None
        return self._any[rule_type]

    def __len__(self) -> int:
        return len(self.rules)


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _FileLoader:
    def __init__(self, name: str) -> None:
        self.name = name
        self._constructor = yaml.constructor.SafeConstructor()

    def fail(self, node: yaml.Node, reason: str) -> RuleError:
        return RuleError(f"{self.name}:{_line(node)}: {reason}")

    def value(self, node: yaml.Node) -> Any:
        return self._constructor.construct_object(node, deep=True)

    def regex(self, node: yaml.Node) -> re.Pattern[str]:
        text = self.value(node)
        if not isinstance(text, str) or not text:
            raise self.fail(node, "a pattern must be a non-empty string")
        try:
            return re.compile(text, FLAGS)
        except re.error as exc:
            raise self.fail(node, f"bad regex {text!r}: {exc}") from None

    def codes(self, name: str, node: yaml.Node) -> tuple[str, ...]:
        """A list of DSN status codes: 5.1.1, or x.1.1 for both 4.1.1 and 5.1.1."""
        if not isinstance(node, yaml.SequenceNode) or not node.value:
            raise self.fail(node, f"{name} must be a non-empty list of status codes")
        out = []
        for item in node.value:
            code = self.value(item)
            if not isinstance(code, str) or not re.fullmatch(r"[245x]\.\d{1,3}\.\d{1,3}", code):
                raise self.fail(item, f"bad status code {code!r} (like 5.1.1, or x.1.1 for 4 and 5)")
            out.append(code)
        return tuple(out)

    def field(self, name: str, spec: FieldSpec, node: yaml.Node) -> Any:
        if spec.kind == "regex":
            return None if (spec.default is None and self.value(node) is None) else self.regex(node)
        if spec.kind == "regexes":
            if not isinstance(node, yaml.SequenceNode) or not node.value:
                raise self.fail(node, f"{name} must be a non-empty list of patterns")
            return tuple(self.regex(item) for item in node.value)
        if spec.kind == "codes":
            return self.codes(name, node)
        value = self.value(node)
        expected = {"str": str, "choice": str, "bool": bool, "int": int, "float": (int, float)}
        if not isinstance(value, expected[spec.kind]) or (
            spec.kind in ("int", "float") and isinstance(value, bool)
        ):
            raise self.fail(node, f"{name} must be a {spec.kind}, got {value!r}")
        if spec.choices and value not in spec.choices:
            raise self.fail(node, f"{name} must be one of {', '.join(spec.choices)}; got {value!r}")
        return float(value) if spec.kind == "float" else value

    def rule(self, node: yaml.Node) -> Rule:
        if not isinstance(node, yaml.MappingNode):
            raise self.fail(node, "each rule must be a mapping with id and type")
        fields = {}
        for key_node, value_node in node.value:
            key = self.value(key_node)
            if key in fields:
                raise self.fail(key_node, f"duplicate field {key!r}")
            fields[key] = (key_node, value_node)
        for required in ("id", "type"):
            if required not in fields:
                raise self.fail(node, f"missing field {required!r}")
        rule_type = self.value(fields["type"][1])
        spec = RULE_TYPES.get(rule_type) if isinstance(rule_type, str) else None
        if spec is None:
            raise self.fail(fields["type"][1], f"unknown rule type {rule_type!r}")
        rule_id = self.value(fields["id"][1])
        if not isinstance(rule_id, str) or not re.fullmatch(r"[A-Za-z0-9_.:-]+", rule_id):
            raise self.fail(fields["id"][1], f"bad rule id {rule_id!r} (letters, digits, -_.:)")
        values = self._values(rule_type, spec.fields, fields, node)
        if spec.check and (reason := spec.check(values)):
            raise self.fail(node, f"rule {rule_id!r}: {reason}")
        description = self.value(fields["description"][1]) if "description" in fields else ""
        return Rule(rule_id, rule_type, self.name, _line(node), values, str(description or ""))

    def _values(self, rule_type: str, specs: dict[str, FieldSpec], fields: dict, node) -> dict:
        for key, (key_node, _) in fields.items():
            if key not in specs and key not in _COMMON:
                raise self.fail(key_node, f"unknown field {key!r} for rule type {rule_type!r}")
        values = {}
        for name, spec in specs.items():
            if name in fields:
                values[name] = self.field(name, spec, fields[name][1])
            elif spec.required:
                raise self.fail(node, f"missing field {name!r} for rule type {rule_type!r}")
            else:
                values[name] = spec.default
        return values

    def load(self, text: str) -> list[Rule]:
        root = compose_text(text, self.name)
        if root is None:
            return []
        if not isinstance(root, yaml.SequenceNode):
            raise self.fail(root, "a rules file must be a YAML list of rules")
        rules = [self.rule(item) for item in root.value]
        return [r for r, item in zip(rules, root.value, strict=True) if self._enabled(item)]

    def _enabled(self, node: yaml.MappingNode) -> bool:
        for key_node, value_node in node.value:
            if self.value(key_node) == "enabled":
                value = self.value(value_node)
                if not isinstance(value, bool):
                    raise self.fail(value_node, "enabled must be true or false")
                return value
        return True


def load_rules(rules_dir: str | pathlib.Path) -> RuleSet:
    """Load every ``*.yaml`` in ``rules_dir`` in name order; raise RuleError on the first problem."""
    folder = pathlib.Path(rules_dir)
    if not folder.is_dir():
        raise RuleError(f"{folder}: rules directory does not exist")
    files = sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".yml") and p.is_file())
    if not files:
        raise RuleError(f"{folder}: no rules files (*.yaml)")
    rules: list[Rule] = []
    seen: dict[str, Rule] = {}
    for path in files:
        name = f"{folder.name}/{path.name}"
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise RuleError(f"{name}:1: cannot read: {exc}") from None
        for rule in _FileLoader(name).load(text):
            if rule.id in seen:
                raise RuleError(f"{rule.location}: duplicate rule id {rule.id!r} (first at {seen[rule.id].location})")
            seen[rule.id] = rule
            rules.append(rule)
    if len([r for r in rules if r.type == "bounce_scoring"]) > 1:
        second = [r for r in rules if r.type == "bounce_scoring"][1]
        raise RuleError(f"{second.location}: only one bounce_scoring rule is allowed")
    names = [f"{folder.name}/{p.name}" for p in files]
    lexicon = quoting = None
    if (folder / "intent").is_dir():
        lexicon = load_lexicon(folder / "intent", f"{folder.name}/intent")
        names += lexicon.files
    if (folder / "mail" / "quoting.yaml").is_file():
        quoting = load_quoting(folder / "mail" / "quoting.yaml", f"{folder.name}/mail/quoting.yaml")
        names.append(f"{folder.name}/mail/quoting.yaml")
    return RuleSet(rules, names, lexicon, quoting)
