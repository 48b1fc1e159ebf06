"""CSV written for people: no cell a spreadsheet would run as a formula.

Excel, LibreOffice Calc and Google Sheets evaluate a cell that begins with ``=``, ``+``, ``-``,
``@``, a tab or a carriage return, so a contact named ``=HYPERLINK("http://…","x")`` would run
when an export is opened. As OWASP recommends (CSV Injection), such a text cell gets a leading
single quote, which spreadsheets read as "this is text" and do not show; a value holding the
separator, a quote or a line break is quoted with its quotes doubled (RFC 4180). Numbers and
dates are not text cells and are written as they are.

Only exports meant for people go through here (``optdesk export opted-out --format csv``,
``optdesk suppressions --format csv``, the export of notebook 02, the report CSVs). Formats for
machines are written exactly: ``optdesk suppressions`` (one address a line) and Parquet.
"""

from __future__ import annotations

import pathlib

import polars as pl

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = r"^[=+\-@\t\r]"  # a cell starting with one of FORMULA_START


def neutralise(value: str) -> str:
    """One cell: ``'=1+1`` for ``=1+1``; anything else unchanged."""
    return "'" + value if value.startswith(FORMULA_START) else value


def for_people(frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with every text cell that a spreadsheet would evaluate neutralised."""
    texts = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(_PATTERN))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name in texts
    )


def write_csv(frame: pl.DataFrame, path: str | pathlib.Path | None = None, *,
              bom: bool = False) -> str | None:
    """Write the frame as CSV for people to ``path``; without a path, return the text.

    ``bom``: start the file with the UTF-8 byte order mark, so that Excel opening it with a
    double click reads accents right (``Amélie``, not ``AmÃ©lie``); every CSV reader skips it.
    """
    safe = for_people(frame)
    if path is None:
        return safe.write_csv()
    safe.write_csv(path, include_bom=bom)
    return None
