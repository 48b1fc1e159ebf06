"""Seed a demo Maildir with answers from the demo contacts' real addresses.

One message of every kind the daemon handles, so ``make run`` shows all of them: opt-out
replies in seven languages (quoted text below the reply, as mail clients write it), a
List-Unsubscribe mail with a signed token, an opt-out from an address no contact owns (review),
a negated "don't remove me" (human), out-of-office notices with and without RFC 3834 headers,
a hard bounce, a soft bounce (mailbox full), a sender-side refusal (5.7.1: a sending incident), a
spam complaint (RFC 5965 ARF) and plain human replies.
"""

from __future__ import annotations

import datetime as dt
import os
import pathlib
import time
from collections.abc import Callable, Iterator
from email.utils import format_datetime

from optdesk.settings import Settings, signing_key
from optdesk.tokens import make_token

OUR = "press@example.org"
RELEASE = "Press release: Example Corp opens its new research centre"
ORIGINAL = ("> Example Corp today opened its new research centre in Lyon.\r\n"
            "> Contact: press@example.org\r\n")

OPT_OUTS = [
    ("en", "Please remove me from your mailing list.", "On Mon, 23 Nov 2026, Press Office wrote:"),
    ("fr", "Bonjour, merci de me désinscrire de votre liste de diffusion.",
     "Le lun. 23 nov. 2026, Service de presse a écrit :"),
    ("de", "Bitte tragen Sie mich aus Ihrem Verteiler aus. Danke.",
     "Am Mo., 23. Nov. 2026 schrieb Pressestelle:"),
    ("es", "Por favor, denme de baja de esta lista.", "El lun, 23 nov 2026, Oficina de prensa escribió:"),
    ("it", "Cancellatemi dalla vostra mailing list, grazie.",
     "Il giorno lun 23 nov 2026, Ufficio stampa ha scritto:"),
    ("nl", "Graag uitschrijven, ik wil deze berichten niet meer ontvangen.",
     "Op ma 23 nov. 2026 schreef Persdienst:"),
    ("pt", "Por favor, removam-me da vossa lista de distribuição.",
     "Em seg., 23 de nov. de 2026, Assessoria de imprensa escreveu:"),
]


def _when(n: int) -> str:
    base = dt.datetime(2026, 11, 24, 9, 0, tzinfo=dt.UTC)
    return format_datetime(base + dt.timedelta(minutes=7 * n))


def _mail(n: int, sender: str, subject: str, body: str, *, to: str = OUR,
          extra: str = "", ctype: str = 'text/plain; charset="utf-8"') -> bytes:
    head = (f"From: {sender}\r\nTo: {to}\r\nSubject: {subject}\r\nDate: {_when(n)}\r\n"
            f"Message-ID: <demo-{n}@optdesk.example>\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: {ctype}\r\nContent-Transfer-Encoding: 8bit\r\n{extra}")
    return (head + "\r\n" + body).encode("utf-8")


def _reply(n: int, who: tuple[str, str], text: str, attribution: str, subject: str = RELEASE) -> bytes:
    name, address = who
    body = f"{text}\r\n\r\n{name}\r\n\r\n{attribution}\r\n{ORIGINAL}"
    return _mail(n, f"{name} <{address}>", f"Re: {subject}", body,
                 extra=f"In-Reply-To: <release-{n}@example.org>\r\n")


def _dsn(n: int, failed: str, status: str, diagnostic: str, action: str = "failed") -> bytes:
    boundary = f"dsn-{n}"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        f"This is the mail system at host mx.example.net.\r\n\r\n"
        f"I'm sorry to have to inform you that your message could not\r\n"
        f"be delivered to one or more recipients.\r\n\r\n<{failed}>: {diagnostic}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/delivery-status\r\n\r\n"
        f"Reporting-MTA: dns; mx.example.net\r\n\r\n"
        f"Final-Recipient: rfc822; {failed}\r\nOriginal-Recipient: rfc822;{failed}\r\n"
        f"Action: {action}\r\nStatus: {status}\r\n"
        f"Diagnostic-Code: smtp; {diagnostic}\r\n\r\n"
        f"--{boundary}\r\nContent-Type: text/rfc822-headers\r\n\r\n"
        f"From: {OUR}\r\nTo: {failed}\r\nSubject: {RELEASE}\r\n\r\n--{boundary}--\r\n"
    )
    return _mail(n, "MAILER-DAEMON@mx.example.net (Mail Delivery System)",
                 "Undelivered Mail Returned to Sender", body, extra="Return-Path: <>\r\n",
                 ctype=f'multipart/report; report-type=delivery-status; boundary="{boundary}"')


