"""Build reply messages for the classifier tests: a body written by hand, wrapped in a quoting
style of a real client (plain or HTML-only), with or without our press release quoted below.

Every quoted original carries our footer ("To unsubscribe, reply …"), so a test also shows that a
quoted footer is never read as a request.
"""

from __future__ import annotations

import html
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime

ORIGINAL = (
    "Dear journalist,\n"
    "please find below our press release about the new widget factory.\n\n"
    "Best regards,\nThe press office\n\n"
    "You received this press release because you are on the media list of Example Communications.\n"
    'To unsubscribe, reply with "unsubscribe" or click here: https://example.org/u/abc\n'
)
ORIGINAL_SUBJECT = "Press release: new widget factory opens in Lyon"

ATTRIBUTION = {
    "en": "On Mon, 3 Nov 2026 at 10:00, Press Office <press@example.org> wrote:",
    "fr": "Le lun. 3 nov. 2026 à 10:00, Press Office <press@example.org> a écrit :",
    "de": "Am Mo., 3. Nov. 2026 um 10:00 Uhr schrieb Press Office <press@example.org>:",
    "es": "El lun, 3 nov 2026 a las 10:00, Press Office (<press@example.org>) escribió:",
    "it": "Il giorno lun 3 nov 2026 alle ore 10:00 Press Office <press@example.org> ha scritto:",
    "nl": "Op ma 3 nov. 2026 om 10:00 schreef Press Office <press@example.org>:",
    "pt": "Em seg., 3 de nov. de 2026 às 10:00, Press Office <press@example.org> escreveu:",
}
OUTLOOK = {  # From, Sent, To, Subject
    "en": ("From", "Sent", "To", "Subject"),
    "fr": ("De", "Envoyé", "À", "Objet"),
    "de": ("Von", "Gesendet", "An", "Betreff"),
    "es": ("De", "Enviado el", "Para", "Asunto"),
    "it": ("Da", "Inviato", "A", "Oggetto"),
    "nl": ("Van", "Verzonden", "Aan", "Onderwerp"),
    "pt": ("De", "Enviado", "Para", "Assunto"),
}
ORIGINAL_MARKER = {
    "en": "-----Original Message-----",
    "fr": "-----Message d'origine-----",
    "de": "-----Ursprüngliche Nachricht-----",
    "es": "-----Mensaje original-----",
    "it": "-----Messaggio originale-----",
    "nl": "-----Oorspronkelijk bericht-----",
    "pt": "-----Mensagem original-----",
}
SIGNATURE = "\n\n-- \nJane Doe\nEditor, Le Quotidien\n+33 1 23 45 67 89\n"

PLAIN_STYLES = ("bare", "gt", "outlook", "original-message", "signature", "inline")
HTML_STYLES = ("html-gmail", "html-outlook", "html-apple")
STYLES = PLAIN_STYLES + HTML_STYLES


def _quoted_gt() -> str:
    return "\n".join("> " + line if line else ">" for line in ORIGINAL.splitlines())


def _outlook_block(lang: str) -> str:
    f, s, t, subj = OUTLOOK[lang]
    return (f"________________________________\n{f}: Press Office <press@example.org>\n"
            f"{s}: Monday, 3 November 2026 10:00\n{t}: jane.doe@example.com\n"
            f"{subj}: {ORIGINAL_SUBJECT}\n\n{ORIGINAL}")


def plain_body(text: str, lang: str, style: str) -> str:
    """The reply's text/plain body in one quoting style."""
    if style == "bare":
        return text + "\n"
    if style == "gt":
        return f"{text}\n\n{ATTRIBUTION[lang]}\n{_quoted_gt()}\n"
    if style == "outlook":
        return f"{text}\n\n{_outlook_block(lang)}"
    if style == "original-message":
        f, s, t, subj = OUTLOOK[lang]
        return (f"{text}\n\n{ORIGINAL_MARKER[lang]}\n{f}: Press Office\n{s}: 3.11.2026\n"
                f"{subj}: {ORIGINAL_SUBJECT}\n\n{ORIGINAL}")
    if style == "signature":
        return f"{text}{SIGNATURE}\n{ATTRIBUTION[lang]}\n{_quoted_gt()}\n"
    if style == "inline":  # the answer sits between quoted lines, footer quoted at the end
        quoted = _quoted_gt().splitlines()
        return "\n".join(quoted[:2] + ["", text, ""] + quoted[2:]) + "\n"
    raise ValueError(style)


def html_body(text: str, lang: str, style: str) -> str:
    """An HTML-only body in the markup of Gmail, Outlook or Apple Mail."""
    mine = "".join(f"<div>{html.escape(line) or '<br>'}</div>" for line in text.splitlines())
    original = "".join(f"<p>{html.escape(line)}</p>" for line in ORIGINAL.splitlines() if line)
    if style == "html-gmail":
        return (f"<div dir=\"ltr\">{mine}</div><br><div class=\"gmail_quote\">"
                f"<div dir=\"ltr\" class=\"gmail_attr\">{html.escape(ATTRIBUTION[lang])}<br></div>"
                f"<blockquote class=\"gmail_quote\" style=\"margin:0 0 0 .8ex\">{original}"
                "</blockquote></div>")
    if style == "html-outlook":
        f, s, t, subj = OUTLOOK[lang]
        return (f"<html><head><style>p {{margin:0}}</style></head><body>{mine}"
                "<div id=\"appendonsend\"></div><hr style=\"display:inline-block;width:98%\">"
                f"<div id=\"divRplyFwdMsg\" dir=\"ltr\"><b>{f}:</b> Press Office<br><b>{s}:</b> "
                f"Monday<br><b>{subj}:</b> {ORIGINAL_SUBJECT}</div><div>{original}</div>"
                "</body></html>")
    if style == "html-apple":
        return (f"<html><body>{mine}<div><br><blockquote type=\"cite\"><div>"
                f"{html.escape(ATTRIBUTION[lang])}</div>{original}</blockquote></div></body></html>")
    raise ValueError(style)


def message(
    body: str,
    *,
    subject: str = "Re: " + ORIGINAL_SUBJECT,
    sender: str = "Jane Doe <Jane.Doe@Example.com>",
    to: str = "Press Office <press@example.org>",
    headers: dict[str, str] | None = None,
    html_only: bool = False,
    date: datetime | None = None,
) -> bytes:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    msg["Subject"] = subject
    msg["Date"] = format_datetime(date or datetime(2026, 11, 4, 9, 30, tzinfo=UTC))
    msg["Message-ID"] = "<reply-1@mail.example.com>"
    msg["In-Reply-To"] = "<pr-1@example.org>"
    for key, value in (headers or {}).items():
        msg[key] = value
    if html_only:
        msg.set_content(body, subtype="html")
    else:
        msg.set_content(body)
    return msg.as_bytes()


def reply(text: str, lang: str, style: str, **kwargs) -> bytes:
    """A reply with ``text`` as the new part, quoted in ``style`` (plain or HTML-only)."""
    if style.startswith("html-"):
        return message(html_body(text, lang, style), html_only=True, **kwargs)
    return message(plain_body(text, lang, style), **kwargs)
