"""The command-line contract: `optdesk classify [--json] PATH...`, `rules check|test`,
`list-unsubscribe`, run as real processes."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from classify_mailgen import reply

from fixtures.store import contact_row, write_contacts_csv
from optdesk.classify import JSON_KEYS
from optdesk.tokens import verify_token

ROOT = pathlib.Path(__file__).resolve().parents[2]
CORPUS = pathlib.Path(__file__).resolve().parent / "corpus"
SECRET = "cli-test-secret-of-32-bytes-or-more"


def optdesk(*args: str, cwd: pathlib.Path, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "OPTDESK_SECRET": SECRET, "OPTDESK_RULES_DIR": str(ROOT / "rules")}
    env.pop("OPTDESK_CONFIG", None)
    done = subprocess.run([sys.executable, "-m", "optdesk", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=120)
    if check:
        assert done.returncode == 0, done.stderr
    return done


def _nested(depth: int) -> bytes:
    head = "".join(f'Content-Type: multipart/mixed; boundary="b{i}"\n\n--b{i}\n' for i in range(depth))
    return f"From: a@example.com\n{head}\nx\n".encode()


@pytest.fixture
def maildir(tmp_path: pathlib.Path) -> pathlib.Path:
    box = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    (box / "new" / "1.host:2,").write_bytes(reply("Bitte austragen.", "de", "outlook",
                                                  sender="Anna <ANNA@Zeitung.example.DE>"))
    shutil.copy(CORPUS / "arf_complaint.eml", box / "cur" / "2.host:2,S")
    (box / "cur" / "3.host:2,S").write_bytes(_nested(1200))
    (box / "tmp" / "4.host").write_bytes(b"not delivered yet")
    return box


def test_classify_json_on_files_and_a_maildir(tmp_path, maildir):
    eml = tmp_path / "oof.eml"
    shutil.copy(CORPUS / "outlook_automatic_reply.eml", eml)
    out = optdesk("classify", "--json", str(eml), str(maildir), cwd=tmp_path).stdout
    lines = [json.loads(line) for line in out.splitlines()]
    assert [tuple(obj) for obj in lines] == [JSON_KEYS] * 4
    by_name = {pathlib.Path(obj["file"]).name: obj for obj in lines}
    assert set(by_name) == {"oof.eml", "1.host:2,", "2.host:2,S", "3.host:2,S"}
    assert by_name["oof.eml"]["kind"] == "auto_reply"
    assert by_name["1.host:2,"]["kind"] == "opt_out"
    assert by_name["1.host:2,"]["addresses"] == ["anna@zeitung.example.de"]
    assert by_name["1.host:2,"]["language"] == "de"
    assert by_name["2.host:2,S"]["kind"] == "complaint"
    assert by_name["2.host:2,S"]["addresses"] == ["reader.one@example.net"]
    broken = by_name["3.host:2,S"]
    assert broken["kind"] == "human" and broken["addresses"] == []
    assert "RecursionError" in broken["evidence"]["error"]


def test_classify_plain_output(tmp_path):
    out = optdesk("classify", str(CORPUS / "dsn_policy_and_unknown.eml"), cwd=tmp_path).stdout
    name, kind, addresses, rule, confidence = out.strip().split("\t")
    assert (kind, addresses, rule) == ("bounce_hard", "gone@example.com", "bounce-userunknown")


def test_classify_missing_path_is_an_error(tmp_path):
    done = optdesk("classify", str(tmp_path / "nope.eml"), cwd=tmp_path, check=False)
    assert done.returncode == 2 and "nope.eml: no such file" in done.stderr


def test_rules_check_ok_and_broken(tmp_path):
    assert "OK" in optdesk("rules", "check", cwd=tmp_path).stdout
    bad = tmp_path / "rules"
    bad.mkdir()
    (bad / "10-x.yaml").write_text("- id: a\n  type: footer\n  patterns: ['(']\n")
    done = optdesk("rules", "check", "--rules", str(bad), cwd=tmp_path, check=False)
    assert done.returncode == 2
    assert "rules/10-x.yaml:3: bad regex '('" in done.stderr


def test_rules_test_explains_step_by_step(tmp_path):
    eml = tmp_path / "r.eml"
    eml.write_bytes(reply("Ne me désinscrivez pas, merci.", "fr", "gt"))
    out = optdesk("rules", "test", str(eml), cwd=tmp_path).stdout
    stages = [line.split()[1] for line in out.splitlines() if line[:1].isdigit()]
    assert stages == ["complaint", "bounce", "auto_reply", "opt_in", "opt_out", "decision"]
    assert "blocked_by: negation" in out and "fr:unsubscribe:" in out
    steps = json.loads(optdesk("rules", "test", "--json", str(eml), cwd=tmp_path).stdout)["steps"]
    assert [s["decisive"] for s in steps] == [False] * 4 + [True, True]
    assert steps[-1]["details"]["kind"] == "human" and steps[-1]["details"]["review"] is True


def test_list_unsubscribe_for_a_contact(tmp_path):
    db = tmp_path / "store.duckdb"
    from optdesk.store import Store

    csv_path = write_contacts_csv(tmp_path / "c.csv", [contact_row(501, "Reporter@Paper.example")])
    Store(db).import_contacts(csv_path, "press")
    out = optdesk("--db", str(db), "list-unsubscribe", "--contact", "501", "--data-group", "press",
                  cwd=tmp_path)
    lines = dict(line.split(": ", 1) for line in out.stdout.strip().splitlines())
    assert lines["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    url, mailto = lines["List-Unsubscribe"].split(", ")
    token = mailto.split("unsubscribe+", 1)[1].split("@", 1)[0]
    assert url == f"<http://127.0.0.1:8025/u/{token}>"
    payload = verify_token(SECRET.encode(), token, "unsubscribe", email="reporter@paper.example")
    assert (payload.contact_id, payload.data_group) == (501, "press")
    assert "not https" in out.stderr
    out = optdesk("--db", str(db), "list-unsubscribe", "--contact", "501", "--data-group", "press",
                  "--public-url", "https://press.example/", cwd=tmp_path)
    assert out.stdout.startswith("List-Unsubscribe: <https://press.example/u/") and not out.stderr
    done = optdesk("--db", str(db), "list-unsubscribe", "--contact", "501", "--data-group", "press",
                   "--public-url", "https://press.example/u?x=<1>", cwd=tmp_path, check=False)
    assert done.returncode == 2 and "--public-url" in done.stderr
    done = optdesk("--db", str(db), "list-unsubscribe", "--contact", "999", "--data-group", "press",
                   cwd=tmp_path, check=False)
    assert done.returncode == 2 and "999" in done.stderr


def test_classify_on_several_workers_gives_the_same_lines_in_order(tmp_path):
    """Above PARALLEL_FROM messages `classify` forks workers from the loaded rules: the output
    is line for line what one process gives, in the same order."""
    from optdesk.classify.workers import PARALLEL_FROM

    box = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (box / sub).mkdir(parents=True)
    samples = [reply("Bitte austragen.", "de", "outlook"), reply("Thanks, noted.", "en", "gt"),
               (CORPUS / "arf_complaint.eml").read_bytes(),
               (CORPUS / "dsn_permanent_mailbox_full.eml").read_bytes()]
    for i in range(PARALLEL_FROM + 40):
        (box / "cur" / f"{i:04d}.host:2,S").write_bytes(samples[i % len(samples)])
    one = optdesk("classify", "--json", "--jobs", "1", str(box), cwd=tmp_path).stdout.splitlines()
    two = optdesk("classify", "--json", "--jobs", "2", str(box), cwd=tmp_path).stdout.splitlines()
    assert two == one
    files = [json.loads(line)["file"] for line in two]
    assert files == sorted(files) and len(files) == PARALLEL_FROM + 40
    kinds = [json.loads(line)["kind"] for line in two]
    assert kinds.count("opt_out") >= 50 and kinds.count("complaint") >= 50


def test_classify_jobs_must_be_a_positive_number(tmp_path, maildir):
    done = optdesk("classify", "--jobs", "0", str(maildir), cwd=tmp_path, check=False)
    assert done.returncode == 2 and "--jobs: must be a whole number of at least 1 (got '0')" in done.stderr
