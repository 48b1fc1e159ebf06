"""sisimai's public bounce corpus (../shared/corpora/sisimai beside the repository): loading and
scoring, shared by tests/classify/test_bounce_sisimai.py and bench/bench_bounces.py.

expected.json gives, per file, one entry per failed recipient (status, code, reason, hard) but no
address, so recipients are compared per file as multisets of families: a file with two expected
``gone`` recipients and one ``sending`` scores 3 when optdesk reports two gone and one sending
recipient, whatever their order. The reason → family table is read from the corpus README (the
same table as optdesk.classify.bounce_reasons; a test checks they agree).
"""

from __future__ import annotations

import collections
import json
import pathlib
import re
from dataclasses import dataclass, field

ROOT = pathlib.Path(__file__).resolve().parents[2]
SISIMAI = (ROOT / ".." / "shared" / "corpora" / "sisimai").resolve()
FAMILY_ROWS = ("gone", "trouble", "filtered", "sending", "none")  # the README table's row order
ADDRESS_FAMILIES = ("gone", "trouble", "filtered")


def available() -> bool:
    return (SISIMAI / "expected.json").is_file() and (SISIMAI / "eml").is_dir()


def expected() -> dict[str, list[dict]]:
    return json.loads((SISIMAI / "expected.json").read_text(encoding="utf-8"))


def readme_families() -> dict[str, str]:
    """reason → family, from the table in the corpus README (rows in FAMILY_ROWS order)."""
    rows = [line for line in (SISIMAI / "README.md").read_text(encoding="utf-8").splitlines()
            if line.startswith("|") and not line.startswith("|---")][1:]  # minus the header
    table: dict[str, str] = {}
    for family, row in zip(FAMILY_ROWS, rows, strict=True):
        reasons = row.split("|")[2]
        for reason in re.findall(r"[a-z]+", reasons):
            table[reason] = family
    return table


def got_families(decision) -> list[str]:
    """The families optdesk reports for a message, one per recipient."""
    if decision.kind == "complaint":
        return ["none"]  # feedback
    if decision.kind == "auto_reply":
        return ["none"]  # vacation
    return [r["family"] for r in decision.recipients]


@dataclass
class Score:
    recipients: int = 0  # sum over files of max(expected, reported) recipients
    right: int = 0  # recipients in the right family
    per_family: dict[str, collections.Counter] = field(
        default_factory=lambda: collections.defaultdict(collections.Counter))
    blamed: int = 0  # sending-side recipients counted against an address (hard or soft)
    blamed_hard: int = 0
    hard_files: int = 0
    hard_found: int = 0  # files with a hard bounce that are bounce_hard with an address
    non_bounce_stage: list[str] = field(default_factory=list)  # bounces decided after the bounce stage
    wrong: list[tuple] = field(default_factory=list)
    messages: int = 0

    @property
    def accuracy(self) -> float:
        return self.right / max(1, self.recipients)


def score(classify, table: dict[str, str] | None = None) -> Score:
    """Classify every corpus file with ``classify(raw) -> Decision`` and score it."""
    table = table or readme_families()
    out = Score()
    for name, rows in sorted(expected().items()):
        d = classify((SISIMAI / "eml" / name).read_bytes())
        out.messages += 1
        want = collections.Counter(table[r["reason"]] for r in rows)
        have = collections.Counter(got_families(d))
        both = want & have
        out.recipients += max(sum(want.values()), sum(have.values()))
        out.right += sum(both.values())
        for family, n in want.items():
            out.per_family[family]["expected"] += n
            out.per_family[family]["right"] += both[family]
        if both != want or both != have:
            out.wrong.append((name, [r["reason"] for r in rows],
                              [r["reason"] for r in d.recipients], d.kind))
        reasons = {r["reason"] for r in rows}
        if reasons & {"feedback", "vacation", "delivered"}:
            continue
        if d.stage != "bounce":
            out.non_bounce_stage.append(f"{name}: {d.kind} at stage {d.stage}")
        address_expected = sum(n for f, n in want.items() if f in ADDRESS_FAMILIES)
        blamed = max(0, len(d.addresses) - address_expected)
        out.blamed += blamed
        out.per_family["sending"]["blamed"] += blamed
        if d.kind == "bounce_hard" and not want.get("gone"):
            out.blamed_hard += blamed
        if any(r["hard"] for r in rows):
            out.hard_files += 1
            out.hard_found += d.kind == "bounce_hard" and bool(d.addresses)
    return out
