"""Commands for opt-in invitations: ``invite`` (preview, dry run, send) and ``invitations``."""

from __future__ import annotations

import argparse
import getpass
import os

from optdesk.cli.common import add_group, group, open_store, stderr
from optdesk.settings import find_signing_key


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "invite", help="invite opted-out contacts or outlets, once, to opt back in",
        description="Send one invitation per contact to their primary address, and per outlet "
        "to its own address. Only contacts (outlets) opted out in the data group, never after "
        "a complaint, once per cool-off period; an outlet's acceptance opts the outlet back "
        "in, not its contacts. Prints one result line per contact or outlet; exits 2 sending "
        "nothing when a field is refused, 1 when a send failed.")
    add_group(p)
    p.add_argument("--contact", dest="contacts", action="append", default=[],
                   metavar="ID", help="a contact, by the team's own id (repeat for several)")
    p.add_argument("--outlet", dest="outlets", action="append", default=[], metavar="ID",
                   help="an outlet, by the team's own id, invited at its own address "
                   "(repeat for several)")
    p.add_argument("--sender-name", help="display name in From (default: settings)")
    p.add_argument("--sender-email", help="address in From (default: settings)")
    p.add_argument("--subject", help="subject (default: the language's, naming the organisation)")
    p.add_argument("--comments", default="", help="a paragraph added to the body")
    p.add_argument("--language", default="en", help="en, fr, de, es, it, nl or pt (default: en)")
    p.add_argument("--dry-run", action="store_true", help="say what would happen; send nothing")
    p.add_argument("--preview", type=int, default=0, metavar="N",
                   help="print the messages the first N contacts would get, then stop")
    p.add_argument("--rate", type=float, help="messages per second (default: smtp.rate_per_second)")
    p.add_argument("--actor", help="who sends (default: $USER)")
    p.set_defaults(func=cmd_invite)

    p = sub.add_parser("invitations", help="list invitations and their status")
    add_group(p)
    p.add_argument("--status", action="append",
                   help="pending, sent, failed, accepted, declined or expired (repeatable)")
    p.add_argument("--contact", dest="contacts", action="append", metavar="ID",
                   help="a contact, by the team's own id (repeatable)")
    p.add_argument("--outlet", dest="outlets", action="append", metavar="ID",
                   help="an outlet, by the team's own id (repeatable)")
    p.add_argument("--limit", type=int, default=50)
    p.set_defaults(func=cmd_invitations)


def _fields(args, settings):
    from optdesk.outgoing.invitations import InvitationFields

    inv = settings.invitations
    return InvitationFields(
        sender_name=inv.sender_name if args.sender_name is None else args.sender_name,
        sender_email=inv.sender_email if args.sender_email is None else args.sender_email,
        subject=args.subject or "", comments=args.comments or "", language=args.language)


def cmd_invite(args, settings) -> int:
    from optdesk.errors import OptdeskError
    from optdesk.outgoing.invitations import preview, send_invitations, summary

    if not args.contacts and not args.outlets:
        raise OptdeskError("name at least one --contact or --outlet")
    store, fields = open_store(settings), _fields(args, settings)
    keys = store.contact_keys(args.contacts)
    outlet_keys = store.outlet_keys(args.outlets)
    shown = {("contact", k): v for k, v in zip(keys, args.contacts, strict=True)}
    shown.update({("outlet", k): v for k, v in zip(outlet_keys, args.outlets, strict=True)})
    if args.preview:
        # a preview creates no key file; without a key its tokens use a throwaway one (the
        # token differs at the send anyway)
        key = find_signing_key(settings) or os.urandom(32)
        for item in preview(store, settings, group(args, settings), keys, fields,
                            limit=args.preview, key=key, outlet_ids=outlet_keys):
            word, which = item.key
            print(f"=== {word} {shown[item.key]}"
                  + (f": skipped: {item.skip_reason}" if item.skip_reason else ""))
            if item.message is not None:
                print(item.text)
        return 0
    results = send_invitations(
        store, settings, group(args, settings), keys, fields,
        actor=args.actor or getpass.getuser(), dry_run=args.dry_run, rate=args.rate,
        outlet_ids=outlet_keys,
        progress=lambda done, total, result: print(result.line(shown[result.key]), flush=True))
    counts = summary(results)
    stderr(("dry run: " if args.dry_run else "")
           + ", ".join(f"{n} {status}" for status, n in counts.items()))
    return 1 if counts.get("failed") else 0


def cmd_invitations(args, settings) -> int:
    store = open_store(settings)
    keys = store.contact_keys(args.contacts) if args.contacts else None
    outlet_keys = store.outlet_keys(args.outlets) if args.outlets else None
    df = store.invitations(group(args, settings), statuses=args.status, contact_ids=keys,
                           limit=args.limit, outlet_ids=outlet_keys)
    shown = store.external_ids(df["contact_id"])
    outlets = store.outlet_external_ids(df["outlet_id"])
    for r in df.iter_rows(named=True):
        when = r["answered_at"] or r["sent_at"] or r["created_at"]
        who = (f"contact {shown.get(r['contact_id'])}" if r["contact_id"] is not None
               else f"outlet {outlets.get(r['outlet_id'])}")
        print(f"invitation {r['invitation_id']}: {who} <{r['email']}> "
              f"{r['status']} {when:%Y-%m-%d %H:%M} (expires {r['expires_at']:%Y-%m-%d})"
              + (f": {r['error']}" if r["error"] else ""))
    if df.height == 0:
        stderr("no invitations")
    return 0
