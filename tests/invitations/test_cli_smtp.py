"""`optdesk invite` against a real SMTP server (aiosmtpd on 127.0.0.1)."""

from __future__ import annotations

import socket

import pytest

from optdesk.cli import main
from optdesk.tokens import verify_token

from .conftest import GROUP, KEY


@pytest.fixture
def cli(inv_store, tmp_path, monkeypatch, smtp_sink):
    """Run `optdesk --db … invite …` in-process; returns (run, sink)."""
    sink, url = smtp_sink
    config = tmp_path / "optdesk.toml"
    config.write_text(
        '[invitations]\nreply_domain = "reply.example"\norganisation = "Acme PR"\n'
        'sender_name = "Acme Press"\nsender_email = "press@acme.example"\n'
        "[smtp]\nrate_per_second = 200.0\n", encoding="utf-8")
    monkeypatch.setenv("OPTDESK_CONFIG", str(config))
    monkeypatch.setenv("OPTDESK_SECRET", KEY.decode())
    monkeypatch.setenv("OPTDESK_SMTP_URL", url)
    db = str(inv_store.path)
    inv_store.release()

    def run(*args: str) -> int:
        return main(["--db", db, *args])

    return run, sink


def invite(*extra: str, contacts=(1, 2, 3, 6)) -> list[str]:
    args = ["invite", "--data-group", GROUP]
    for c in contacts:
        args += ["--contact", str(c)]
    return args + list(extra)


def test_invite_sends_one_message_per_contact(cli, inv_store, capsys):
    run, sink = cli
    code = run(*invite("--sender-name", "Zoë Martin", "--sender-email", "zoe@acme.example",
                       "--subject", "Un petit mot", "--comments", "Nous avons changé.",
                       "--language", "fr"))
    out, err = capsys.readouterr()
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith("contact 1: sent to a1@news.example (invitation ")
    assert lines[1] == "contact 2: skipped: opted out by a spam complaint: never invited"
    assert lines[2] == "contact 3: skipped: not opted out in data group 'g'"
    assert lines[3].startswith("contact 6: sent to a6@news.example")
    assert "2 sent, 2 skipped" in err
    assert [m["rcpt_tos"] for m in sink.messages] == [["a1@news.example"], ["a6@news.example"]]
    msg = sink.messages[0]["msg"]
    assert msg["From"].addresses[0].display_name == "Zoë Martin"
    assert msg["Subject"] == "Un petit mot"
    assert "Nous avons changé." in msg.get_content() and "« OUI »" in msg.get_content()
    token = msg["Reply-To"].addresses[0].username.removeprefix("optin+")
    assert verify_token(KEY, token, "optin", email="a1@news.example").contact_id == 1
    rows = {r["contact_id"]: r for r in inv_store.invitations(GROUP).iter_rows(named=True)}
    assert set(rows) == {1, 6} and {r["status"] for r in rows.values()} == {"sent"}
    assert inv_store.invitation_for_message_id(msg["Message-ID"])["contact_id"] == 1
    assert inv_store.events(kinds=["invitation_sent"]).height == 2


def test_second_run_is_stopped_by_the_cooloff(cli, capsys):
    run, sink = cli
    assert run(*invite(contacts=(1,))) == 0
    assert run(*invite(contacts=(1,))) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1].startswith("contact 1: skipped: already invited on")
    assert len(sink.messages) == 1


def test_dry_run_sends_and_writes_nothing(cli, inv_store, capsys):
    run, sink = cli
    assert run(*invite("--dry-run")) == 0
    out, err = capsys.readouterr()
    assert "contact 1: would send to a1@news.example" in out and "dry run: " in err
    assert sink.messages == [] and inv_store.invitations(GROUP).height == 0


@pytest.mark.parametrize("option, value", [
    ("--sender-name", "Acme\r\nBcc: everyone@example.org"),
    ("--sender-email", "press@acme.example\nBcc: everyone@example.org"),
    ("--subject", "Hello\nBcc: everyone@example.org"),
    ("--subject", "Hello\rthere"),
])
def test_header_injection_exits_non_zero_sending_nothing(cli, inv_store, capsys, option, value):
    run, sink = cli
    code = run(*invite(option, value))
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert "refused" in err and option.removeprefix("--").replace("-", " ") in err
    assert sink.messages == [] and inv_store.invitations(GROUP).height == 0
    assert inv_store.events(kinds=["invitation_sent"]).height == 0


def test_unknown_language_exits_non_zero(cli, capsys):
    run, sink = cli
    assert run(*invite("--language", "xx")) == 2
    assert "language 'xx'" in capsys.readouterr().err and sink.messages == []


def test_unreachable_server_fails_each_contact(cli, inv_store, monkeypatch, capsys):
    run, sink = cli
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens there once closed
    monkeypatch.setenv("OPTDESK_SMTP_URL", f"smtp://127.0.0.1:{port}")
    assert run(*invite()) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("contact 1: failed to a1@news.example: cannot reach")
    assert inv_store.invitations(GROUP).height == 0


def test_preview_and_listing(cli, capsys):
    run, sink = cli
    assert run(*invite("--preview", "2", "--language", "de", contacts=(6, 2))) == 0
    out = capsys.readouterr().out
    assert "=== contact 6" in out and "Guten Tag Élodie Six" in out
    assert "=== contact 2: skipped: opted out by a spam complaint" in out
    assert sink.messages == []
    run(*invite(contacts=(6,)))
    capsys.readouterr()
    assert run("invitations", "--data-group", GROUP) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("invitation 1: contact 6 <a6@news.example> sent ")
