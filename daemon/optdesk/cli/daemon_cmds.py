"""Commands of the daemon: run (the schedule, or one poll), status, demo-mailbox."""

from __future__ import annotations

import argparse
import pathlib

from optdesk.cli.common import open_store, print_frame, stderr


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run the daemon: poll the mailboxes on a schedule (or once)")
    p.add_argument("--once", action="store_true", help="one poll of each mailbox, then exit")
    p.add_argument("--serve", action="store_true",
                   help="also serve one-click unsubscribe in this process (see optdesk serve)")
    p.add_argument("--dry-run", action="store_true",
                   help="with --once: say what would change, change nothing")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("status", help="last poll, counts per kind, backlog, last error, "
                                      "sending incidents")
    p.add_argument("--no-mailbox", action="store_true",
                   help="do not connect to the mailbox to count the backlog")
    p.add_argument("--incident-days", type=int, default=7, metavar="N",
                   help="sending incidents of the last N days (default 7)")
    p.set_defaults(func=cmd_status)

    p = sub.add_parser("demo-mailbox", help="seed a demo Maildir with mail from demo contacts")
    p.add_argument("path", help="Maildir to create, e.g. data/demo-mailbox")
    p.add_argument("--if-absent", action="store_true", help="do nothing when PATH exists")
    p.set_defaults(func=cmd_demo_mailbox)


def cmd_run(args, settings) -> int:
    from optdesk.daemon.mailboxes import DaemonService

    if args.dry_run and not args.once:
        stderr("optdesk run: --dry-run implies --once")
        args.once = True
    if args.serve and args.once:
        stderr("optdesk run: --serve is for the schedule; ignored with --once")
    service = DaemonService(settings, serve=args.serve and not args.once, dry_run=args.dry_run)
    if not args.once:
        service.run_forever()
        return 0
    for result in service.poll_once():
        for line in result.plans:
            print(line)
        print(result.summary())
    return 0


def cmd_status(args, settings) -> int:
    import datetime as dt

    from optdesk.store import utcnow

    store = open_store(settings)
    info = store.daemon_status()
    days = max(1, args.incident_days)
    incidents = store.incident_summary(utcnow() - dt.timedelta(days=days))
    store.release()
    last = info["last_poll"]
    if last is None:
        print("last poll: never")
    else:
        state = "ok" if last["ok"] else f"FAILED: {last['error']}"
        print(f"last poll: {last['finished_at']:%Y-%m-%d %H:%M:%S} UTC, {state}")
        if last["detail"]:
            print(f"  {last['detail']}")
    if settings.mailboxes:
        _print_mailboxes(args, settings, store)
    else:
        print(f"backlog: {_backlog(args, settings, store)}")
    print(f"open reviews: {info['open_reviews']}")
    for label, key in (("last job error", "last_job_error"),
                       ("last message error", "last_message_error")):
        err = info[key]
        if err:
            print(f"{label}: {err['at']:%Y-%m-%d %H:%M:%S} {err['error']}")
    print("messages per kind:")
    print_frame(info["counts"])
    _print_incidents(incidents, days)
    return 0


def _print_mailboxes(args, settings, store) -> None:
    """One block per [[mailboxes]] entry: where, data group, its last poll, its backlog."""
    from optdesk.mailbox_settings import mailboxes

    boxes = mailboxes(settings)
    runs = store.last_runs([f"poll:{box.name}" for box in boxes])
    print(f"mailboxes: {len(boxes)}")
    for box in boxes:
        run = runs.get(f"poll:{box.name}")
        if run is None:
            last = "never polled"
        else:
            state = "ok" if run["ok"] else f"FAILED: {run['error']}"
            last = f"last poll {run['finished_at']:%Y-%m-%d %H:%M:%S} UTC, {state}"
        print(f"  {box.name}: {box.url} (data group {box.data_group}): {last}")
        print(f"    backlog: {_backlog(args, box.settings, store)}")


def _print_incidents(frame, days: int) -> None:
    """Sending incidents per provider and reason: what the team must fix, not the journalists."""
    from optdesk.classify.bounce_reasons import incident_sentence

    if frame.height == 0:
        print(f"sending incidents (last {days} days): none")
        return
    print(f"sending incidents (last {days} days): our mail refused or lost on the way; "
          "no address was counted")
    for r in frame.iter_rows(named=True):
        code = " ".join(x for x in (r["reply_code"], r["status"]) if x)
        print(f"  {incident_sentence(r['provider'], r['reason'], r['messages'], r['recipients'])}"
              f"{f' ({code})' if code else ''}, last {r['last_at']:%Y-%m-%d %H:%M}")


def _backlog(args, settings, store) -> str:
    if args.no_mailbox:
        return "not counted (--no-mailbox)"
    from optdesk.errors import OptdeskError
    from optdesk.sources import open_source

    try:
        with open_source(settings.mailbox, settings) as src:
            state = src.folder_state()
            saved = store.mailbox_state(src.url, state.folder)
            last = saved["last_uid"] if saved and saved["uidvalidity"] == state.uidvalidity else 0
            return f"{len(src.new_uids(last))} new messages in {settings.mailbox}"
    except OptdeskError as exc:
        return f"unknown ({exc})"


def cmd_demo_mailbox(args, settings) -> int:
    from optdesk.demo_mailbox import seed_demo_mailbox

    path = pathlib.Path(args.path)
    if args.if_absent and path.exists():
        print(f"{path} exists; left as it is")
        return 0
    seed_demo_mailbox(path, open_store(settings), settings)
    return 0
