"""Hand-written replies in seven languages, in every quoting style, plain and HTML-only.

Each quoted original carries our footer with "To unsubscribe …": it must never count.
"""

from __future__ import annotations

import pathlib
from datetime import date

import pytest
from classify_mailgen import ORIGINAL_SUBJECT, STYLES, message, plain_body, reply

from optdesk.classify import Classifier, load_rules

RULES = pathlib.Path(__file__).resolve().parents[2] / "rules"
SENDER = "jane.doe@example.com"

OPT_OUT = {
    "en": ["Please remove me from your list.", "Unsubscribe", "Please unsubscribe me, thanks.",
           "I don't know who added me but please remove me",
           "I no longer wish to receive these emails.", "Stop sending me press releases.",
           "Take me off your mailing list please."],
    "fr": ["Merci de me désinscrire.", "Désinscrivez-moi s'il vous plaît.",
           "Je ne souhaite plus recevoir vos communiqués.",
           "Veuillez me retirer de votre liste de diffusion.",
           "Merci de ne plus m’envoyer vos communiqués."],
    "de": ["Bitte austragen.", "Bitte tragen Sie mich aus Ihrem Verteiler aus.",
           "Ich möchte keine E-Mails mehr erhalten.", "Abmelden"],
    "es": ["Por favor, denme de baja.", "No quiero recibir más correos.",
           "Bórrenme de su lista, gracias."],
    "it": ["Cancellatemi dalla lista, grazie.", "Non voglio più ricevere queste email.",
           "Per favore rimuovetemi.", "Vi prego di non inviarmi più comunicati."],
    "nl": ["Graag afmelden.", "Meld mij alstublieft af.", "Verwijder mij van uw lijst.",
           "Ik wil geen e-mails meer ontvangen."],
    "pt": ["Por favor, remova-me da lista.", "Não quero mais receber estes e-mails.",
           "Quero descadastrar o meu endereço.", "Não me enviem mais e-mails, obrigado."],
}
NEGATED = {
    "en": ["Please don't remove me from your list, I love these.",
           "I do not want to unsubscribe."],
    "fr": ["Surtout ne me désinscrivez pas, merci !", "Ne me retirez pas de la liste."],
    "de": ["Bitte nicht austragen, ich lese das gern.", "Bitte nicht abmelden."],
    "es": ["Por favor no me den de baja."],
    "it": ["Non cancellatemi, per favore."],
    "nl": ["Niet afmelden alstublieft."],
    "pt": ["Por favor, não me removam da lista."],
}
HUMAN = {
    "en": "Thanks, could you send me the high-resolution pictures?",
    "fr": "Merci, pouvez-vous m'envoyer les photos en haute définition ?",
    "de": "Danke, können Sie mir die Bilder in hoher Auflösung schicken?",
    "es": "Gracias, ¿me pueden enviar las fotos en alta resolución?",
    "it": "Grazie, potete inviarmi le foto ad alta risoluzione?",
    "nl": "Bedankt, kunt u mij de foto's in hoge resolutie sturen?",
    "pt": "Obrigado, podem enviar-me as fotos em alta resolução?",
}
# language → (subject, body, return date); every body also mentions unsubscribing
OUT_OF_OFFICE = {
    "en": ("Out of Office: " + ORIGINAL_SUBJECT,
           "I am out of the office until 12 December 2026 with limited access to email.\n"
           "To unsubscribe from our newsletter, visit example.com.", date(2026, 12, 12)),
    "fr": ("Réponse automatique : " + ORIGINAL_SUBJECT,
           "Je suis absente du bureau jusqu'au 15 décembre inclus.\n"
           "Pour vous désinscrire de notre lettre, écrivez à stop@example.fr.", date(2026, 12, 15)),
    "de": ("Abwesenheitsnotiz: " + ORIGINAL_SUBJECT,
           "Ich bin bis zum 05.01.2027 nicht im Büro und lese keine E-Mails.\n"
           "Bitte austragen können Sie sich unter example.de.", date(2027, 1, 5)),
    "es": ("Respuesta automática: " + ORIGINAL_SUBJECT,
           "Estoy fuera de la oficina hasta el 3 de diciembre.\n"
           "Para darse de baja de nuestro boletín, visite example.es.", date(2026, 12, 3)),
    "it": ("Risposta automatica: " + ORIGINAL_SUBJECT,
           "Sono fuori ufficio fino al 10 dicembre 2026.\n"
           "Per cancellarti dalla newsletter visita example.it.", date(2026, 12, 10)),
    "nl": ("Automatisch antwoord: " + ORIGINAL_SUBJECT,
           "Ik ben afwezig tot en met 8 december.\n"
           "Afmelden voor onze nieuwsbrief kan via example.nl.", date(2026, 12, 8)),
    "pt": ("Resposta automática: " + ORIGINAL_SUBJECT,
           "Estou ausente até 20 de dezembro de 2026.\n"
           "Para cancelar a subscrição, visite example.pt.", date(2026, 12, 20)),
}


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_rules(RULES), signing_key=b"test-key", review_threshold=0.75)


