"""Commands about engagement: ``import engagement`` (with store_cmds' ``import``) and
``engagement``."""

from __future__ import annotations

import argparse
import getpass

from optdesk.cli.common import add_group, group, open_store, print_frame, stderr

SHOWN_UNKNOWN = 20


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("engagement", help="who opened or clicked a distribution")
    add_group(p)
    p.add_argument("--distribution", required=True)
    p.add_argument("--event", choices=("open", "click"), help="only those who did this")
    p.add_argument("--sort", choices=("engagement", "reach", "outlet", "last_event"),
                   default="engagement")
    p.add_argument("--include-prefetch", action="store_true",
                   help="count the opens of a privacy proxy (Apple Mail) as well")
    p.add_argument("--add-to-list", metavar="LIST",
                   help="add the engaged contacts to this media list (created when absent)")
    p.set_defaults(func=cmd_engagement)


def add_import(isub: argparse._SubParsersAction) -> None:
    from optdesk.engagement.presets import presets

    c = isub.add_parser("engagement", help="opens, clicks, bounces … from a sending tool's "
                        "export (CSV or XLSX)")
    c.add_argument("file")
    add_group(c)
    c.add_argument("--distribution", required=True, help="the send these events belong to")
    c.add_argument("--preset", choices=list(presets()), default="generic",
                   help="the export's columns (default: generic: email, event, timestamp)")
    c.add_argument("--map", action="append", default=[], metavar="COLUMN=FIELD",
                   help="read COLUMN as FIELD (email, event, timestamp, user_agent, url, "
                   "machine_open, opens, clicks); repeatable")
    c.set_defaults(func=cmd_import_engagement)


def cmd_import_engagement(args, settings) -> int:
    from optdesk.engagement.presets import preset

    counts = open_store(settings, create=True).import_engagement(
        args.file, group(args, settings), args.distribution,
        preset(args.preset).with_map(args.map), progress=lambda m: stderr(f"import: {m}"),
        actor=f"{getpass.getuser()} (engagement import)")
    kinds = ", ".join(f"{n:,} {k}" for k, n in counts["events"].items()) or "no events"
    print(f"imported {counts['rows']:,} rows into distribution {args.distribution!r}: {kinds}; "
          f"{counts['prefetch']:,} opens by a privacy proxy (not counted); "
          f"{counts['skipped']:,} rows skipped by the preset")
    if counts["unknown"]:
        shown = counts["unknown_addresses"][:SHOWN_UNKNOWN]
        more = counts["unknown"] - len(shown)
        print(f"{counts['unknown']:,} addresses are no contact's or outlet's (kept, not "
              "counted for anyone): " + ", ".join(shown) + (f" … and {more:,} more" if more else ""))
    asked, new = counts["requests"], counts["opt_outs"]
    if asked["unsubscribe"] or asked["complaint"] or asked["already"] or asked["superseded"]:
        print(f"{asked['unsubscribe']:,} unsubscribes and {asked['complaint']:,} complaints "
              f"applied: {new['contacts']:,} contacts, {new['outlets']:,} outlets and "
              f"{new['addresses']:,} addresses newly opted out; {asked['already']:,} applied by "
              f"an earlier import, {asked['superseded']:,} older than an opt-in (not applied)")
    return 0


def cmd_engagement(args, settings) -> int:
    from optdesk.store.contact_ids import for_people

    store = open_store(settings)
    g = group(args, settings)
    rows = store.engagers(g, args.distribution, event=args.event, sort_by=args.sort,
                          include_prefetch=args.include_prefetch)
    print_frame(for_people(rows.select("contact_id", "external_id", "name", "outlet", "opens",
                                       "clicks", "last_event")))
    if args.add_to_list:
        ids = [c for c in rows["contact_id"].to_list() if c is not None]
        result = store.add_to_list(g, args.add_to_list, ids)
        print(f"list {args.add_to_list!r} ({'created' if result['created'] else 'existing'}): "
              f"{result['added']:,} contacts added")
    return 0
