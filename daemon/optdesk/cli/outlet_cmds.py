"""Commands about outlets: ``import outlets``, ``opt-out --outlet`` (with store_cmds'
``opt-out``) and ``outlet ID``."""

from __future__ import annotations

import argparse

from optdesk.cli.common import add_group, group, open_store, print_frame, stderr


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("outlet", help="show an outlet's record: its addresses, its contacts")
    p.add_argument("outlet_id", metavar="ID", help="the outlet, by the team's own id")
    add_group(p)
    p.set_defaults(func=cmd_outlet)


def add_import(isub: argparse._SubParsersAction) -> None:
    """``import outlets`` (called by store_cmds, which owns ``import``)."""
    c = isub.add_parser("outlets", help="outlets and their own addresses from CSV, XLSX or "
                        "Parquet (outlet_id, name, type, reach, country, language, email)")
    c.add_argument("file")
    add_group(c)
    c.set_defaults(func=cmd_import_outlets)


def cmd_import_outlets(args, settings) -> int:
    counts = open_store(settings, create=True).import_outlets(
        args.file, group(args, settings), progress=lambda m: stderr(f"import: {m}"))
    print(f"imported {counts['rows']:,} rows: {counts['outlets']:,} outlets "
          f"({counts['new_outlets']:,} new), {counts['addresses']:,} outlet addresses")
    return 0


def opt_out_outlet(args, settings, actor: str) -> int:
    store = open_store(settings)
    result = store.opt_out_outlet(
        store.outlet_key(args.outlet), group(args, settings), source="manual", actor=actor, reason=args.reason,
        with_contacts=args.with_contacts)
    if not result["changed"]:
        print(f"outlet {args.outlet}: already opted out; unchanged")
        return 0
    tail = f", and {result['contacts']:,} of its contacts" if args.with_contacts else ""
    print(f"outlet {args.outlet}: opted out{tail}")
    return 0


def cmd_outlet(args, settings) -> int:
    from optdesk.store.contact_ids import for_people

    store = open_store(settings)
    record = store.outlet(store.outlet_key(args.outlet_id), group(args, settings))
    o = record["outlet"]
    print(f"{o['name']} — {o['type'] or 'type unknown'} "
          f"(reach {o['reach']}, {o['country']}, {o['language']}) · outlet id {o['external_id']}")
    out = record["optout"]
    print("opted out: " + (
        f"yes, {out['source']} by {out['actor']} at {out['opted_out_at']:%Y-%m-%d %H:%M}"
        f" ({out['reason'] or 'no reason'}){', with its contacts' if out['with_contacts'] else ''}"
        if out else "no"))
    print("its own addresses:")
    print_frame(record["addresses"])
    print("contacts:")
    print_frame(for_people(record["contacts"]))
    return 0
