"""The README's command table lists every command of the CLI (as sqlite-utils tests its docs
against ``--help``), and names no command the CLI does not have."""

import pathlib
import re

from optdesk.cli import commands

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _table_commands() -> list[str]:
    text = README.read_text(encoding="utf-8")
    table = text.split("## The command line", 1)[1].split("\n## ", 1)[0]
    cells = [m.group(1) for m in re.finditer(r"^\| (`(?:\\\||[^|])+`) \|", table, re.MULTILINE)]
    return [span for cell in cells for span in re.findall(r"`([^`]+)`", cell)]


def test_every_command_is_in_the_readme_table():
    rows = _table_commands()
    missing = [c for c in commands() if not any(r == c or r.startswith(c + " ") for r in rows)]
    assert missing == []


def test_the_readme_table_names_only_real_commands():
    known = commands()
    unknown = [r for r in _table_commands()
               if not any(r == c or r.startswith(c + " ") for c in known)]
    assert unknown == []
