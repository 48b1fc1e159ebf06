"""optdesk.outgoing.smtp against a real aiosmtpd server on 127.0.0.1: plain, STARTTLS, implicit TLS, login."""

from __future__ import annotations

import time
from email import policy
from email.message import EmailMessage

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from optdesk.errors import ConfigError, HeaderInjection, SmtpAuthError, SmtpError, SmtpTLSError
from optdesk.outgoing.smtp import (
    SmtpSender,
    build_message,
    parse_smtp_url,
    safe_address,
    safe_header,
)
from optdesk.settings import SmtpSettings

PW = {"OPTDESK_SMTP_PASSWORD": "s3cret"}


def _msg(n: int = 0, to: str = "ed@paper.example") -> EmailMessage:
    return build_message(sender="Press Office <press@acme.example>", to=[to],
                         subject=f"Report {n} — été", text=f"body {n}", html=f"<p>body {n}</p>")


def test_plain_batch_reuses_one_session(smtp_server):
    server = smtp_server("plain")
    with SmtpSender(SmtpSettings(url=server.url, rate_per_second=0)) as smtp:
        ids = [smtp.send(_msg(i)) for i in range(3)]
    assert server.recorder.sessions == 1
    assert [m["message"]["Message-ID"] for m in server.messages] == ids
    got = server.messages[0]["message"]
    assert got["Subject"] == "Report 0 — été"
    assert got.get_body(("plain",)).get_content().strip() == "body 0"
    assert got.get_body(("html",)).get_content().strip() == "<p>body 0</p>"
    assert server.messages[0]["rcpt_tos"] == ["ed@paper.example"]
    assert server.messages[0]["mail_from"] == "press@acme.example"


def test_starttls_with_self_signed_cert_and_login(smtp_server):
    server = smtp_server("starttls", users={"reports": "s3cret"})
    settings = SmtpSettings(url=server.url, ca_file=server.ca_file, rate_per_second=0)
    with SmtpSender(settings, env=PW) as smtp:
        smtp.send(_msg())
    (got,) = server.messages
    assert got["tls"] and got["login"] == "reports"


def test_implicit_tls_with_login(smtp_server):
    server = smtp_server("tls", users={"reports": "s3cret"})
    settings = SmtpSettings(url=server.url, ca_file=server.ca_file, rate_per_second=0)
    with SmtpSender(settings, env=PW) as smtp:
        smtp.send(_msg())
    assert server.messages[0]["tls"] and server.messages[0]["login"] == "reports"


def test_password_from_file(smtp_server, tmp_path):
    server = smtp_server("starttls", users={"reports": "from-file"})
    secret = tmp_path / "pw"
    secret.write_text("from-file\n")
    settings = SmtpSettings(url=server.url, ca_file=server.ca_file, password_file=str(secret))
    with SmtpSender(settings, env={}) as smtp:
        smtp.send(_msg())
    assert len(server.messages) == 1


@pytest.mark.parametrize("security", ["starttls", "tls"])
def test_unverified_certificate_is_refused(smtp_server, security):
    server = smtp_server(security, users={"reports": "s3cret"})
    with pytest.raises(SmtpTLSError, match="TLS failed"):
        SmtpSender(SmtpSettings(url=server.url), env=PW).connect()
    assert server.messages == []


def test_wrong_or_missing_password(smtp_server):
    server = smtp_server("starttls", users={"reports": "s3cret"})
    settings = SmtpSettings(url=server.url, ca_file=server.ca_file)
    with pytest.raises(SmtpAuthError, match="refused the login of reports"):
        SmtpSender(settings, env={"OPTDESK_SMTP_PASSWORD": "wrong"}).connect()
    with pytest.raises(SmtpAuthError, match="OPTDESK_SMTP_PASSWORD"):
        SmtpSender(settings, env={}).connect()


def test_starttls_required_but_not_offered(smtp_server):
    server = smtp_server("plain")
    url = server.url.replace("smtp://", "smtp+starttls://")
    with pytest.raises(SmtpTLSError, match="does not offer STARTTLS"):
        SmtpSender(SmtpSettings(url=url)).connect()


def test_unreachable_server():
    with pytest.raises(SmtpError, match="cannot reach"):
        SmtpSender(SmtpSettings(url="smtp://127.0.0.1:1", timeout=2)).connect()


def test_rate_limit(smtp_server):
    server = smtp_server("plain")
    with SmtpSender(SmtpSettings(url=server.url, rate_per_second=20)) as smtp:
        t0 = time.monotonic()
        for i in range(5):
            smtp.send(_msg(i))
        elapsed = time.monotonic() - t0
    assert elapsed >= 4 / 20 - 0.01
    assert len(server.messages) == 5


@pytest.mark.parametrize("bad", ["Hi\r\nBcc: victim@x.example", "Hi\nX: y", "Hi\rthere", "a\x00b"])
def test_header_injection_refused_when_building(bad):
    with pytest.raises(HeaderInjection, match="Subject"):
        build_message(sender="p@acme.example", to="e@x.example", subject=bad, text="t")
    with pytest.raises(HeaderInjection, match="From"):
        build_message(sender=f"P {bad} <p@acme.example>", to="e@x.example", subject="s", text="t")
    with pytest.raises(HeaderInjection):
        safe_header(bad, "X-Anything")


def test_header_injection_refused_when_sending(smtp_server):
    server = smtp_server("plain")
    msg = EmailMessage(policy=policy.compat32)
    msg["From"] = "p@acme.example"
    msg["To"] = "e@x.example"
    msg["Subject"] = "ok\r\nBcc: victim@x.example"
    msg.set_payload("t")
    with SmtpSender(SmtpSettings(url=server.url)) as smtp, pytest.raises(HeaderInjection):
        smtp.send(msg)
    assert server.messages == []


def test_safe_address():
    assert safe_address("Ann <a@b.example>", "From") == "Ann <a@b.example>"
    for bad in ("not an address", "a@b.example, c@d.example", "a@b.example\r\nBcc: x@y"):
        with pytest.raises(HeaderInjection):
            safe_address(bad, "From")


def test_parse_urls():
    assert parse_smtp_url("smtp://127.0.0.1:2525") == parse_smtp_url("smtp://127.0.0.1:2525/")
    t = parse_smtp_url("smtp+starttls://user%40corp@mail.example")
    assert (t.security, t.host, t.port, t.username) == ("starttls", "mail.example", 587, "user@corp")
    assert parse_smtp_url("smtps://u@h.example").port == 465
    for bad in ("http://h", "smtp://u:pw@h", "smtp://", "smtp://h:99999"):
        with pytest.raises(ConfigError):
            parse_smtp_url(bad)


def test_no_password_in_clear_to_a_remote_host():
    with pytest.raises(ConfigError, match="without TLS"):
        SmtpSender(SmtpSettings(url="smtp://user@mail.example:25"))
    SmtpSender(SmtpSettings(url="smtp://user@127.0.0.1:25"))  # loopback relay is fine


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=60))
def test_safe_address_accepts_or_refuses_cleanly(text):
    try:
        value = safe_address(text, "From")
    except HeaderInjection:
        return
    assert "\r" not in value and "\n" not in value
    build_message(sender=value, to="e@x.example", subject="s", text="t")
