"""Small helpers shared by the command modules: opening the store, printing frames."""

from __future__ import annotations

import argparse
import pathlib
import sys

from optdesk.errors import NotFound
from optdesk.settings import Settings


def open_store(settings: Settings, *, create: bool = False):
    """The store at ``settings.db``. Only ``init`` and ``import`` create a missing one: the
    other commands read (or change) a store that exists, and refuse rather than leave an empty
    store file behind."""
    from optdesk.store import Store

    if not create and not pathlib.Path(settings.db).exists():
        raise NotFound(f"no store at {settings.db} (optdesk init creates one)")
    return Store(settings.db)


def group(args: argparse.Namespace, settings: Settings) -> str:
    """The data group named on the subcommand, else the global option/config value."""
    return getattr(args, "data_group", None) or settings.data_group


def add_group(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data-group", dest="data_group", metavar="G",
                        help="data group (default: the configured one, 'demo')")


def stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def print_frame(df) -> None:
    import polars as pl  # here, not at import: every optdesk command would pay ~0.2 s

    with pl.Config(tbl_rows=200, tbl_cols=20, fmt_str_lengths=60, tbl_hide_dataframe_shape=True):
        print(df)
