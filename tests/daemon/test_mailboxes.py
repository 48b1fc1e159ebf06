"""[[mailboxes]]: several mailboxes, each with its data group, polled by one daemon process.

Two real Dovecot mailboxes (one on a server of its own that is down at first); a bad entry in
optdesk.toml is one line naming the entry by index and name; the one ``mailbox`` still works."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from fixtures.serve import SECRET, OptdeskProcess, reply_mail
from optdesk.demo_mailbox import demo_people
from optdesk.errors import ConfigError
from optdesk.mailbox_settings import mailboxes
from optdesk.settings import load_settings
from optdesk.store import Store

from .imap_helpers import demo_store


def _entry(account, name: str, group: str) -> str:
    return (f'[[mailboxes]]\nname = "{name}"\nurl = "{account.url()}"\ndata_group = "{group}"\n'
            f'password_file = "{account.password_file}"\nca_file = "{account.ca_file}"\n'
            "allow_plaintext = true\ntimeout = 5.0\n")


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPTDESK_")}
    env["OPTDESK_SECRET"] = SECRET
    return env


@pytest.mark.imap
def test_two_dovecot_mailboxes_one_daemon_one_down(dovecot, private_dovecot, tmp_path,
                                                    tmp_path_factory):
    store = demo_store(tmp_path, tmp_path_factory)
    people = demo_people(store, wanted=30)
    store.release()
    fr_people, de_people = people[:12], people[12:20]
    dovecot.multiappend(reply_mail(fr_people, "Please remove me from your list.", "fr"))
    private_dovecot.stop()  # the second mailbox's server is down when the daemon starts
    config = tmp_path / "optdesk.toml"
    config.write_text(f'db = "{tmp_path / "optdesk.duckdb"}"\npoll_interval = 1\nidle = true\n'
                      + _entry(dovecot, "fr-desk", "presse-fr")
                      + _entry(private_dovecot, "de-desk", "presse-de"))
    proc = OptdeskProcess.start(["--config", str(config), "run"], tmp_path, _env())
    try:
        proc.wait_for(f"{dovecot.url()}: 12 messages")
        proc.wait_for("poll:de-desk: MailboxUnavailable")  # said once, the other went on
        private_dovecot.start()
        private_dovecot.multiappend(reply_mail(de_people, "Please remove me from your list.",
                                               "de"))
        proc.wait_for("poll:de-desk: working again", timeout=120)
        proc.wait_for(f"{private_dovecot.url()}: 8 messages", timeout=60)
        dovecot.append(reply_mail(people[20:21], "Please remove me from your list.", "late")[0])
        proc.wait_for(f"{dovecot.url()}: 1 messages", timeout=60)  # still polled (or IDLE)
    finally:
        assert proc.stop() == 0, proc.output()
    assert len([line for line in proc.lines if "poll:de-desk: MailboxUnavailable" in line]) == 1
    store = Store(tmp_path / "optdesk.duckdb")
    for group, who in (("presse-fr", fr_people + people[20:21]), ("presse-de", de_people)):
        events = store.events(data_group=group, kinds=["opt_out"])
        assert sorted(events["contact_id"].to_list()) == sorted(cid for cid, _, _ in who), group
    assert store.events(data_group="presse-de", kinds=["opt_out"]).height == 8
    store.release()
    status = subprocess.run([sys.executable, "-m", "optdesk", "--config", str(config), "status"],
                            cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120)
    assert status.returncode == 0, status.stderr
    out = status.stdout
    assert "mailboxes: 2" in out
    assert f"fr-desk: {dovecot.url()} (data group presse-fr): last poll" in out
    assert f"de-desk: {private_dovecot.url()} (data group presse-de): last poll" in out
    assert out.count("backlog: 0 new messages") == 2


def _load(tmp_path, text: str):
    path = tmp_path / "optdesk.toml"
    path.write_text(text, encoding="utf-8")
    return load_settings(path, env={})


ENTRY = '[[mailboxes]]\nname = "fr"\nurl = "maildir:in-fr"\ndata_group = "fr"\n'


@pytest.mark.parametrize(("extra", "words"), [
    ('[[mailboxes]]\nname = "de"\nurl = "pop3://x"\ndata_group = "de"\n',
     'mailboxes[2] (de): url = "pop3://x": must be maildir:PATH'),
    ('[[mailboxes]]\nurl = "maildir:in-de"\n', "mailboxes[2]: data_group is missing"),
    ('[[mailboxes]]\nname = "de"\nurl = "maildir:x"\ndata_group = "de"\npasword_file = "p"\n',
     "mailboxes[2] (de): unknown setting 'pasword_file' (did you mean 'password_file'?)"),
    ('[[mailboxes]]\nname = "fr"\nurl = "maildir:in-de"\ndata_group = "de"\n',
     "mailboxes[2] (fr).name: 'fr' is the name of mailboxes[1] (fr) too"),
    ('[[mailboxes]]\nname = "de"\nurl = "imap://p@mail.example.org/INBOX"\ndata_group = "de"\n',
     "mailboxes[2] (de).url: imap://p@mail.example.org:143/INBOX would send the password"),
    ('[[mailboxes]]\nname = "de"\nurl = "maildir:x"\ndata_group = "de"\n'
     '[mailboxes.folders]\nopt_out = "INBOX"\n', "mailboxes[2] (de): folders.opt_out"),
    ('mailbox = "maildir:x"\n', "set either mailbox or [[mailboxes]]"),
])
def test_a_bad_mailboxes_entry_is_one_line_naming_it(tmp_path, extra, words):
    text = (extra + ENTRY) if extra.startswith("mailbox =") else ENTRY + extra
    with pytest.raises(ConfigError) as err:
        _load(tmp_path, text)
    message = str(err.value)
    assert message.startswith(str(tmp_path / "optdesk.toml")) and "\n" not in message
    assert words in message, message


def test_entries_take_imap_and_folders_defaults_and_the_one_mailbox_still_works(tmp_path):
    settings = _load(tmp_path, '[imap]\ntimeout = 7.0\n[folders]\nopt_out = "Done/out"\n' + ENTRY
                     + '[[mailboxes]]\nurl = "maildir:in-de"\ndata_group = "de"\n'
                       'password_env = "DE_PASSWORD"\n[mailboxes.folders]\nopt_out = "De/out"\n')
    fr, de = mailboxes(settings)
    assert (fr.name, fr.url, fr.data_group) == ("fr", "maildir:in-fr", "fr")
    assert de.name == "de" and de.settings.imap.password_env == "DE_PASSWORD"
    assert fr.settings.imap.timeout == de.settings.imap.timeout == 7.0
    assert fr.settings.folders["opt_out"] == "Done/out"
    assert de.settings.folders["opt_out"] == "De/out"
    assert de.settings.folders["bounce_hard"] == "optdesk/bounce_hard"
    one = _load(tmp_path, 'mailbox = "maildir:inbox"\ndata_group = "presse"\n')
    [only] = mailboxes(one)
    assert (only.name, only.url, only.data_group) == ("presse", "maildir:inbox", "presse")
