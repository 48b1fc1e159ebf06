"""Unit tests of the pure pieces: literal prefilter, dates, header decoding, addresses, HTML,
new-text extraction."""

from __future__ import annotations

import pathlib
from datetime import date

import pytest

from optdesk.classify import load_rules
from optdesk.classify.dates import read_date
from optdesk.classify.prefilter import may_match, required_literals
from optdesk.mail import extract_new_text, html_to_text, parse_message
from optdesk.mail.parse import addresses_in, decode_header_value

ROOT = pathlib.Path(__file__).resolve().parents[2]
RULES = load_rules(ROOT / "rules")
PATTERNS = [p for r in RULES.rules if "patterns" in r.values for p in r.patterns]


@pytest.mark.parametrize(("pattern", "expected"), [
    (r"\bunsubscribe\b", {"unsubscribe"}),
    (r"(remove|delete)\s+me", {"remove", "delete"}),
    (r"(please\s+)?stop", {"stop"}),
    (r"\w+@\w+", {"@"}),
    (r"\w+", None),
    (r"(a|\w)x?", None),
    (r"d[ée]sinscri(re|vez)", {"sinscri"}),
])
def test_required_literals(pattern, expected):
    found = required_literals(pattern)
    assert (None if found is None else set(found)) == expected


def _texts() -> list[str]:
    from classify_mailgen import ORIGINAL
    from test_classify_replies import HUMAN, NEGATED, OPT_OUT, OUT_OF_OFFICE

    texts = [ORIGINAL, *HUMAN.values()]
    texts += [t for table in (OPT_OUT, NEGATED) for items in table.values() for t in items]
    texts += [subject + "\n" + body for subject, body, _ in OUT_OF_OFFICE.values()]
    corpus = pathlib.Path(__file__).resolve().parent / "corpus"
    texts += [p.read_bytes().decode("utf-8", "replace") for p in sorted(corpus.glob("*.eml"))]
    return texts


def test_prefilter_never_hides_a_match():
    """On every text of the tests, a pattern that matches has one of its literals there."""
    matched = 0
    for text in _texts():
        for variant in (text, text.upper(), text.title()):
            for pattern in PATTERNS:
                if pattern.search(variant):
                    matched += 1
                    literals = required_literals(pattern.pattern, pattern.flags)
                    assert may_match(literals, variant.lower()), (pattern.pattern, variant)
    assert matched > 200


def test_may_match_is_the_in_test_of_each_literal():
    """Many literals are looked for with one regex: the same answer as an ``in`` per literal."""
    literal_sets = [frozenset(f"w{i}x" for i in range(20)) | {"a.b", "(c)", "de", "def", "d"},
                    frozenset(["stop", "stopp", "unsubscribe", "un", "[x]", "a+b", "\\n", "x|y", "ü"])]
    for literals in literal_sets:
        assert len(literals) > 8  # past the few that are tested one by one
        for text in _texts()[:40] + ["", "d", "w19x", "...a.b", "xy", "x|", "x|y", "c", "(c", "(c)",
                                     "a+", "a+b", "\\", "\\n", "u", "ü", "stopp", "uns"]:
            lowered = text.lower()
            assert may_match(literals, lowered) == any(lit in lowered for lit in literals)


@pytest.mark.parametrize(("text", "lang", "expected"), [
    ("12 December 2026", "en", date(2026, 12, 12)),
    ("December 3rd", "en", date(2026, 12, 3)),
    ("3/12", "en", date(2027, 3, 12)),          # month first in English
    ("25/12", "en", date(2026, 12, 25)),        # … unless it cannot be a month
    ("3/12", "fr", date(2026, 12, 3)),
    ("05.01.2027 nicht im Büro", "de", date(2027, 1, 5)),
    ("2026-11-30", "nl", date(2026, 11, 30)),
    ("lundi 16 novembre", "fr", date(2026, 11, 16)),
    ("3 de enero", "es", date(2027, 1, 3)),       # no year: the next 3 January
    ("1 nov", "en", date(2026, 11, 1)),           # a few days back still counts as this year
    ("31 février", "fr", None),
    ("next week", "en", None),
])
def test_read_date(text, lang, expected):
    assert read_date(text, lang, date(2026, 11, 4)) == expected


def test_header_decoding_never_fails():
    assert decode_header_value("=?utf-8?q?caf=C3=A9?=") == "café"
    assert decode_header_value("=?bogus-cs?q?caf=E9?=") == "café"
    assert decode_header_value("=?utf-8?b?!!!notbase64?=") != ""
    assert decode_header_value("plain\r\n folded") == "plain folded"
    mail = parse_message("Subject: caf\xe9 au lait\nFrom: x@y.example\n\nhi".encode("latin-1"))
    assert mail.subject == "café au lait"


@pytest.mark.parametrize(("value", "expected"), [
    ('"Doe, Jane" <Jane.Doe@Example.com>, bob@example.org', ["jane.doe@example.com", "bob@example.org"]),
    ("Jane <jane@example.com> (work)", ["jane@example.com"]),
    ("jane@example.com (Jane Doe)", ["jane@example.com"]),
    ("undisclosed-recipients:;", []),
    ("<>", []),
])
def test_addresses(value, expected):
    assert addresses_in([value]) == expected


