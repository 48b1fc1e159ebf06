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
    "optdesk.cli.serve_cmds",
    "optdesk.cli.store_cmds",
)

log = logging.getLogger("optdesk")
SUMMARY = "optdesk.summary"  # the logger of the lines shown without -v (optdesk.daemon.scheduler)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optdesk", description=__doc__.splitlines()[0])
    parser.add_argument("--config", help="optdesk.toml to read (default: $OPTDESK_CONFIG)")
    parser.add_argument("--db", help="DuckDB store file (default: data/optdesk.duckdb)")
    parser.add_argument("--mailbox", help="maildir:PATH, imap://user@host:port/FOLDER or imaps://…")
    parser.add_argument("--data-group", dest="data_group_global", metavar="G",
                        help="data group the mailbox belongs to (default: demo)")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="-v: what the daemon does (INFO); -vv: debugging detail (DEBUG); "
                        "default: warnings, errors and one summary line per poll")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(sub)
    return parser


def configure_logging(verbose: int) -> None:
    """Default: WARNING and above, plus the daemon's summary lines (the ``optdesk.summary``
    logger: start, stop, one line per poll that saw mail); ``-v``: INFO; ``-vv``: DEBUG. The IMAP
    protocol trace of imapclient (message contents; passwords redacted) only with ``-vvv``.
    Like ``logging.basicConfig``, it leaves a process that configured logging already alone."""
    if logging.getLogger().handlers:
        return
    level = (logging.WARNING, logging.INFO)[verbose] if verbose < 2 else logging.DEBUG
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger(SUMMARY).setLevel(min(level, logging.INFO))
    logging.getLogger("imapclient").setLevel(logging.DEBUG if verbose >= 3 else max(level, logging.INFO))


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    configure_logging(args.verbose)
    try:
        settings = load_settings(
            args.config,
            overrides={
                "db": args.db,
                "mailbox": args.mailbox,
                "data_group": args.data_group_global,
            },
        )
        log.debug("settings: %s", ", ".join(f"{key} from {where}" for key, where in
                                            settings.origins.items()) or "the built-in defaults")
        return args.func(args, settings) or 0
    except OptdeskError as exc:
        print(f"optdesk: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0
