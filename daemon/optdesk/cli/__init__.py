"""optdesk keeps a PR team's opt-outs: it reads the team's mailbox, applies every opt-out,
bounce and complaint to the store, and serves the analysts' lists, invitations and reports.

(For developers: one module per group of subcommands, listed in COMMANDS.)

Each module in COMMANDS has ``register(subparsers)``; every subcommand sets
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

# every command, by the module that registers it (a test holds the two to agree): a run builds
# the parser of its own command only, so `optdesk classify` imports none of the store's modules
COMMANDS = {
    "classify": "optdesk.cli.classify_cmds",
    "list-unsubscribe": "optdesk.cli.classify_cmds",
    "rules": "optdesk.cli.classify_cmds",
    "demo-mailbox": "optdesk.cli.daemon_cmds",
    "run": "optdesk.cli.daemon_cmds",
    "status": "optdesk.cli.daemon_cmds",
    "engagement": "optdesk.cli.engagement_cmds",
    "invitations": "optdesk.cli.invite_cmds",
    "invite": "optdesk.cli.invite_cmds",
    "desk": "optdesk.cli.lab_cmds",
    "lab": "optdesk.cli.lab_cmds",
    "outlet": "optdesk.cli.outlet_cmds",
    "report": "optdesk.cli.report_cmds",
    "serve": "optdesk.cli.serve_cmds",
    "contact": "optdesk.cli.store_cmds",
    "export": "optdesk.cli.store_cmds",
    "import": "optdesk.cli.store_cmds",
    "init": "optdesk.cli.store_cmds",
    "opt-out": "optdesk.cli.store_cmds",
    "suppressions": "optdesk.cli.store_cmds",
    "undo-opt-out": "optdesk.cli.store_cmds",
}
COMMAND_MODULES = tuple(sorted(set(COMMANDS.values())))
# the global options that take a value (`--db FILE`): the command is the first other word
_VALUED = ("--config", "--db", "--mailbox", "--data-group")

log = logging.getLogger("optdesk")
SUMMARY = "optdesk.summary"  # the logger of the lines shown without -v (optdesk.daemon.scheduler)


def _global_options(parser: argparse.ArgumentParser, defaults: bool) -> None:
    """The options every command takes, before or after its name. After it they override."""
    def default(value):
        return value if defaults else argparse.SUPPRESS

    known = {s for action in parser._actions for s in action.option_strings}
    if "--config" not in known:
        parser.add_argument("--config", default=default(None),
                            help="optdesk.toml to read (default: $OPTDESK_CONFIG, else ./optdesk.toml)")
    if "--db" not in known:
        parser.add_argument("--db", default=default(None),
                            help="the store file (default: data/optdesk.duckdb)")
    if "--mailbox" not in known:
        parser.add_argument("--mailbox", default=default(None),
                            help="the team's mailbox: maildir:PATH, imaps://user@host:port/FOLDER")
    if "--data-group" not in known:
        parser.add_argument("--data-group", dest="data_group_global", metavar="G",
                            default=default(None),
                            help="the data group (the desk or client) to work on (default: demo)")
    if "-v" not in known:
        parser.add_argument("-v", "--verbose", action="count", default=default(0),
                            help="-v: what optdesk does; -vv: debugging detail "
                            "(default: warnings, errors and one summary line per poll)")


def _leaves(parser: argparse.ArgumentParser):
    """The parsers of every command (``import contacts``, not ``import``)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
        return
    for action in subs:
        for child in dict.fromkeys(action.choices.values()):
            yield from _leaves(child)


def build_parser(modules: tuple[str, ...] = COMMAND_MODULES) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="optdesk", description=__doc__.split("\n\n")[0])
    _global_options(parser, defaults=True)
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in modules:
        importlib.import_module(name).register(sub)
    for leaf in _leaves(parser):
        if leaf is not parser:
            _global_options(leaf, defaults=False)
    return parser


def command_of(argv: list[str]) -> str | None:
    """The command word of a command line (``classify`` in ``--db x classify M``); None when
    an option argparse must read comes first (``--help``) or the word is no command."""
    args = iter(argv)
    for word in args:
        if word in _VALUED:
            next(args, None)
        elif word.split("=", 1)[0] in _VALUED or word == "--verbose" or (
                len(word) > 1 and word.strip("-v") == "" and word.startswith("-v")):
            continue
        else:
            return word if word in COMMANDS else None
    return None


def _parser_for(argv: list[str]) -> argparse.ArgumentParser:
    """The parser of the command being run only (its module alone is imported); the whole
    parser for help, a misspelt command or none, so that argparse lists every command."""
    command = command_of(argv)
    return build_parser((COMMANDS[command],)) if command else build_parser()


def commands(parser: argparse.ArgumentParser | None = None, prefix: str = "") -> list[str]:
    """Every command as users type it: ``init``, ``import contacts`` …"""
    parser = parser or build_parser()
    out = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                inner = commands(child, f"{prefix}{name} ")
                out.extend(inner or [f"{prefix}{name}"])
    return out


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
    argv = sys.argv[1:] if argv is None else list(argv)
    args = _parser_for(argv).parse_args(argv)
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