def test_null_sender_and_from_name():
    mail = parse_message(b"Return-Path: <>\nFrom: Mail Delivery System <MAILER-DAEMON@x.example>\n\n")
    assert mail.null_sender and mail.sender == "mailer-daemon@x.example"
    assert mail.sender_name == "Mail Delivery System"


def test_html_to_text_drops_quotes_and_styles():
    new, full = html_to_text(
        "<html><head><style>p{color:red}</style></head><body><p>Bonjour&nbsp;!</p>"
        "<blockquote type=cite><p>old <b>text</b></p><blockquote>older</blockquote></blockquote>"
        "<p>after</p><div class='gmail_quote'>quoted</div><!-- <blockquote> --></body></html>")
    assert new == "Bonjour !\n\nafter"
    assert "older" in full and "color" not in full


def test_html_outlook_cut_and_broken_markup():
    new, _ = html_to_text("<div>Yes</div><div id=appendonsend></div><div>From: us</div>")
    assert new == "Yes"
    new, _ = html_to_text("<div><p>unclosed <b>tags" + "<div>" * 5000 + "deep")
    assert new.startswith("unclosed tags") and new.endswith("deep")


@pytest.mark.parametrize(("body", "expected", "reason"), [
    ("Hi\n\nOn Tue, Nov 3, 2026 at 10:00 AM Press Office <press@example.org>\nwrote:\n> x",
     "Hi", "attribution"),
    ("Hi\n> quoted\nmine\n> more", "Hi\nmine", None),
    ("Hi\n-- \nJane", "Hi", "signature"),
    ("Hi\nSent from my iPhone\n\nOn x wrote:\n> y", "Hi", "signature"),
    ("Bitte austragen\n\nVon meinem iPhone gesendet\n\nAm 3.11. schrieb X:", "Bitte austragen", "signature"),
    ("Cancellatemi\nInviato da iPhone", "Cancellatemi", "signature"),
    ("Merci\n\nDe : Press Office <press@example.org>\nEnvoyé : lundi 3 novembre\nÀ : moi\nObjet : CP",
     "Merci", "outlook-header"),
    ("Thanks\n\n---------- Forwarded message ---------\nFrom: x", "Thanks", "original-message"),
    ("Hoi\n\nVan: Press\nVerzonden: maandag\nAan: Jan\nOnderwerp: PB\n\nbody", "Hoi", "outlook-header"),
    ("Ciao\n-----Messaggio originale-----\nDa: x", "Ciao", "original-message"),
    ("Just a line that ends with a colon:\nand more", "Just a line that ends with a colon:\nand more", None),
])
def test_extract_new_text(body, expected, reason):
    found = extract_new_text(body)
    assert (found.text, found.cut_reason) == (expected, reason)


def test_fold_fast_paths_agree_with_the_plain_definition():
    """fold skips NFKD for ASCII and strips the common combining block in one pass; on every
    code point of the Basic Multilingual Plane, and on mixed text, it says what the plain
    definition (NFKD, then drop every combining mark) says."""
    import unicodedata

    from optdesk.classify.words import _LETTERS, fold

    def plain(word: str) -> str:
        text = unicodedata.normalize("NFKD", word.translate(_LETTERS).casefold().translate(_LETTERS))
        return "".join(c for c in text if not unicodedata.combining(c))

    chars = [chr(cp) for cp in range(0x10000) if not 0xD800 <= cp < 0xE000]
    assert [c for c in chars if fold(c) != plain(c)] == []
    for text in ("Łódź Müller ŒUVRE Straße", "e\u0301te\u0301 \u034f x", "Ὀδυσσεύς Ёжик", "ascii `quote`"):
        assert fold(text) == plain(text)


def test_parsed_parts_tell_their_content_type_as_the_stdlib_does():
    """The parts' content type is worked out once, and forgotten when a header changes."""
    import email
    from email.message import Message

    raw = (b"From: a@example.org\nContent-Type: multipart/digest; boundary=b\n\n--b\n\nHi\n"
           b"--b\nContent-Type: TEXT/HTML\n\n<p>x</p>\n--b--\n")
    mail = parse_message(raw)
    plain = email.message_from_bytes(raw)
    types = [p.get_content_type() for p in mail.msg.walk()]
    assert types == [p.get_content_type() for p in plain.walk()]
    assert types[:2] == ["multipart/digest", "message/rfc822"] and types[-1] == "text/html"
    part = mail.msg.get_payload()[1]
    assert isinstance(part, Message)
    part.replace_header("content-type", "text/plain")
    assert part.get_content_type() == "text/plain"
    del part["content-type"]
    assert part.get_content_type() == "message/rfc822"  # a digest's part, by default
    part.set_default_type("text/plain")
    assert part.get_content_type() == "text/plain"
    part["Content-Type"] = "image/png"
    assert part.get_content_type() == "image/png"
    part._headers.append(("Content-Type", "text/x-first-wins"))  # a direct change of the list
    assert part.get_content_type() == "image/png"
    part._headers.insert(0, ("Content-Type", "text/x-first"))
    assert part.get_content_type() == "text/x-first"