def _cases(table: dict[str, list[str]]):
    return [(lang, text, style) for lang, texts in table.items() for text in texts for style in STYLES]


@pytest.mark.parametrize(("lang", "text", "style"), _cases(OPT_OUT))
def test_opt_out_in_every_language_and_style(clf, lang, text, style):
    d = clf.classify(reply(text, lang, style))
    assert d.kind == "opt_out", (d.evidence, d.new_text)
    assert d.addresses == (SENDER,)
    assert d.language == lang
    assert d.stage == "opt_out" and d.rule and d.evidence["matched"]
    assert not d.review, d.evidence


@pytest.mark.parametrize(("lang", "text", "style"), _cases(NEGATED))
def test_negations_do_not_count(clf, lang, text, style):
    d = clf.classify(reply(text, lang, style))
    assert d.kind == "human", d.evidence
    assert d.addresses == ()
    assert any("negated_by" in m for m in d.evidence.get("matches", [])) or d.review


@pytest.mark.parametrize(("lang", "text", "style"),
                         _cases({k: [v] for k, v in HUMAN.items()}))
def test_quoted_footer_is_not_an_opt_out(clf, lang, text, style):
    d = clf.classify(reply(text, lang, style))
    assert d.kind == "human", d.evidence
    assert "unsubscribe" not in d.new_text.lower()
    assert text.split(",")[0] in d.new_text


def test_footer_quoted_without_markers_is_cut(clf):
    body = "Thanks, noted.\n\n" + "You received this press release because you are on our list.\n" \
           "To unsubscribe, reply with unsubscribe.\n"
    d = clf.classify(message(body))
    assert d.kind == "human"
    assert d.new_text == "Thanks, noted."


def test_subject_only_request(clf):
    d = clf.classify(message(plain_body("", "en", "gt"), subject="UNSUBSCRIBE"))
    assert d.kind == "opt_out" and d.evidence["in"] == "subject"


@pytest.mark.parametrize("subject", ["Opt out of cookies: the new EU rules", "Out of office culture, a survey",
                                     "Stop sending plastic to landfills"])
def test_our_own_subject_in_a_reply_is_not_read(clf, subject):
    d = clf.classify(reply("Thanks, interesting.", "en", "gt", subject="Re: " + subject))
    assert d.kind == "human", d.evidence


def test_subject_of_a_reply_is_not_read_but_a_new_subject_is(clf):
    ours = "Opt out of cookies: the new EU rules"
    body = f"Thanks.\n\nOn 3 Nov 2026, Press Office wrote:\n> {ours}\n> To unsubscribe, reply STOP.\n"
    assert clf.classify(message(body, subject="Re: " + ours)).kind == "human"
    assert clf.classify(message("\n", subject="Unsubscribe me")).kind == "opt_out"
    d = clf.classify(message(f"On 3 Nov 2026, Press Office wrote:\n> {ours}\n", subject=f"Re: {ours} - UNSUBSCRIBE"))
    assert d.kind == "opt_out" and d.evidence["in"] == "subject" and d.evidence["matched"] == "UNSUBSCRIBE"


def test_a_question_about_a_colleague_goes_to_review(clf):
    text = ("I read your release about the factory. " * 5) + "How would one unsubscribe a colleague?"
    d = clf.classify(reply(text, "en", "gt"))
    assert d.kind == "human" and d.review and d.addresses == ()
    assert d.evidence["blocked_by"] in ("question", "third-party"), d.evidence


@pytest.mark.parametrize("lang", sorted(OUT_OF_OFFICE))
@pytest.mark.parametrize("variant", ["headers", "subject-only", "body-only"])
def test_out_of_office(clf, lang, variant):
    subject, body, returning = OUT_OF_OFFICE[lang]
    headers = {"Auto-Submitted": "auto-replied", "X-Autoreply": "yes"} if variant == "headers" else {}
    if variant == "body-only":
        subject = "Re: " + ORIGINAL_SUBJECT
    d = clf.classify(message(plain_body(body, lang, "gt"), subject=subject, headers=headers))
    assert d.kind == "auto_reply", d.evidence
    assert d.addresses == ()
    assert d.return_date == returning, d.evidence
    assert d.evidence["return_date"] == returning.isoformat()
    if variant == "headers":
        assert d.rule == "hdr-auto-submitted"


def test_auto_submitted_no_is_not_automatic(clf):
    d = clf.classify(message("Please remove me.\n", headers={"Auto-Submitted": "no"}))
    assert d.kind == "opt_out"


def test_precedence_bulk_newsletter_with_unsubscribe_is_auto(clf):
    d = clf.classify(message("Our weekly digest. Unsubscribe here.\n", subject="Digest",
                             headers={"Precedence": "bulk"}))
    assert d.kind == "auto_reply" and d.rule == "hdr-precedence"
