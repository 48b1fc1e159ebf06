"""Run every benchmark in bench/ and assemble docs/benchmarks.md from docs/benchmarks/*.md.

    .venv/bin/python bench/run_all.py                  # everything (about 40 minutes on 2 cores)
    .venv/bin/python bench/run_all.py store reports    # some of them
    .venv/bin/python bench/run_all.py --assemble-only  # only rebuild docs/benchmarks.md

Each bench_<name>.py writes its own section, docs/benchmarks/<name>.md.
"""

from __future__ import annotations

import pathlib
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
ORDER = ["store", "search", "classify", "newtext", "bounces", "imap", "daemon", "memory", "admin",
         "invitations", "reports", "serve", "outlets", "engagement", "contact_import"]
SCRIPTS = {"store": "bench_store.py", "search": "bench_search.py", "classify": "bench_classify.py",
           "newtext": "bench_newtext.py",
           "bounces": "bench_bounces.py", "imap": "bench_imap.py",
           "daemon": "bench_ingest.py", "memory": "bench_memory.py", "admin": "bench_admin.py",
           "invitations": "bench_invitations.py", "reports": "bench_reports.py",
           "serve": "bench_serve.py", "outlets": "bench_outlets.py", "engagement": "bench_engagement.py",
           "contact_import": "bench_contact_import.py"}

HEADER = """# Benchmarks

Measured on this project's machine kind: 2 cores, 24 GiB, Debian 12, Python 3.11, DuckDB 2.0.1,
Dovecot 2.3 on loopback. Each section below is written by one script in `bench/`
(`make bench` runs them all; `python bench/run_all.py NAME` runs one) and names its command, its
inputs and the date it ran. Targets come from the issues; figures are medians unless stated.
"""


def assemble() -> pathlib.Path:
    parts = [HEADER]
    for name in ORDER:
        section = ROOT / "docs" / "benchmarks" / f"{name}.md"
        if section.exists():
            parts.append(section.read_text(encoding="utf-8").strip() + "\n")
        else:
            parts.append(f"## {name}\n\nNot measured yet: run `python bench/{SCRIPTS[name]}`.\n")
    out = ROOT / "docs" / "benchmarks.md"
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


def main(argv: list[str]) -> int:
    if "--assemble-only" not in argv:
        names = [a for a in argv if not a.startswith("-")] or ORDER
        for name in names:
            script = ROOT / "bench" / SCRIPTS[name]
            print(f"== {name}: {script.name}", flush=True)
            out = ROOT / "docs" / "benchmarks" / f"{name}.md"
            code = subprocess.call([sys.executable, str(script), "--out", str(out)], cwd=ROOT)
            if code:
                print(f"{script.name} failed with exit status {code}", file=sys.stderr)
                return code
    print(f"wrote {assemble()}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
