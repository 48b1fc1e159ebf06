"""HMAC tokens, List-Unsubscribe headers, and the stages that read tokens (opt-in, opt-out)."""

from __future__ import annotations

import pathlib
import string
from datetime import UTC, datetime, timedelta

import pytest
from classify_mailgen import message, plain_body

from optdesk.classify import Classifier, load_rules
from optdesk.errors import BadToken
from optdesk.tokens import list_unsubscribe_headers, make_token, token_matches_email, verify_token

KEY = b"0123456789abcdef0123456789abcdef"
ROOT = pathlib.Path(__file__).resolve().parents[2]
NOW = datetime(2026, 11, 4, 12, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def rules():
    return load_rules(ROOT / "rules")


def test_round_trip_and_shape():
    token = make_token(KEY, "unsubscribe", 123456, "demo", "Jane@Example.com", nonce=42)
    assert set(token) <= set(string.ascii_lowercase + "234567")
    assert len("unsubscribe+" + token) <= 64
    payload = verify_token(KEY, token.upper(), "unsubscribe", email="jane@example.com")
    assert (payload.contact_id, payload.data_group, payload.nonce) == (123456, "demo", 42)
    assert payload.email == "jane@example.com" and payload.expires_at is None
    assert token_matches_email(KEY, payload, "JANE@example.com")
    assert not token_matches_email(KEY, payload, "other@example.com")


def test_tokens_differ_per_recipient():
    a = make_token(KEY, "unsubscribe", 1, "demo", "a@example.com", nonce=1)
    b = make_token(KEY, "unsubscribe", 1, "demo", "b@example.com", nonce=1)
    c = make_token(KEY, "unsubscribe", 2, "demo", "a@example.com", nonce=1)
    assert len({a, b, c}) == 3


@pytest.mark.parametrize(("mutate", "reason"), [
    (lambda t: t[:20] + ("a" if t[20] != "a" else "b") + t[21:], "bad signature"),
    (lambda t: t[:5] + ("a" if t[5] != "a" else "b") + t[6:], "bad signature"),
    (lambda t: t[:10], "malformed"),
    (lambda t: "not-a-token!", "malformed"),
    (lambda t: "", "malformed"),
])
def test_tampering_is_refused(mutate, reason):
    token = make_token(KEY, "optin", 7, "demo", "a@example.com")
    with pytest.raises(BadToken) as info:
        verify_token(KEY, mutate(token), "optin")
    assert info.value.reason == reason


def test_one_spelling_per_token():
    """Base32 padding bits must be zero, so a replay cannot dodge a check on the token text."""
    alphabet = string.ascii_uppercase.lower() + "234567"
    token = make_token(KEY, "optin", 7, "demo", "a@example.com", nonce=1)
    assert (len(token) * 5) % 8, "this token length has padding bits"
    last = alphabet.index(token[-1])
    twin = token[:-1] + alphabet[last | 1]
    assert twin != token
    with pytest.raises(BadToken, match="malformed"):
        verify_token(KEY, twin, "optin")


def test_other_key_purpose_expiry_address():
    token = make_token(KEY, "optin", "c-9", "press", "a@example.com", expires_at=NOW + timedelta(days=30))
    with pytest.raises(BadToken, match="bad signature"):
        verify_token(b"another key", token, "optin", now=NOW)
    with pytest.raises(BadToken, match="wrong purpose"):
        verify_token(KEY, token, "unsubscribe", now=NOW)
    with pytest.raises(BadToken, match="expired"):
        verify_token(KEY, token, "optin", now=NOW + timedelta(days=31))
    with pytest.raises(BadToken, match="wrong address"):
        verify_token(KEY, token, "optin", now=NOW, email="b@example.com")
    payload = verify_token(KEY, token, "optin", now=NOW + timedelta(days=29))
    assert payload.contact_id == "c-9" and payload.expires_at > NOW


def test_list_unsubscribe_headers():
    plain = list_unsubscribe_headers(KEY, 5, "demo", "a@example.com", "lists.example.org")
    assert list(plain) == ["List-Unsubscribe"]
    value = plain["List-Unsubscribe"]
    assert value.startswith("<mailto:unsubscribe+") and "@lists.example.org?subject=unsubscribe>" in value
    token = value.split("+", 1)[1].split("@", 1)[0]
    assert verify_token(KEY, token, "unsubscribe", email="a@example.com").contact_id == 5
    both = list_unsubscribe_headers(KEY, 5, "demo", "a@example.com", "x.org", "https://x.org/")
    assert both["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url, mailto = both["List-Unsubscribe"].split(", ")
    assert url.startswith("<https://x.org/u/") and mailto.startswith("<mailto:unsubscribe+")
    assert url[len("<https://x.org/u/"):-1] == mailto.split("+", 1)[1].split("@", 1)[0]
    assert "a@example.com" not in url and "%40" not in url


def _clf(rules, lookup=None) -> Classifier:
    return Classifier(rules, signing_key=KEY, invitation_lookup=lookup, now=lambda: NOW)


def test_mail_to_the_unsubscribe_address(rules):
    token = make_token(KEY, "unsubscribe", 77, "demo", "jane.doe@example.com")
    raw = message("\n", subject="unsubscribe", to=f"unsubscribe+{token}@example.org")
    d = _clf(rules).classify(raw)
    assert (d.kind, d.rule, d.addresses, d.confidence) == (
        "opt_out", "list-unsubscribe", ("jane.doe@example.com",), 1.0)
    assert d.token["contact_id"] == 77 and d.evidence["sender_matches_token"] is True


def test_one_click_unsubscribe_marked_auto_generated_still_counts(rules):
    token = make_token(KEY, "unsubscribe", 77, "demo", "jane.doe@example.com")
    headers = {"Auto-Submitted": "auto-generated"}
    raw = message("This message was automatically generated.\n", subject="unsubscribe",
                  to=f"unsubscribe+{token}@example.org", headers=headers)
    assert _clf(rules).classify(raw).rule == "list-unsubscribe"
    forged = make_token(b"other", "unsubscribe", 77, "demo", "jane.doe@example.com")
    raw = message("Out of office.\n", subject="unsubscribe", to=f"unsubscribe+{forged}@example.org",
                  headers=headers)
    assert _clf(rules).classify(raw).kind == "auto_reply"


def test_forged_unsubscribe_token_goes_to_review(rules):
    token = make_token(b"attacker", "unsubscribe", 77, "demo", "jane.doe@example.com")
    d = _clf(rules).classify(message("\n", subject="x", to=f"unsubscribe+{token}@example.org"))
    assert d.rule == "list-unsubscribe-unverified" and d.review
    assert d.evidence["token_rejected"][0]["reason"] == "bad signature"
    assert d.token is None


def _invitation_reply(text: str, token: str, lang: str = "en", **kw) -> bytes:
    return message(plain_body(text, lang, "gt"), to=f"Press <optin+{token}@example.org>", **kw)


@pytest.mark.parametrize(("text", "lang"), [
    ("Yes, please keep me on your list.", "en"), ("Oui, volontiers !", "fr"),
    ("Ja, gerne.", "de"), ("Sí, de acuerdo.", "es"), ("Sì, va bene.", "it"),
    ("Ja, graag.", "nl"), ("Sim, claro.", "pt"),
])
def test_invitation_accepted(rules, text, lang):
    token = make_token(KEY, "optin", 31, "demo", "jane.doe@example.com", nonce=9,
                       expires_at=NOW + timedelta(days=30))
    d = _clf(rules).classify(_invitation_reply(text, token, lang))
    assert d.kind == "opt_in" and d.language == lang, d.evidence
    assert d.token["contact_id"] == 31 and d.token["nonce"] == 9
    assert d.evidence["sender_matches_token"] is True and not d.review


@pytest.mark.parametrize("text", ["No thanks, leave me off.", "Non merci.", "Nein danke."])
def test_invitation_declined(rules, text):
    token = make_token(KEY, "optin", 31, "demo", "jane.doe@example.com")
    d = _clf(rules).classify(_invitation_reply(text, token))
    assert (d.kind, d.decline, d.review) == ("human", True, True)
    assert d.token["contact_id"] == 31


def test_invitation_expired_or_forged(rules):
    old = make_token(KEY, "optin", 31, "demo", "jane.doe@example.com", expires_at=NOW - timedelta(hours=2))
    d = _clf(rules).classify(_invitation_reply("Yes please", old))
    assert (d.kind, d.review, d.token) == ("human", True, None)
    assert d.evidence["token_rejected"][0]["reason"] == "expired"
    forged = make_token(b"x", "optin", 31, "demo", "jane.doe@example.com")
    d = _clf(rules).classify(_invitation_reply("Yes please", forged))
    assert d.evidence["token_rejected"][0]["reason"] == "bad signature" and d.kind == "human"


def test_invitation_from_another_address_is_flagged(rules):
    token = make_token(KEY, "optin", 31, "demo", "someone.else@example.com")
    d = _clf(rules).classify(_invitation_reply("Yes please", token))
    assert d.kind == "opt_in" and d.evidence["sender_matches_token"] is False


def test_invitation_matched_by_in_reply_to(rules):
    token = make_token(KEY, "optin", 31, "demo", "jane.doe@example.com")
    seen = []

    def lookup(message_id: str):
        seen.append(message_id)
        return {"token": token} if message_id == "<pr-1@example.org>" else None

    raw = message(plain_body("Yes, add me back.", "en", "gt"))  # To: the plain press address
    d = _clf(rules, lookup).classify(raw)
    # found by In-Reply-To, but anyone can forge From and quote a Message-ID: review, never accepted
    assert d.kind == "human" and d.review and seen == ["<pr-1@example.org>"]
    assert d.evidence["answer"] == "unverified" and "In-Reply-To" in d.evidence["reason"]
    assert _clf(rules).classify(raw).kind == "human"


def test_automatic_reply_to_an_invitation_is_not_an_acceptance(rules):
    token = make_token(KEY, "optin", 31, "demo", "jane.doe@example.com")
    raw = _invitation_reply("Yes", token, headers={"Auto-Submitted": "auto-replied"})
    assert _clf(rules).classify(raw).kind == "auto_reply"


def test_a_token_shows_no_contact_id_data_group_or_expiry():
    """Version 2: everything after the first byte is encrypted (SIV); the same recipient twice
    gives unrelated-looking tokens, and neither holds the data group's bytes."""
    import base64 as b64

    from optdesk.tokens import make_token, verify_token

    key = b"k" * 32
    tokens = [make_token(key, "unsubscribe", 123456, "press-fr-secret", "a@x.example")
              for _ in range(2)]
    for token in tokens:
        raw = b64.b32decode(token.upper() + "=" * (-len(token) % 8))
        assert b"press-fr-secret" not in raw and (123456).to_bytes(3, "big") not in raw
        assert raw[0] >> 4 == 2
        payload = verify_token(key, token, "unsubscribe", email="a@x.example")
        assert (payload.contact_id, payload.data_group) == (123456, "press-fr-secret")
    assert tokens[0][4:20] != tokens[1][4:20]


def test_a_version_1_token_from_mail_already_sent_still_verifies():
    import base64 as b64
    import hashlib
    import hmac

    from optdesk.errors import BadToken
    from optdesk.tokens import verify_token

    key = b"k" * 32
    fp = hmac.new(key, b"email:a@x.example", hashlib.sha256).digest()[:4]
    body = (bytes([0x11]) + (0xFFFFFF).to_bytes(3, "big") + (7).to_bytes(4, "big") + fp
            + bytes([0x81, 42]) + bytes([2]) + b"g1")
    tag = hmac.new(key, b"optdesk-token-v1:" + body, hashlib.sha256).digest()[:10]
    token = b64.b32encode(body + tag).decode().rstrip("=").lower()
    payload = verify_token(key, token, "unsubscribe", email="a@x.example")
    assert (payload.contact_id, payload.data_group, payload.nonce) == (42, "g1", 7)
    forged = b64.b32encode(body[:-2] + b"g2" + tag).decode().rstrip("=").lower()
    with pytest.raises(BadToken):
        verify_token(key, forged, "unsubscribe")
