"""The token signing key: at least 32 bytes or refused at start-up, never an empty key for
signing or verifying, and read-only commands create no key file ("no key" instead)."""

from __future__ import annotations

import base64
import json
import os
import pathlib
import stat
import subprocess
import sys

import pytest

from optdesk import tokens
from optdesk.cli import main
from optdesk.errors import BadToken, ConfigError
from optdesk.settings import REPO_ROOT, Settings, find_signing_key, signing_key
from optdesk.store import Store

GOOD = b"a-token-signing-key-of-32-bytes!"
assert len(GOOD) == 32


@pytest.fixture(autouse=True)
def _no_key_in_the_environment(monkeypatch):
    monkeypatch.delenv("OPTDESK_SECRET", raising=False)
    monkeypatch.delenv("OPTDESK_CONFIG", raising=False)
    monkeypatch.setenv("OPTDESK_RULES_DIR", str(REPO_ROOT / "rules"))


def test_an_empty_key_file_is_refused(tmp_path):
    (tmp_path / "secret.key").write_text("\n")
    settings = Settings(secret_file=str(tmp_path / "secret.key"))
    for load in (find_signing_key, signing_key):
        with pytest.raises(ConfigError) as err:
            load(settings, env={})
        assert str(err.value).startswith(f"secret file {tmp_path / 'secret.key'}: the token "
                                         "signing key is 0 bytes; at least 32 are needed")


@pytest.mark.parametrize("secret", ["x", "", "k" * 31])
def test_a_short_variable_is_refused(tmp_path, secret):
    settings = Settings(secret_file=str(tmp_path / "secret.key"))
    with pytest.raises(ConfigError, match=rf"^OPTDESK_SECRET: the token signing key is "
                                          rf"{len(secret)} bytes; at least 32"):
        signing_key(settings, env={"OPTDESK_SECRET": secret})
    assert not (tmp_path / "secret.key").exists()


def test_keys_of_32_bytes_are_taken_from_the_variable_or_the_file(tmp_path):
    settings = Settings(secret_file=str(tmp_path / "secret.key"))
    assert signing_key(settings, env={"OPTDESK_SECRET": GOOD.decode()}) == GOOD
    (tmp_path / "secret.key").write_bytes(GOOD + b"\n")
    assert signing_key(settings, env={}) == GOOD


def test_a_missing_key_is_created_only_when_asked(tmp_path):
    settings = Settings(secret_file=str(tmp_path / "data" / "secret.key"))
    assert find_signing_key(settings, env={}) is None
    with pytest.raises(ConfigError, match="no token signing key: set OPTDESK_SECRET or write"):
        signing_key(settings, env={}, create=False)
    assert not (tmp_path / "data").exists()
    key = signing_key(settings, env={})
    path = tmp_path / "data" / "secret.key"
    assert len(key) == 64 and bytes.fromhex(key.decode())
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert signing_key(settings, env={}) == key


def _forged_with_empty_key(token: str) -> str:
    raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8))
    body = raw[:-tokens._TAG]
    return base64.b32encode(body + tokens._tag(b"", body)).decode().rstrip("=").lower()


def test_tokens_are_never_signed_or_verified_with_an_empty_key():
    with pytest.raises(ConfigError, match="empty key"):
        tokens.make_token(b"", "unsubscribe", 1, "demo", "a@example.org")
    forged = _forged_with_empty_key(tokens.make_token(GOOD, "unsubscribe", 1, "demo",
                                                      "a@example.org"))
    with pytest.raises(BadToken) as err:
        tokens.verify_token(b"", forged, "unsubscribe")
    assert err.value.reason == "no key"
    with pytest.raises(BadToken, match="bad signature"):
        tokens.verify_token(GOOD, forged, "unsubscribe")
    payload = tokens.verify_token(GOOD, tokens.make_token(GOOD, "optin", 1, "demo", "a@x.org"),
                                  "optin")
    assert tokens.token_matches_email(b"", payload, "a@x.org") is False


