"""The `optdesk` command: global options, then one module per group of subcommands.

Each module in COMMAND_MODULES has ``register(subparsers)``; every subcommand sets
``func(args, settings) -> int``. Commands are thin: one library call each. Domain errors are
translated here, at the edge, into one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from optdesk.errors import OptdeskError
from optdesk.settings import load_settings

COMMAND_MODULES = (
    # one line per command module; keep sorted
    "optdesk.cli.classify_cmds",
    "optdesk.cli.daemon_cmds",
    "optdesk.cli.invite_cmds",
    "optdesk.cli.lab_cmds",
    "optdesk.cli.report_cmds",
    "optdesk.cli.store_cmds",
)

log = logging.getLogger("optdesk")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optdesk", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="optdesk.toml to read (default: $OPTDESK_CONFIG)")
    parser.add_argument("--db", help="DuckDB store file (default: data/optdesk.duckdb)")
    parser.add_argument("--mailbox", help="maildir:PATH, imap://user@host:port/FOLDER or imaps://…")
    parser.add_argument("--data-group", dest="data_group_global", metavar="G",
                        help="data group the mailbox belongs to (default: demo)")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more logging")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.WARNING - 10 * args.verbose if args.verbose else logging.INFO
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings(
            args.config,
            overrides={
                "db": args.db,
                "mailbox": args.mailbox,
                "data_group": args.data_group_global,
            },
        )
        return args.func(args, settings) or 0
    except OptdeskError as exc:
        print(f"optdesk: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
