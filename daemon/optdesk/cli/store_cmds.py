"""Commands over the store: init, import, export, suppressions, opt-out, undo-opt-out, contact."""

from __future__ import annotations

import argparse
import pathlib
import sys

from optdesk.cli import engagement_cmds, outlet_cmds
from optdesk.cli.common import add_group, group, open_store, print_frame, stderr
from optdesk.errors import OptdeskError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("init", help="create the store (and demo data with --demo)")
    p.add_argument("--demo", action="store_true", help="fill the 'demo' data group")
    p.add_argument("--contacts", type=int, default=2000, help="demo contacts (up to 2,000,000)")
    p.add_argument("--if-absent", action="store_true", help="do nothing when the store exists")
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("import", help="import data")
    isub = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    add_import_contacts(isub)
    outlet_cmds.add_import(isub)
    engagement_cmds.add_import(isub)

    p = sub.add_parser("export", help="export data")
    esub = p.add_subparsers(dest="what", required=True, metavar="WHAT")
    c = esub.add_parser("opted-out", help="everyone opted out of a data group")
    add_group(c)
    c.add_argument("--format", choices=("csv", "parquet"), default="csv")
    c.add_argument("--out", help="file to write (default: stdout for csv)")
    c.set_defaults(func=cmd_export_opted_out)

    p = sub.add_parser("suppressions", help="addresses a data group must not mail")
    add_group(p)
    p.add_argument("--format", choices=("lines", "csv"), default="lines")
    p.set_defaults(func=cmd_suppressions)

    p = sub.add_parser("opt-out", help="opt a contact or an outlet out by hand (source: manual)")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--contact", metavar="ID", help="the contact, by the team's own id")
    who.add_argument("--outlet", metavar="ID",
                     help="an outlet, by the team's own id: its own addresses")
    p.add_argument("--with-contacts", action="store_true",
                   help="with --outlet: every contact at the outlet as well")
    add_group(p)
    p.add_argument("--reason", required=True)
    p.add_argument("--actor", default=None, help="who did it (default: $USER)")
    p.set_defaults(func=cmd_opt_out)

    p = sub.add_parser("undo-opt-out",
                       help="undo an analyst's manual opt-out within the grace period")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--contact", metavar="ID", help="the contact, by the team's own id")
    who.add_argument("--outlet", metavar="ID",
                     help="an outlet (by the team's own id): its manual opt-out, and the "
                     "contact opt-outs made with it")
    add_group(p)
    p.add_argument("--reason", required=True)
    p.add_argument("--actor", default=None, help="who did it (default: $USER)")
    p.set_defaults(func=cmd_undo_opt_out)

    p = sub.add_parser("contact", help="show a contact's record")
    p.add_argument("contact_id", metavar="ID", help="the contact, by the team's own id")
    add_group(p)
    p.set_defaults(func=cmd_contact)


def cmd_init(args, settings) -> int:
    path = pathlib.Path(settings.db)
    if args.if_absent and path.exists():
        print(f"{path} exists; left as it is")
        return 0
    store = open_store(settings, create=True)
    if args.demo:
        counts = store.init_demo(args.contacts, progress=lambda m: stderr(f"init: {m}"))
        print(f"{path}: demo data group 'demo': " + ", ".join(f"{v:,} {k}" for k, v in counts.items()))
    else:
        print(f"{path}: store ready")
    return 0


def add_import_contacts(isub: argparse._SubParsersAction) -> None:
    from optdesk.contact_exports.mapping import FIELDS, presets

    c = isub.add_parser("contacts", help="contacts from the team's export (CSV, XLSX or "
                        "Parquet): one row per address, or per contact with address columns")
    c.add_argument("file")
    add_group(c)
    c.add_argument("--preset", choices=list(presets()), default="generic",
                   help="the export's columns (default: generic, optdesk's own; "
                   "daemon/optdesk/contact_exports/presets.yaml)")
    c.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                   help=f"read COLUMN as FIELD ({', '.join(FIELDS)}); repeatable")
    c.add_argument("--dry-run", action="store_true",
                   help="show what would change (new, updated, unchanged, refused, per column); "
                   "write nothing")
    c.set_defaults(func=cmd_import_contacts)


