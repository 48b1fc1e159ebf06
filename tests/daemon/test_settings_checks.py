"""Every setting is checked as it is read: a bad value is one line naming the file (or the
variable) and the key, never a traceback and never a value silently taken."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import pytest

from optdesk.errors import ConfigError
from optdesk.settings import _SECTIONS, Settings, load_settings
from optdesk.settings_checks import RULES


def _load(tmp_path, text: str | bytes, env: dict | None = None):
    path = tmp_path / "optdesk.toml"
    if isinstance(text, str):
        path.write_text(text, encoding="utf-8")
    else:
        path.write_bytes(text)
    return load_settings(path, env=env or {})


@pytest.mark.parametrize("value", ["0", "-1", "2.5", "true", '"many"', '""'])
def test_fetch_size_must_be_a_whole_number_of_at_least_one(tmp_path, value):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, f"fetch_size = {value}\n")
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'optdesk.toml'}: fetch_size = ")
    assert "must be a whole number, at least 1" in message and "\n" not in message


def test_a_good_fetch_size_is_taken(tmp_path):
    assert _load(tmp_path, "fetch_size = 25\n").fetch_size == 25


def test_a_config_file_that_is_not_utf8_is_one_line_naming_file_and_line(tmp_path):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, b'db = "store.duckdb"\n# Caf\xe9 de la presse\n')
    assert str(err.value) == (f"config file {tmp_path / 'optdesk.toml'}: line 2: not UTF-8 text "
                              "(byte 0xe9); save the file as UTF-8")


def test_a_utf8_byte_order_mark_is_accepted(tmp_path):
    assert _load(tmp_path, '\ufeffdata_group = "presse"\n').data_group == "presse"


def test_a_directory_as_config_file_is_an_error(tmp_path):
    (tmp_path / "optdesk.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read it"):
        load_settings(tmp_path / "optdesk.toml", env={})


# one bad value for every setting, with the words the error must contain
BAD = {
    "db": ('""', "must not be empty"),
    "mailbox": ('"pop3://x@y"', "must be maildir:PATH"),
    "data_group": (f'"{"g" * 256}"', "at most 255 bytes"),
    "rules_dir": ("3", "must be a string"),
    "poll_interval": ("0", "at least 1"),
    "fetch_size": ("-1", "at least 1"),
    "idle": ('"sometimes"', "true or false"),
    "review_threshold": ("1.5", "at most 1"),
    "undo_grace_hours": ("-1", "at least 0"),
    "secret_env": ('"MY SECRET"', "name of an environment variable"),
    "secret_file": ('""', "must not be empty"),
    "unsubscribe_domain": ('"example..org"', "not a domain name"),
    "folders": ('"optdesk"', "must be a table"),
    "imap.password_env": ('""', "name of an environment variable"),
    "imap.password_file": ("[1]", "must be a string"),
    "imap.oauth2_token_command": ('" "', "must not be empty"),
    "imap.oauth2_token_file": ("1", "must be a string"),
    "imap.ca_file": ('""', "must not be empty"),
    "imap.allow_plaintext": ("1", "true or false"),
    "imap.starttls": ('"maybe"', "true or false"),
    "imap.timeout": ("0", "above 0"),
    "smtp.url": ('""', "must not be empty"),
    "smtp.password_env": ('"1X"', "name of an environment variable"),
    "smtp.password_file": ('""', "must not be empty"),
    "smtp.ca_file": ("true", "must be a string"),
    "smtp.rate_per_second": ("-2", "at least 0"),
    "smtp.timeout": ('"soon"', "above 0"),
    "invitations.sender_name": ("5", "must be a string"),
    "invitations.sender_email": ('"press at example.org"', "not an email address"),
    "invitations.organisation": ("{}", "must be a string"),
    "invitations.reply_domain": ('"-x.example"', "not a domain name"),
    "invitations.cooloff_days": ("-1", "at least 0"),
    "invitations.ttl_days": ("0", "at least 1"),
    "reports.cron": ('""', "must not be empty"),
    "reports.out_dir": ("7", "must be a string"),
    "reports.recipients": ('["boss@", "team@acme.example"]', "not an email address"),
    "reports.period_days": ("0", "at least 1"),
    "reports.trend_periods": ("2.0", "whole number"),
    "complaints.senders": ('["staff@hotmail.com", "fbl@@isp.example"]', "not an email address"),
    "complaints.authserv_ids": ('["mx.example.org; dkim=pass"]', "not an authserv-id"),
    "complaints.require_authentication": ('"no thanks"', "true or false"),
    "public_url": ('"https://x.example/u?t=<1>"', "must not contain"),
    "mailboxes": ('"imap://a@b"', "must be an array of tables"),
    "serve.host": ('""', "must not be empty"),
    "serve.port": ("70000", "1 to 65535"),
    "serve.rate_per_second": ("0", "above 0"),
    "serve.rate_burst": ("0", "at least 1"),
    "serve.max_body_bytes": ("10", "at least 64"),
    "serve.forwarded_allow_ips": ("1", "must be a string"),
}


def _every_setting() -> list[str]:
    out = []
    for f in dataclasses.fields(Settings):
        if f.name == "origins":
            continue
        if f.name in _SECTIONS:
            out += [f"{f.name}.{g.name}" for g in dataclasses.fields(_SECTIONS[f.name])]
        else:
            out.append(f.name)
    return out


def test_every_setting_has_a_check_and_a_bad_value_here():
    keys = _every_setting()
    assert sorted(keys) == sorted(BAD)
    for key in keys:
        section, _, name = key.rpartition(".")
        assert (section or None, name) in RULES, key


@pytest.mark.parametrize("key", sorted(BAD))
def test_every_setting_refuses_a_bad_value_naming_file_and_key(tmp_path, key):
    value, words = BAD[key]
    section, _, name = key.rpartition(".")
    text = f"[{section}]\n{name} = {value}\n" if section else f"{name} = {value}\n"
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert message.startswith(f"{tmp_path / 'optdesk.toml'}: {key} = "), message
    assert words in message and "\n" not in message


def test_unknown_settings_and_folder_kinds_are_named(tmp_path):
    with pytest.raises(ConfigError, match=r"unknown setting 'poll_intervall' \(did you mean "
                                          r"'poll_interval'\?\)"):
        _load(tmp_path, "poll_intervall = 30\n")
    with pytest.raises(ConfigError, match=r"optdesk.toml: unknown setting 'folders.optout'"):
        _load(tmp_path, '[folders]\noptout = "x"\n')
    with pytest.raises(ConfigError, match=r"unknown setting 'origins'"):
        _load(tmp_path, 'origins = "x"\n')


@pytest.mark.parametrize(("name", "words"), [
    ("INBOX", "that is the inbox"),
    ("inbox", "that is the inbox"),
    ("optdesk/", "empty part"),
    ("optdesk//out", "empty part"),
    ("opt*out", "IMAP wildcard"),
    ("opt\\tout", "control character"),
    ("", "empty part"),
])
def test_a_folder_that_cannot_work_is_refused_at_load(tmp_path, name, words):
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, f'[folders]\nopt_out = "{name}"\n')
    assert str(err.value).startswith(f"{tmp_path / 'optdesk.toml'}: folders.opt_out = ")
    assert words in str(err.value)


def test_a_folder_named_like_the_imap_inbox_of_the_url_is_refused(tmp_path):
    text = ('mailbox = "imap://press@127.0.0.1/Press"\n[imap]\nallow_plaintext = true\n'
            '[folders]\nopt_out = "Press"\n')
    with pytest.raises(ConfigError, match=r"optdesk.toml: folders.opt_out: that is the inbox "
                                          r"the daemon reads \(Press\)"):
        _load(tmp_path, text)


def test_cross_checks_name_where_the_setting_came_from(tmp_path):
    with pytest.raises(ConfigError, match=r"^OPTDESK_MAILBOX: mailbox: .* unencrypted"):
        load_settings(env={"OPTDESK_MAILBOX": "imap://press@mail.example.org/INBOX"})
    with pytest.raises(ConfigError, match=r"optdesk.toml: reports.cron '61 7 \* \* mon'"):
        _load(tmp_path, '[reports]\ncron = "61 7 * * mon"\n')
    with pytest.raises(ConfigError, match=r"^OPTDESK_SMTP_URL: smtp.url 'http://x'"):
        load_settings(env={"OPTDESK_SMTP_URL": "http://x"})


def test_variables_are_checked_and_named(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_settings(env={"OPTDESK_POLL_INTERVAL": "0"})
    assert str(err.value) == ('OPTDESK_POLL_INTERVAL: poll_interval = "0": must be a whole '
                              "number, at least 1")
    settings = load_settings(env={"OPTDESK_POLL_INTERVAL": "30", "OPTDESK_REVIEW_THRESHOLD": "0.5"})
    assert settings.poll_interval == 30 and settings.review_threshold == 0.5
    assert settings.origins["poll_interval"] == "OPTDESK_POLL_INTERVAL"


def test_the_command_line_says_it_in_one_line_without_a_traceback(tmp_path):
    (tmp_path / "optdesk.toml").write_text("fetch_size = 0\n", encoding="utf-8")
    done = subprocess.run([sys.executable, "-m", "optdesk", "status", "--no-mailbox"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=60,
                          env={"PATH": "/usr/bin:/bin"})
    assert done.returncode == 2
    assert done.stderr == ("optdesk: error: optdesk.toml: fetch_size = 0: must be a whole "
                           "number, at least 1\n")
    assert not (tmp_path / "data").exists()


def test_a_renamed_setting_says_its_new_name(tmp_path):
    from optdesk.errors import ConfigError
    from optdesk.settings import load_settings

    config = tmp_path / "optdesk.toml"
    config.write_text("batch_size = 100\n")
    with pytest.raises(ConfigError, match="'batch_size' is now called 'fetch_size'"):
        load_settings(str(config))