def _arf(n: int, recipient: str) -> bytes:
    boundary = f"arf-{n}"
    body = (
        f"--{boundary}\r\nContent-Type: text/plain\r\n\r\n"
        f"This is an email abuse report for an email message received from IP 192.0.2.10.\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/feedback-report\r\n\r\n"
        f"Feedback-Type: abuse\r\nUser-Agent: DemoFBL/1.0\r\nVersion: 1\r\n"
        f"Original-Rcpt-To: {recipient}\r\nSource-IP: 192.0.2.10\r\n\r\n"
        f"--{boundary}\r\nContent-Type: message/rfc822\r\n\r\n"
        f"From: {OUR}\r\nTo: {recipient}\r\nSubject: {RELEASE}\r\n"
        f"Message-ID: <release-{n}@example.org>\r\n\r\nExample Corp today opened...\r\n"
        f"\r\n--{boundary}--\r\n"
    )
    return _mail(n, "Feedback Loop <fbl@isp.example.net>", "Abuse report", body,
                 ctype=f'multipart/report; report-type=feedback-report; boundary="{boundary}"')


def demo_messages(people: list[tuple[int, str, str]], key: bytes, domain: str,
                  data_group: str = "demo") -> Iterator[bytes]:
    """The demo mail. ``people``: (contact_id, name, address) of at least 16 demo contacts."""
    who = [(name, addr) for _, name, addr in people]
    n = 0
    for i, (_, text, attribution) in enumerate(OPT_OUTS):
        n += 1
        yield _reply(n, who[i], text, attribution)
    cid, name, addr = people[7]
    token = make_token(key, "unsubscribe", cid, data_group, addr)
    yield _mail(n + 1, f"{name} <{addr}>", "unsubscribe", "unsubscribe\r\n",
                to=f"unsubscribe+{token}@{domain}")
    yield _reply(n + 2, ("Sam Stranger", "sam.stranger@freelance.example"),
                 "Please unsubscribe me from this list.", "On Mon, 23 Nov 2026, Press Office wrote:")
    yield _reply(n + 3, who[8], "Please don't remove me, I read every release! Could you send "
                 "the photos in high resolution?", "On Mon, 23 Nov 2026, Press Office wrote:")
    yield _mail(n + 4, f"{who[9][0]} <{who[9][1]}>", f"Automatic reply: {RELEASE}",
                "I am out of the office with no access to email. I will be back on "
                "3 December 2026.\r\n", extra="Auto-Submitted: auto-replied\r\n")
    yield _mail(n + 5, f"{who[10][0]} <{who[10][1]}>", f"Absence du bureau : {RELEASE}",
                "Bonjour, je suis absente du bureau jusqu'au 7 décembre 2026 inclus.\r\n")
    hard, full = people[11][2], people[12][2]
    yield _dsn(n + 6, hard, "5.1.1", f"550 5.1.1 <{hard}>: Recipient address rejected: "
               "User unknown in virtual mailbox table")
    yield _dsn(n + 7, full, "4.2.2", f"452 4.2.2 <{full}>: Mailbox full, quota exceeded",
               action="delayed")
    yield _dsn(n + 8, people[13][2], "5.7.1", "550 5.7.1 Service unavailable; client host "
               "[192.0.2.10] blocked using zen.spamhaus.org")
    yield _arf(n + 9, people[14][2])
    yield _reply(n + 10, who[15], "Thanks! Could I get an interview with the director next "
                 "week?", "On Mon, 23 Nov 2026, Press Office wrote:")
    yield _reply(n + 11, who[0], "Great news, I will cover it in Friday's edition.",
                 "On Tue, 24 Nov 2026, Press Office wrote:", subject="Research centre follow-up")


def demo_people(store, data_group: str = "demo", wanted: int = 16) -> list[tuple[int, str, str]]:
    """Demo contacts not opted out, with their primary address: (contact_id, name, address)."""
    people = [tuple(r) for r in store.sample_contacts(data_group, wanted).iter_rows()]
    if len(people) < wanted:
        raise ValueError(f"the store has fewer than {wanted} contacts in {data_group!r} "
                         "who are not opted out; run `optdesk init --demo` first")
    return people


def write_maildir(path: pathlib.Path, messages: list[bytes]) -> int:
    """Deliver messages into ``path/new`` as a mail server would (tmp/ then rename)."""
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    for i, data in enumerate(messages):
        name = f"{time.time_ns()}.M{i}P{os.getpid()}.optdesk-demo"
        tmp = path / "tmp" / name
        tmp.write_bytes(data)
        os.rename(tmp, path / "new" / name)
    return len(messages)


def seed_demo_mailbox(path: str | os.PathLike, store, settings: Settings,
                      say: Callable[[str], None] = print) -> int:
    """Create the demo Maildir at ``path``; returns the number of messages written."""
    people = demo_people(store, settings.data_group)
    store.release()
    messages = list(demo_messages(people, signing_key(settings), settings.unsubscribe_domain,
                                  settings.data_group))
    count = write_maildir(pathlib.Path(path), messages)
    say(f"{path}: {count} demo messages from {len(people)} demo contacts")
    return count
