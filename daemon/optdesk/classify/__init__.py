"""The reply classifier: ordered stages, rules as data, evidence on every decision.

    rules = load_rules(settings.rules_dir)
    clf = Classifier(rules, signing_key=key, review_threshold=0.75)
    decision = clf.classify(raw_bytes)
"""

from optdesk.classify.classifier import STAGES, Classifier
from optdesk.classify.decision import JSON_KEYS, KINDS, Decision, Step
from optdesk.classify.rules import BounceScoring, RuleSet, load_rules
from optdesk.classify.ruletypes import RULE_TYPES, Rule

__all__ = [
    "JSON_KEYS",
    "KINDS",
    "RULE_TYPES",
    "STAGES",
    "BounceScoring",
    "Classifier",
    "Decision",
    "Rule",
    "RuleSet",
    "Step",
    "load_rules",
]
