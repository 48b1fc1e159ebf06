"""The reply corpus (tests/classify/corpus/replies/<lang>/<part>/*.eml, expected.json; parts dev,
holdout, fresh, blind — see docs/benchmarks/classify.md) and
the invitation answers (corpus/invitation-answers/): loading, classifying and scoring.

The messages were written by people who had not seen the rules or the code (see the corpus
README). Used by tests/classify/test_reply_corpus.py and bench/bench_classify.py.

    .venv/bin/python tests/classify/reply_corpus.py [--part dev|holdout|fresh|blind] [--show missed,false,review]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime

HERE = pathlib.Path(__file__).resolve().parent
CORPUS = HERE / "corpus"
REPLIES = CORPUS / "replies"
ANSWERS = CORPUS / "invitation-answers"
ROOT = HERE.parents[1]
KEY = b"reply-corpus-test-key-0123456789abcdef"
SEVEN = ("en", "fr", "de", "es", "it", "nl", "pt")
OTHERS = ("sv", "da", "no", "fi", "pl", "cs")


@dataclass(frozen=True)
class Case:
    language: str
    path: pathlib.Path
    name: str  # dev/001.eml
    expect: str
    note: str
    leaver: bool = False

    @property
    def part(self) -> str:
        return self.name.split("/", 1)[0]

    @property
    def id(self) -> str:
        return f"{self.language}/{self.name}"


def reply_cases(part: str | None = None) -> list[Case]:
    cases = []
    for folder in sorted(p for p in REPLIES.iterdir() if p.is_dir()) if REPLIES.is_dir() else []:
        if not (folder / "expected.json").is_file():
            continue
        expected = json.loads((folder / "expected.json").read_text(encoding="utf-8"))
        for name, info in sorted(expected.items()):
            case = Case(folder.name, folder / name, name, info["expect"], info.get("note", ""),
                        bool(info.get("leaver")))
            if part is None or case.part == part:
                cases.append(case)
    return cases


def answer_cases() -> list[Case]:
    if not (ANSWERS / "expected.json").is_file():
        return []
    expected = json.loads((ANSWERS / "expected.json").read_text(encoding="utf-8"))
    return [Case(info.get("language", "?"), ANSWERS / name, name, info["expect"], info.get("note", ""))
            for name, info in sorted(expected.items())]


def classifier(root: pathlib.Path = ROOT):
    from optdesk.classify import Classifier
    from optdesk.classify.rules import load_rules

    return Classifier(load_rules(root / "rules"), signing_key=KEY,
                      now=lambda: datetime(2026, 11, 20, tzinfo=UTC))


def outcome(d) -> str:
    """applied | review | auto_reply | human | <other kind>."""
    if d.review:
        return "review"
    if d.kind == "opt_out":
        return "applied"
    return d.kind


def invitation_raw(case: Case, contact_id: int = 4711, group: str = "press") -> bytes:
    """The answer with a real invitation token for its sender in place of OPTIN_TOKEN."""
    import email
    import email.policy

    from optdesk.tokens import make_token

    raw = case.path.read_bytes()
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    sender = msg["From"].addresses[0].addr_spec
    token = make_token(KEY, "optin", contact_id, group, sender,
                       expires_at=datetime(2027, 2, 1, tzinfo=UTC), nonce=7)
    return raw.replace(b"OPTIN_TOKEN", token.encode())


def score_replies(cases: list[Case], clf=None) -> tuple[dict, list[tuple[Case, str, object]]]:
    clf = clf or classifier()
    table: dict[str, Counter] = defaultdict(Counter)
    rows = []
    for case in cases:
        d = clf.classify(case.path.read_bytes())
        got = outcome(d)
        t = table[case.language]
        if case.expect == "opt_out":
            t["optout"] += 1
            t[{"applied": "applied", "review": "reviewed"}.get(got, "missed")] += 1
            verdict = {"applied": "ok", "review": "review"}.get(got, "missed")
        else:
            t["negative"] += 1
            if got == "applied":
                t["false_optout"] += 1
                verdict = "false"
            elif case.expect == "review":
                t["ambiguous"] += 1
                verdict = "ok" if got == "review" else "silent"
                t["ambiguous_reviewed"] += got == "review"
            elif case.expect == "auto_reply":
                t["auto"] += 1
                ok = d.kind == "auto_reply"
                t["auto_found"] += ok
                verdict = "ok" if ok else "auto-missed"
            else:
                t["human"] += 1
                t["human_reviewed"] += got == "review"
                verdict = "ok" if got != "review" else "review-noise"
        rows.append((case, verdict, d))
    return table, rows


def score_answers(cases: list[Case], clf=None) -> tuple[Counter, list[tuple[Case, str, object]]]:
    clf = clf or classifier()
    t: Counter = Counter()
    rows = []
    for case in cases:
        d = clf.classify(invitation_raw(case))
        got = "accept" if d.kind == "opt_in" else ("decline" if d.decline else "review")
        t[case.expect] += 1
        t[f"{case.expect}->{got}"] += 1
        if got == "accept" and case.expect != "accept":
            verdict = "false-accept"
        else:
            verdict = "ok" if got == case.expect else f"{case.expect}->{got}"
        rows.append((case, verdict, d))
    return t, rows


def format_table(table: dict[str, Counter]) -> str:
    lines = ["| language | opt-outs | applied | review | missed | negatives | false opt-outs | "
             "ambiguous → review | auto-replies found | human → review |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    total: Counter = Counter()
    for language in [*SEVEN, *OTHERS, *sorted(set(table) - set(SEVEN) - set(OTHERS))]:
        if language not in table:
            continue
        t = table[language]
        total.update(t)
        lines.append(_row(language, t))
    lines.append(_row("**all**", total))
    return "\n".join(lines)


def _row(label: str, t: Counter) -> str:
    return (f"| {label} | {t['optout']} | {t['applied']} | {t['reviewed']} | {t['missed']} | "
            f"{t['negative']} | {t['false_optout']} | {t['ambiguous_reviewed']}/{t['ambiguous']} | "
            f"{t['auto_found']}/{t['auto']} | {t['human_reviewed']}/{t['human']} |")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--part", choices=("dev", "holdout", "fresh", "blind"))
    ap.add_argument("--language")
    ap.add_argument("--show", default="missed,false,silent,auto-missed,review,review-noise")
    ap.add_argument("--answers", action="store_true")
    ap.add_argument("--code", type=pathlib.Path, default=ROOT,
                    help="another checkout to measure (its daemon/ and rules/), e.g. the version before")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(args.code / "daemon"))
    clf = classifier(args.code)
    show = set(args.show.split(","))
    if args.answers:
        t, rows = score_answers(answer_cases(), clf)
        for case, verdict, d in rows:
            if verdict != "ok":
                print(f"{verdict:14} {case.id} [{case.note[:70]}] {d.evidence.get('reason')!r} {d.new_text[:100]!r}")
        print(dict(t))
        return 0
    cases = [c for c in reply_cases(args.part) if not args.language or c.language == args.language]
    table, rows = score_replies(cases, clf)
    for case, verdict, d in rows:
        if verdict in show:
            ev = d.evidence
            print(f"{verdict:12} {case.id} {case.expect:9} -> {d.kind}{'/review' if d.review else ''} "
                  f"[{case.note[:80]}] rule={d.rule} reason={ev.get('reason')!r} "
                  f"matched={str(ev.get('matched'))[:80]!r} new={d.new_text[:120]!r}")
    print(format_table(table))
    return 0


if __name__ == "__main__":
    sys.exit(main())