def cmd_import_contacts(args, settings) -> int:
    store = open_store(settings, create=not args.dry_run)
    counts = store.import_contacts(args.file, group(args, settings),
                                   progress=lambda m: stderr(f"import: {m}"),
                                   preset=args.preset, mapping=args.map, dry_run=args.dry_run)
    if args.dry_run:
        from optdesk.store.import_preview import describe

        print("\n".join(describe(counts, group(args, settings))))
        return 0
    print(f"imported {counts['rows']:,} rows: {counts['contacts']:,} contacts "
          f"({counts['new_contacts']:,} new) into data group {group(args, settings)!r}")
    return 0


def cmd_export_opted_out(args, settings) -> int:
    from optdesk import csv_export  # polars: only for the commands that write CSV
    from optdesk.store.contact_ids import for_people

    df = for_people(open_store(settings).opted_out(group(args, settings), limit=None)
                    .drop("total"))
    if args.format == "parquet":
        if not args.out:
            raise OptdeskError("--format parquet needs --out FILE")
        df.write_parquet(args.out)
    elif args.out:
        csv_export.write_csv(df, args.out)
    else:
        sys.stdout.write(csv_export.write_csv(df))
    if args.out:
        print(f"wrote {df.height:,} opted-out contacts to {args.out}")
    return 0


def cmd_suppressions(args, settings) -> int:
    from optdesk import csv_export

    df = open_store(settings).suppressions(group(args, settings))
    if args.format == "csv":  # for people: formula cells neutralised
        sys.stdout.write(csv_export.write_csv(df))
    else:  # for machines: every address exactly as stored, one a line
        sys.stdout.write("".join(f"{e}\n" for e in df["email"]))
    return 0


def cmd_opt_out(args, settings) -> int:
    import getpass

    actor = args.actor or getpass.getuser()
    if args.outlet is not None:
        return outlet_cmds.opt_out_outlet(args, settings, actor)
    if args.with_contacts:
        raise OptdeskError("--with-contacts goes with --outlet")
    store = open_store(settings)
    changed = store.opt_out(
        store.contact_key(args.contact), group(args, settings), source="manual", actor=actor,
        reason=args.reason)
    print(f"contact {args.contact}: " + ("opted out" if changed else "already opted out; unchanged"))
    return 0


def cmd_undo_opt_out(args, settings) -> int:
    import datetime as dt
    import getpass

    actor = args.actor or getpass.getuser()
    grace = dt.timedelta(hours=settings.undo_grace_hours)
    store = open_store(settings)
    if args.outlet is not None:
        done = store.undo_outlet_opt_out(
            store.outlet_key(args.outlet), group(args, settings), actor=actor, reason=args.reason, grace=grace)
        print(f"outlet {args.outlet}: manual opt-out undone (event {done['event_id']}), "
              f"{done['contacts']} contact opt-outs made with it lifted")
        return 0
    event_id = store.undo_opt_out(
        store.contact_key(args.contact), group(args, settings), actor=actor, reason=args.reason,
        grace=grace)
    print(f"contact {args.contact}: manual opt-out undone (event {event_id})")
    return 0


def cmd_contact(args, settings) -> int:
    store = open_store(settings)
    record = store.contact(store.contact_key(args.contact_id), group(args, settings))
    c = record["contact"]
    print(f"{c['name']} (id {c['external_id']}) — {c['title'] or ''}, {c['outlet'] or 'no outlet'} "
          f"(reach {c['reach']}, {c['country']}, {c['language']})")
    o = record["optout"]
    print("opted out: " + (f"yes, {o['source']} by {o['actor']} at {o['opted_out_at']:%Y-%m-%d %H:%M}"
                           f" ({o['reason'] or 'no reason'})" if o else "no"))
    print("addresses:")
    print_frame(record["addresses"])
    print("lists: " + (", ".join(record["lists"]["name"]) or "none"))
    print("history:")
    print_frame(record["history"].drop("evidence"))
    return 0
