"""Verbs that also mean leaving an event or deleting a file never opt a contact out on their
own: they go to a person (review), while the same verbs next to "me" or a list still count."""

from __future__ import annotations

import pathlib

import pytest
from classify_mailgen import reply

from optdesk.classify import Classifier, load_rules

RULES = pathlib.Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_rules(RULES), signing_key=b"k" * 32, review_threshold=0.75)


@pytest.mark.parametrize(("lang", "text"), [
    ("de", "Ich möchte mich von der Pressekonferenz am Montag abmelden, ich bin verhindert."),
    ("de", "Können Sie bitte das Foto löschen? Es ist veraltet."),
    ("de", "Bitte entfernen Sie den Tippfehler im zweiten Absatz."),
    ("nl", "Ik wil me afmelden voor de lunch op vrijdag."),
])
def test_ambiguous_verb_goes_to_review_not_applied(clf, lang, text):
    d = clf.classify(reply(text, lang, "bare"))
    assert d.review, d.evidence
    assert d.confidence < 0.75


@pytest.mark.parametrize(("lang", "text"), [
    ("de", "Bitte entfernen Sie mich aus Ihrem Presseverteiler."),
    ("de", "Bitte löschen Sie meine E-Mail-Adresse."),
    ("de", "Bitte vom Verteiler abmelden."),
    ("nl", "Graag afmelden voor de persberichten."),
    ("nl", "Afmelden graag"),
    ("nl", "Graag uitschrijven, ik wil deze berichten niet meer ontvangen."),
    ("nl", "Ik wil deze berichten niet meer ontvangen."),
])
def test_the_same_verbs_with_me_or_a_list_still_count(clf, lang, text):
    d = clf.classify(reply(text, lang, "bare"))
    assert d.kind == "opt_out" and not d.review, d.evidence
