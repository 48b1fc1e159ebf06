"""The limits of a request that the intent engine must see (found on replies written blind, the
`fresh` part of the reply corpus): a condition before it, one list or a pause instead of all
mail, another person's address, speech in single quotes, a thing taken out of a release. Each
goes to review, never applied; the plain requests beside them still count. The texts here are
new ones, in other words and other languages than the corpus messages they generalise."""

from __future__ import annotations

import pathlib

import pytest
from classify_mailgen import reply

from optdesk.classify import Classifier, load_rules

RULES = pathlib.Path(__file__).resolve().parents[2] / "rules"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_rules(RULES), signing_key=b"k" * 32, review_threshold=0.75)


def _decide(clf, lang: str, text: str):
    # the writer at the paper whose colleague's address is named (same domain: the writer's?)
    return clf.classify(reply(text, lang, "bare", sender="Jan de Boer <jan@krant.example>"))


@pytest.mark.parametrize(("lang", "text", "why"), [
    # a threat under a condition, in the clause before or in the same one
    ("en", "If this carries on every day, I will unsubscribe.", "conditional"),
    ("fr", "Si vous continuez à m'écrire trois fois par jour, je me désinscris.", "conditional"),
    ("es", "Si me llega otra nota sobre festivales me doy de baja.", "conditional"),
    ("de", "Falls das so weitergeht, trage ich mich aus.", "conditional"),
    ("pl", "Jeżeli dostanę jeszcze jedną taką wiadomość, wypiszę się.", "conditional"),
    # one list or one subject, while the rest stays welcome
    ("de", "Schicken Sie mir bitte nur noch die Meldungen zum Hafen.", "restriction"),
    ("it", "Mandatemi solo i comunicati sulla cultura, grazie.", "restriction"),
    ("es", "Solo me interesan las notas de transporte, lo demás no me lo mandéis.", "restriction"),
    ("pt", "Podem parar de me mandar os releases de moda. Os de economia continuam me interessando.",
     "one list"),
    # a pause, not a goodbye
    ("en", "I'm covering the Olympics for a few months, please take me off your list temporarily.",
     "restriction"),
    ("fr", "Je pars en congé : retirez-moi de la liste pour le moment.", "restriction"),
    ("nl", "Haal me voorlopig van de lijst, ik ben met verlof.", "restriction"),
    # another person's address, named before it
    ("nl", "Kunnen jullie Pieter Smit (p.smit@krant.example) van de lijst halen?", "third-party"),
    # a request taken back at once
    ("en", "Please take me off the list - or not, wait. I'll ask my editor first.", "hedge"),
    ("de", "Bitte streichen Sie mich aus dem Verteiler – oder doch nicht. Ich melde mich.", "hedge"),
    # her, not me
    ("pl", "Kasia prosiła, żeby ją wypisać z listy, ona już tego nie czyta.", "third-party"),
    # speech in single quotation marks
    ("en", "A reader wrote to us 'please remove me from your list' and we laughed.", "reported-speech"),
])
def test_a_limited_request_goes_to_review(clf, lang, text, why):
    d = _decide(clf, lang, text)
    assert d.kind != "opt_out" or d.review, d.evidence
    assert d.review, d.evidence
    reasons = " ".join(d.evidence.get("review_reasons", [])) + " " + str(d.evidence.get("reason"))
    assert why in reasons or why in str(d.evidence.get("blocked_by")), d.evidence


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "Could someone take my phone number out of the press release? It is my private one."),
    ("nl", "Willen jullie mijn oude telefoonnummer uit het persbericht halen?"),
    ("en", "The photos look great, but we can't print them like that."),
    # the writer's own newsletter, asking its readers
    ("no", "Takk, vi bruker saken. Vil du ikke lenger motta nyhetsbrevet vårt? Klikk her."),
    ("en", "Thanks, will run it. Don't want our newsletter anymore? Manage it in your profile."),
])
def test_something_else_taken_out_is_no_opt_out(clf, lang, text):
    d = _decide(clf, lang, text)
    assert d.kind != "opt_out", d.evidence


@pytest.mark.parametrize(("lang", "text"), [
    # politeness around the condition: it is the request itself
    ("en", "If you could remove me from your mailing list, that would be great."),
    ("fr", "Si possible, merci de me retirer de votre liste de diffusion."),
    ("de", "Wenn Sie mich bitte aus dem Verteiler nehmen könnten."),
    # a plain request beside an apostrophe that is no quotation mark
    ("nl", "'s Ochtends lees ik alles, maar haal me toch maar van de lijst."),
    # "maar" as a particle, not "but"
    ("nl", "Haal me maar van de lijst."),
    ("en", "I don't cover retail anymore, please remove me from your list."),
    # the German negation at the end, by its verb
    ("de", "Ich möchte Ihre Mitteilungen in Zukunft nicht mehr erhalten."),
    # a letter too many
    ("nl", "graag afmeleden"),
    ("en", "unsubscrribe"),
    # "please" starts the request that follows a "no interest"
    ("pt", "nao tenho interesse favor remover meu email da lista"),
    # the writer's own addresses, several of them
    ("pt", "O jornal fechou. Pedimos que retirem os nossos endereços da vossa lista."),
    # where the team keeps addresses
    ("nl", "Wil je mijn adres uit het bestand halen? Ik ga met pensioen."),
    ("fr", "plus rien de ce genre merci"),
    # Danish "det her" (this) is not English "her"
    ("da", "STOP MED AT SENDE OS DET HER. Fjern os fra listen."),
])
def test_the_plain_request_still_counts(clf, lang, text):
    d = _decide(clf, lang, text)
    assert d.kind == "opt_out" and not d.review, d.evidence


def test_a_negation_beside_the_footer_keyword_wins(clf):
    """"Re: unsubscribe" (the word our footer asks for) over a body saying not to unsubscribe:
    the subject is not the answer."""
    d = clf.classify(reply("Someone here answered UNSUBSCRIBE by mistake. DO NOT UNSUBSCRIBE US, we "
                           "want your news.", "en", "gt", subject="Re: unsubscribe"))
    assert d.kind != "opt_out" or d.review, d.evidence


@pytest.mark.parametrize(("text", "verdict"), [
    ("Ok, noted.", "review"),  # an acknowledgement, no yes
    ("Okay, bien reçu, merci.", "review"),
    ("Vale, recibido.", "review"),
    ("Ok, ontvangen!", "review"),
    ("Ja, gerne wieder! Ihre Mail habe ich erhalten.", "accept"),  # a yes, and the receipt
    ("Sì, certo, proprio quello che mi mancava 🙄", "review"),  # the eye-roll: sarcasm
    ("Oui, avec plaisir !", "accept"),
    ("Oh yes, absolutely, can't wait for more of these /s", "review"),
])
def test_an_invitation_answer_says_yes_only_with_a_yes(clf, text, verdict):
    got, reason, _, _ = clf.rules.reader.answer(text)
    assert got == verdict, reason
