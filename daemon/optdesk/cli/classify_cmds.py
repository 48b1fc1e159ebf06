"""Commands of the classifier: classify, rules check, rules test, list-unsubscribe."""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import sys
from collections.abc import Iterator

from optdesk.cli.common import add_group, group, open_store, stderr
from optdesk.errors import NotFound, OptdeskError
from optdesk.settings import Settings, find_signing_key, signing_key


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("classify", help="classify .eml files and Maildirs, one line per message")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.add_argument("--rules", help="rules directory (default: settings rules_dir)")
    p.add_argument("--jobs", type=_jobs, default=None, metavar="N",
                   help="worker processes (default: one per core, at most 8; 1: no workers)")
    p.add_argument("paths", nargs="+", metavar="PATH", help=".eml file, folder of .eml files, or Maildir")
    p.set_defaults(func=cmd_classify)

    p = sub.add_parser("rules", help="validate the rules, or explain a decision step by step")
    rsub = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    c = rsub.add_parser("check", help="load and validate every rules file")
    c.add_argument("--rules", help="rules directory (default: settings rules_dir)")
    c.set_defaults(func=cmd_rules_check)
    c = rsub.add_parser("test", help="explain the decision on a message, stage by stage")
    c.add_argument("--rules", help="rules directory (default: settings rules_dir)")
    c.add_argument("--json", action="store_true", help="the steps as JSON")
    c.add_argument("files", nargs="+", metavar="FILE.eml")
    c.set_defaults(func=cmd_rules_test)

    p = sub.add_parser("list-unsubscribe",
                       help="List-Unsubscribe header values for a send to one contact")
    p.add_argument("--contact", required=True, metavar="ID",
                   help="the contact, by the team's own id")
    add_group(p)
    p.add_argument("--email", help="address the send goes to (default: the primary address)")
    p.add_argument("--public-url", "--https-url", dest="public_url", metavar="URL",
                   help="public base of the one-click endpoint (default: the setting public_url)")
    p.set_defaults(func=cmd_list_unsubscribe)


def _classifier(args: argparse.Namespace, settings: Settings):
    from optdesk.classify import Classifier
    from optdesk.classify.prepared import prepared_rules
    from optdesk.feedback_loops import ComplaintSenders

    rules = prepared_rules(args.rules or settings.rules_dir)
    return Classifier(rules, signing_key=_read_only_key(settings),
                      review_threshold=settings.review_threshold,
                      complaint_senders=ComplaintSenders.from_settings(settings.complaints))


def _read_only_key(settings: Settings) -> bytes:
    """The token key for checking tokens; these commands create no key file. Without a key,
    token checks report "no key" (and such mail goes to review)."""
    key = find_signing_key(settings)
    if key is None:
        stderr(f"optdesk: note: no token signing key ({settings.secret_env} or "
               f"{settings.secret_file}): token checks report 'no key'")
    return key or b""


def _maildir_files(folder: pathlib.Path) -> Iterator[pathlib.Path]:
    """Messages in new/ then cur/, in name order; only names are held, not Path objects."""
    for sub in ("new", "cur"):
        directory = folder / sub
        if directory.is_dir():
            with os.scandir(directory) as entries:
                names = sorted(e.name for e in entries if e.is_file())
            for name in names:
                yield directory / name


def message_files(paths: list[str]) -> Iterator[str]:
    """The file name of each .eml file or Maildir message of ``paths``, in order."""
    for name in paths:
        path = pathlib.Path(name)
        if path.is_dir():
            if any((path / sub).is_dir() for sub in ("cur", "new")):
                targets: Iterator[pathlib.Path] | list[pathlib.Path] = _maildir_files(path)
            else:  # a folder of .eml files, in name order
                targets = sorted(p for p in path.iterdir() if p.suffix == ".eml" and p.is_file())
                if not targets:
                    raise OptdeskError(f"{path}: a directory but neither a Maildir (no cur/ or "
                                       "new/) nor a folder of .eml files")
        elif path.exists():
            targets = [path]
        else:
            raise OptdeskError(f"{path}: no such file or Maildir")
        for target in targets:
            yield str(target)


