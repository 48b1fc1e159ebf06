"""Benchmark: bounce reasons on sisimai's public corpus (../shared/corpora/sisimai beside the repo).

Per family (gone, trouble, filtered, sending, none): recipients expected, found in the right
family, and — for the sending family — blamed wrongly (counted against an address, hard or soft);
then the corpus's own score.py line on `optdesk classify --json` output, and throughput of the
classifier on the corpus (in process, median of 5 passes, and the whole `optdesk classify`
process).

    .venv/bin/python bench/bench_bounces.py [--out docs/benchmarks/bounces.md]
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import platform
import statistics
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "classify"))

from bounce_corpus import SISIMAI, available, expected, score  # noqa: E402

from optdesk.classify import Classifier, load_rules  # noqa: E402

# Measured before issue 11 (commit fab04d8), same corpus and score.py:
BEFORE = ("sisimai 457: hard found 103/142 (72.5%), sender-side blamed 112/225 (soft 12), "
          "temporary seen as bounce 64/87, complaints 0/1, auto-replies 0/0, success DSNs taken "
          "as bounces 0/2, opt-outs invented 1")
FAMILIES = ("gone", "trouble", "filtered", "sending", "none")


def score_line() -> str:
    """`optdesk classify --json eml/ | score.py expected.json`: its summary line."""
    classify = subprocess.run([str(ROOT / ".venv" / "bin" / "optdesk"), "classify", "--json",
                               str(SISIMAI / "eml")], capture_output=True, text=True, check=True)
    scored = subprocess.run([sys.executable, str(SISIMAI / "score.py"),
                             str(SISIMAI / "expected.json")], input=classify.stdout,
                            capture_output=True, text=True)
    return scored.stdout.strip().splitlines()[-1]


def process_seconds() -> float:
    started = time.perf_counter()
    subprocess.run([str(ROOT / ".venv" / "bin" / "optdesk"), "classify", "--json",
                    str(SISIMAI / "eml")], capture_output=True, check=True)
    return time.perf_counter() - started


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "docs" / "benchmarks" / "bounces.md"))
    args = parser.parse_args(argv)
    if not available():
        print(f"sisimai corpus not found at {SISIMAI}: nothing measured", file=sys.stderr)
        return 0
    clf = Classifier(load_rules(ROOT / "rules"), signing_key=b"bench")
    raws = [(SISIMAI / "eml" / name).read_bytes() for name in expected()]
    result = score(clf.classify)
    passes = []
    for _ in range(5):
        started = time.perf_counter()
        for raw in raws:
            clf.classify(raw)
        passes.append(time.perf_counter() - started)
    inproc = statistics.median(passes)
    whole = statistics.median(process_seconds() for _ in range(3))
    line = score_line()

    rows = ["| family | recipients expected | in the right family | share | blamed wrongly |",
            "|---|---:|---:|---:|---:|"]
    for family in FAMILIES:
        c = result.per_family.get(family)
        if not c:
            continue
        share = c["right"] / max(1, c["expected"])
        blamed = str(c["blamed"]) if family == "sending" else "–"
        rows.append(f"| {family} | {c['expected']} | {c['right']} | {share:.1%} | {blamed} |")
    rows.append(f"| **all** (per recipient, max of expected and reported) | {result.recipients} "
                f"| {result.right} | **{result.accuracy:.1%}** | {result.blamed} |")
    misses = "\n".join(f"- `{n}`: expected {w}, got {g} ({k})" for n, w, g, k in result.wrong)
    text = f"""## Bounce reasons (sisimai's public corpus, {len(raws)} notices)

`python bench/bench_bounces.py` on {dt.date.today():%Y-%m-%d}, {platform.python_version()},
reading `../shared/corpora/sisimai` (457 `lhost-*` notices from Postfix, Sendmail, Exim, qmail,
Exchange, Office 365, Gmail, Yahoo, Amazon SES, Lotus Notes …, with sisimai's expected reason per
recipient). Families as in the corpus README; recipients compared per notice as multisets of
families (expected.json names no addresses). "Blamed wrongly": sending-side or transit failures
counted against an address (undeliverable or a soft score) — the target is 0.

{chr(10).join(rows)}

Hard bounces found with their address: {result.hard_found}/{result.hard_files}. Bounces that
reached a later stage (auto-reply, opt-in, opt-out): {len(result.non_bounce_stage)}.

score.py on `optdesk classify --json ../shared/corpora/sisimai/eml`:

- before (issue 11 opened): `{BEFORE}`
- now: `{line}`

Throughput: {len(raws) / inproc:,.0f} notices/s in process (median of 5 passes over the
corpus, {inproc * 1000:.0f} ms a pass); the whole `optdesk classify --json` process over the
corpus (start-up, rules, JSON output) {whole:.2f} s, {len(raws) / whole:,.0f} notices/s.

Recipients in the wrong family ({len(result.wrong)} notices):

{misses}
"""
    out = pathlib.Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