def _unsubscribe_mail(key: bytes = GOOD) -> bytes:
    token = tokens.make_token(key, "unsubscribe", 1, "demo", "alice@example.org")
    return (f"From: Alice <alice@example.org>\r\nTo: unsubscribe+{token}@example.org\r\n"
            "Subject: unsubscribe\r\nMessage-ID: <u1@test.example>\r\n\r\nunsubscribe\r\n"
            ).encode()


@pytest.fixture
def box(tmp_path, desk, monkeypatch) -> pathlib.Path:
    """A Maildir with one List-Unsubscribe message; the store of conftest's ``desk``."""
    from optdesk.demo_mailbox import write_maildir

    desk.release()
    monkeypatch.chdir(tmp_path)
    write_maildir(tmp_path / "box", [_unsubscribe_mail()])
    return tmp_path / "box"


RUN = ["--db", "desk.duckdb", "--mailbox", "maildir:box", "--data-group", "demo", "run", "--once"]


def _nothing_applied(tmp_path: pathlib.Path) -> None:
    store = Store(tmp_path / "desk.duckdb")
    assert store.ledger().height == 0
    assert store.events(kinds=["opt_out"]).height == 0
    store.release()
    assert len(os.listdir(tmp_path / "box" / "new")) == 1


def test_run_refuses_a_one_byte_key_at_start_up(box, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("OPTDESK_SECRET", "x")
    assert main(RUN) == 2
    err = capsys.readouterr().err
    assert err.startswith("optdesk: error: OPTDESK_SECRET: the token signing key is 1 bytes")
    assert err.count("\n") == 1
    _nothing_applied(tmp_path)


def test_run_refuses_an_empty_key_file_at_start_up(box, tmp_path, capsys):
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "secret.key").write_bytes(b"")
    assert main(RUN) == 2
    assert ("secret file data/secret.key: the token signing key is 0 bytes"
            in capsys.readouterr().err)
    _nothing_applied(tmp_path)


def test_with_the_right_key_the_token_opts_out(box, tmp_path, monkeypatch):
    monkeypatch.setenv("OPTDESK_SECRET", GOOD.decode())
    assert main(RUN) == 0
    store = Store(tmp_path / "desk.duckdb")
    assert store.ledger()["status"].to_list() == ["applied"]
    store.release()


def test_a_dry_run_creates_no_key_and_says_no_key(box, tmp_path, capsys):
    assert main(RUN + ["--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "review" in out and "dry run:" in out
    assert not (tmp_path / "data").exists()


def test_a_real_run_creates_the_key_file_once(box, tmp_path):
    assert main(RUN) == 0
    assert len((tmp_path / "data" / "secret.key").read_text().strip()) == 64


def _optdesk(*args: str, cwd: pathlib.Path) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("OPTDESK_SECRET", "OPTDESK_CONFIG")}
    return subprocess.run([sys.executable, "-m", "optdesk", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)


def test_classify_creates_nothing_and_reports_no_key(tmp_path):
    (tmp_path / "m.eml").write_bytes(_unsubscribe_mail())
    done = _optdesk("classify", "--json", "m.eml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert sorted(os.listdir(tmp_path)) == ["m.eml"]  # no data/secret.key
    decision = json.loads(done.stdout)
    assert decision["rule"] == "list-unsubscribe-unverified"  # to review, nothing applied
    assert decision["evidence"]["token_rejected"][0]["reason"] == "no key"
    assert "mail to the unsubscribe address with a bad token" in (
        decision["evidence"]["review_reasons"])
    assert "no token signing key" in done.stderr

    rules_test = _optdesk("rules", "test", "m.eml", cwd=tmp_path)
    assert rules_test.returncode == 0 and "no key" in rules_test.stdout
    assert sorted(os.listdir(tmp_path)) == ["m.eml"]


def test_list_unsubscribe_without_a_key_is_an_error_and_creates_nothing(tmp_path):
    done = _optdesk("list-unsubscribe", "--contact", "1", "--data-group", "demo",
                    "--email", "a@example.org", cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.startswith("optdesk: error: no token signing key: set OPTDESK_SECRET")
    assert os.listdir(tmp_path) == []