def _jobs(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number of at least 1 (got {text!r})")
    return value


def _json_line(name: str, d) -> str:
    return json.dumps(d.to_json(name), ensure_ascii=False) + "\n"


def _tab_line(name: str, d) -> str:
    flag = "\treview" if d.review else ""
    return (f"{name}\t{d.kind}\t{','.join(d.addresses) or '-'}\t{d.rule or '-'}"
            f"\t{d.confidence:.2f}{flag}\n")


def cmd_classify(args: argparse.Namespace, settings: Settings) -> int:
    from optdesk.classify.workers import classify_files, default_jobs

    names = list(message_files(args.paths))  # every path checked before the rules load
    clf = _classifier(args, settings)
    out = sys.stdout
    render = _json_line if args.json else _tab_line
    for line in classify_files(clf, names, render, args.jobs or default_jobs()):
        out.write(line)
    return 0


def cmd_rules_check(args: argparse.Namespace, settings: Settings) -> int:
    from optdesk.classify import load_rules

    rules = load_rules(args.rules or settings.rules_dir)
    counts: dict[str, int] = {}
    for rule in rules.rules:
        counts[rule.type] = counts.get(rule.type, 0) + 1
    print(f"{len(rules)} rules in {len(rules.files)} files: OK")
    for rule_type, count in sorted(counts.items()):
        print(f"  {rule_type:20} {count}")
    s = rules.bounce_scoring
    print(f"  soft-bounce scoring: +{s.weight} per bounce, half-life {s.half_life_days} days, "
          f"threshold {s.threshold}")
    return 0


def cmd_rules_test(args: argparse.Namespace, settings: Settings) -> int:
    clf = _classifier(args, settings)
    for name in args.files:
        try:
            raw = pathlib.Path(name).read_bytes()
        except OSError as exc:
            raise OptdeskError(f"{name}: cannot read: {exc.strerror or exc}") from None
        steps = clf.explain(raw)
        if args.json:
            print(json.dumps({"file": name, "steps": [s.__dict__ for s in steps]},
                             ensure_ascii=False))
            continue
        print(f"== {name}")
        for i, step in enumerate(steps, 1):
            verdict = "DECISIVE" if step.decisive else "not decisive"
            print(f"{i}. {step.stage:11} {verdict}")
            for key, value in step.details.items():
                text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
                print(f"     {key}: {text}")
    return 0


def _primary_email(store, contact_id: int, data_group: str) -> str:
    info = store.contact(contact_id, data_group)
    addresses = info["addresses"]
    if addresses.height == 0:
        raise NotFound(f"contact {info['contact']['external_id']} has no address in data group "
                       f"{data_group!r}")
    primary = addresses.filter(addresses["is_primary"])
    row = (primary if primary.height else addresses).row(0, named=True)
    return str(row["email"])


def cmd_list_unsubscribe(args: argparse.Namespace, settings: Settings) -> int:
    from optdesk.settings_checks import public_url
    from optdesk.tokens import list_unsubscribe_headers

    key = signing_key(settings, create=False)  # a read-only command: it creates no key file
    data_group = group(args, settings)
    store = open_store(settings)
    contact_id = store.contact_key(args.contact)
    email = args.email or _primary_email(store, contact_id, data_group)
    try:
        base = public_url(args.public_url or settings.public_url)
    except ValueError as exc:
        raise OptdeskError(f"--public-url {args.public_url!r}: {exc}") from None
    headers = list_unsubscribe_headers(key, contact_id, data_group, email,
                                       settings.unsubscribe_domain, base)
    for name, value in headers.items():
        print(f"{name}: {value}")
    if not base.startswith("https://"):
        stderr(f"optdesk: note: public_url {base} is not https: mail providers offer RFC 8058 "
               "one-click only for an https URL (fine for the demo on 127.0.0.1)")
    return 0
