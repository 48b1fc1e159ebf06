"""Issue 12, item 1, end to end: feedback reports through the daemon (``optdesk run --once`` on a
real Maildir, the real classifier built from optdesk.toml). A forged report — any From, any
recipient in Original-Rcpt-To — opts nobody out and suppresses nothing: it is a complaint
pending review, left in the inbox. A report from a configured loop, authenticated by its DKIM
signature (dkimpy, keys from a fake DNS) or by the MX's Authentication-Results, is applied."""

from __future__ import annotations

import mailbox
import pathlib

import pytest

from fixtures.fbl import FakeDns, arf_report, dkim_signed
from optdesk.cli import main
from optdesk.settings import REPO_ROOT
from optdesk.store import Store

ALICE, BOB = "alice@example.org", "bob@example.org"  # contacts 1 and 2 of the desk fixture


@pytest.fixture
def dns(monkeypatch) -> FakeDns:
    found = FakeDns()
    found.publish("fbl", "hotmail.com")
    monkeypatch.setattr("optdesk.feedback_loops.lookup_txt", found)
    return found


def _run(tmp_path: pathlib.Path, monkeypatch, box: pathlib.Path, complaints: str = "") -> None:
    config = tmp_path / "optdesk.toml"
    config.write_text(f'db = "{tmp_path / "desk.duckdb"}"\nmailbox = "maildir:{box}"\n'
                      f'data_group = "demo"\nrules_dir = "{REPO_ROOT / "rules"}"\n{complaints}',
                      encoding="utf-8")
    monkeypatch.setenv("OPTDESK_SECRET", "s" * 40)
    monkeypatch.chdir(tmp_path)
    assert main(["--config", str(config), "run", "--once"]) == 0


def _inbox(box: pathlib.Path) -> int:
    return sum(1 for sub in ("new", "cur") for _ in (box / sub).iterdir())


def test_forged_reports_opt_nobody_out_and_a_signed_one_is_applied(desk, tmp_path, monkeypatch,
                                                                     dns):
    desk.release()
    box = tmp_path / "box"
    md = mailbox.Maildir(box, create=True)
    forged = [
        arf_report("anyone@attacker.example", ALICE),                     # any From at all
        arf_report("staff@hotmail.com", ALICE),                           # a provider's, unsigned
        arf_report("staff@hotmail.com", ALICE, headers=(                  # results anyone can write
            "Authentication-Results: mx.example.org; dkim=pass header.d=hotmail.com",)),
        dkim_signed(arf_report("staff@hotmail.com", ALICE), "hotmail.com", label="b"),  # bad key
    ]
    for raw in forged:
        md.add(raw)
    md.add(dkim_signed(arf_report("staff@hotmail.com", BOB), "hotmail.com"))
    _run(tmp_path, monkeypatch, box)

    store = Store(tmp_path / "desk.duckdb")
    assert store.contact(1, "demo")["optout"] is None
    assert not store.is_suppressed(ALICE, "demo")
    assert store.contact(2, "demo")["optout"]["source"] == "complaint"
    ledger = store.ledger()
    assert ledger.height == 5 and set(ledger["kind"]) == {"complaint"}
    held = ledger.filter(status="review")
    assert held.height == 4 and held["moved_to"].null_count() == 4
    reasons = sorted(held["review_reason"].to_list())
    assert any("anyone@attacker.example, not a configured feedback-loop sender" in r
               for r in reasons), reasons
    assert sum("staff@hotmail.com not authenticated for hotmail.com" in r for r in reasons) == 3
    assert any("DKIM signature of hotmail.com did not verify" in r for r in reasons), reasons
    assert store.review_queue("demo").height == 4
    assert set(held["contact_id"]) == {1}  # a person may still apply one: the contact is known
    assert _inbox(box) == 4  # held for people, where they were
    assert sum(1 for _ in (box / ".optdesk.complaint" / "cur").iterdir()) + \
        sum(1 for _ in (box / ".optdesk.complaint" / "new").iterdir()) == 1
    assert dns.asked == ["fbl._domainkey.hotmail.com"] * 2
    store.release()


def test_the_team_s_loop_and_mx_from_optdesk_toml(desk, tmp_path, monkeypatch, dns):
    desk.release()
    box = tmp_path / "box"
    md = mailbox.Maildir(box, create=True)
    trusted = "Authentication-Results: mx.example.org; dkim=pass header.d=isp.example"
    md.add(arf_report("fbl@isp.example", ALICE, headers=(trusted,)))
    md.add(arf_report("fbl@isp.example", BOB, headers=(  # a result the MX did not write
        "Authentication-Results: mx.isp.example; dkim=pass header.d=isp.example",)))
    md.add(dkim_signed(arf_report("staff@hotmail.com", BOB), "hotmail.com"))  # not listed now
    _run(tmp_path, monkeypatch, box, '[complaints]\nsenders = ["fbl@isp.example"]\n'
                                     'authserv_ids = ["mx.example.org"]\n')

    store = Store(tmp_path / "desk.duckdb")
    assert store.contact(1, "demo")["optout"]["source"] == "complaint"
    assert store.contact(2, "demo")["optout"] is None
    held = store.ledger().filter(status="review")["review_reason"].to_list()
    assert len(held) == 2 and _inbox(box) == 2
    assert any("fbl@isp.example not authenticated for isp.example: no DKIM signature, and no "
               "Authentication-Results of the team's MX" in r for r in held), held
    assert any("staff@hotmail.com, not a configured feedback-loop sender" in r for r in held), held
    store.release()


def test_a_bad_complaints_setting_stops_before_anything_is_read(desk, tmp_path, monkeypatch,
                                                                capsys):
    desk.release()
    box = tmp_path / "box"
    mailbox.Maildir(box, create=True).add(arf_report("anyone@attacker.example", ALICE))
    config = tmp_path / "optdesk.toml"
    config.write_text(f'mailbox = "maildir:{box}"\n[complaints]\nsenders = ["fbl@@isp"]\n',
                      encoding="utf-8")
    assert main(["--config", str(config), "run", "--once"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"optdesk: error: {config}: complaints.senders = [\"fbl@@isp\"]: ")
    assert err.count("\n") == 1 and _inbox(box) == 1
