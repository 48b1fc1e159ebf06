"""The engagement commands as a user runs them: import engagement (preset, --map, unknown
addresses listed), engagement [--event] [--add-to-list]."""

import subprocess
import sys

from fixtures.store import contact_row, write_contacts_csv

OPTDESK = [sys.executable, "-m", "optdesk"]


def run(*args, check=True):
    proc = subprocess.run([*OPTDESK, *args], capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def test_import_engagement_then_engagers_into_a_new_list(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    run("--db", db, "import", "contacts", str(write_contacts_csv(tmp_path / "c.csv", [
        contact_row(1, "one@x.example"), contact_row(2, "two@x.example")])), "--data-group", "g1")
    export = tmp_path / "mc.csv"
    export.write_text("Mail,Action,Timestamp\none@x.example,click,2026-03-01 10:00:00\n"
                      "two@x.example,open,2026-03-01 10:05:00\n"
                      "stranger@y.example,open,2026-03-01 10:06:00\n", encoding="utf-8")
    out = run("--db", db, "import", "engagement", str(export), "--data-group", "g1",
              "--distribution", "launch", "--preset", "mailchimp", "--map", "Mail=email").stdout
    assert "imported 3 rows into distribution 'launch': 1 click, 2 open" in out
    assert "1 addresses are no contact's or outlet's" in out and "stranger@y.example" in out
    shown = run("--db", db, "engagement", "--data-group", "g1", "--distribution", "launch",
                "--event", "click", "--add-to-list", "Clickers").stdout
    assert "First1 Last1" in shown and "First2" not in shown
    assert "list 'Clickers' (created): 1 contacts added" in shown
    again = run("--db", db, "engagement", "--data-group", "g1", "--distribution", "launch",
                "--add-to-list", "Clickers").stdout
    assert "list 'Clickers' (existing): 1 contacts added" in again


def test_a_bad_export_is_one_line(tmp_path):
    db = str(tmp_path / "cli.duckdb")
    export = tmp_path / "e.csv"
    export.write_text("email,event,timestamp\na@x.example,opened,2026-03-01\n", encoding="utf-8")
    proc = run("--db", db, "import", "engagement", str(export), "--data-group", "g1",
               "--distribution", "d", check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"optdesk: error: {export}: row 1, column event: not an event this preset knows")
    proc = run("--db", db, "import", "engagement", str(export), "--data-group", "g1",
               "--distribution", "d", "--map", "nonsense", check=False)
    assert proc.returncode == 2 and "--map 'nonsense': write COLUMN=FIELD" in proc.stderr
