"""The word each template asks for is an acceptance for the real classifier, in every language;
the usual refusals are declines. (Rules: rules/40-opt-in.yaml, owned by the classifier.)"""

from __future__ import annotations

import dataclasses
from email.message import EmailMessage

import pytest

from optdesk.daemon.ingest import build_classifier
from optdesk.outgoing import invitations as inv

from .conftest import GROUP, KEY
from .test_guardrails import Recorder

ACCEPT = {"en": "YES", "fr": "OUI", "de": "JA", "es": "SÍ", "it": "SÌ", "nl": "JA", "pt": "SIM"}
DECLINE = {"en": "No thanks.", "fr": "Non merci.", "de": "Nein danke.", "es": "No, gracias.",
           "it": "No grazie.", "nl": "Nee, dank je.", "pt": "Não, obrigado."}


@pytest.fixture
def invitation_in(inv_store, settings, monkeypatch):
    monkeypatch.setenv("OPTDESK_SECRET", KEY.decode())
    settings = dataclasses.replace(settings, db=str(inv_store.path))
    classify = build_classifier(settings, inv_store).classify

    def make(language: str):
        smtp = Recorder()
        inv_store.opt_out(3, GROUP, source="manual", actor="t")
        fields = inv.InvitationFields("Acme", "press@acme.example", "", "", language)
        result, = inv.send_invitations(inv_store, settings, GROUP, [3], fields, actor="t",
                                       connect=smtp, key=KEY)
        assert result.status == "sent"
        return smtp.sent[0], classify

    return make


def reply(invitation, text: str) -> bytes:
    msg = EmailMessage()
    msg["From"] = "a3@news.example"
    msg["To"] = str(invitation["Reply-To"])
    msg["Subject"] = "Re: " + str(invitation["Subject"])
    msg["In-Reply-To"] = invitation["Message-ID"]
    quoted = "\n".join("> " + line for line in invitation.get_content().splitlines())
    msg.set_content(f"{text}\n\n{quoted}\n")
    return msg.as_bytes()


@pytest.mark.parametrize("language", inv.LANGUAGES)
def test_the_requested_word_is_an_acceptance(invitation_in, language):
    invitation, classify = invitation_in(language)
    for text in (ACCEPT[language], ACCEPT[language].lower() + "!"):
        decision = classify(reply(invitation, text))
        assert decision.kind == "opt_in", (language, text, decision.evidence)
        assert decision.token["contact_id"] == 3


@pytest.mark.parametrize("language", inv.LANGUAGES)
def test_a_refusal_is_a_decline(invitation_in, language):
    invitation, classify = invitation_in(language)
    decision = classify(reply(invitation, DECLINE[language]))
    assert decision.kind != "opt_in" and decision.decline, (language, decision.evidence)
