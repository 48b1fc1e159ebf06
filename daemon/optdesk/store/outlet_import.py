"""Outlet import (CSV, XLSX or Parquet): one row per outlet address, every row checked first,
then applied in one transaction; a bad row is named by row and column and nothing is applied.

Columns: ``outlet_id, name, type, reach, country, language, email``. Outlets are keyed by
outlet_id, the team's own id, text (the id a contact export's ``outlet_id`` column carries;
``optdesk.store.contact_ids`` gives it an internal key), addresses by email: a re-import
updates, never duplicates. An outlet's addresses are its own (newsdesk@ …), seen by
every data group; a row with an empty email gives the outlet record only.
"""

from __future__ import annotations

import pathlib

import polars as pl

from optdesk import addresses, tabular
from optdesk.errors import ImportFailed
from optdesk.store.base import OUTLET_TYPES

COLUMNS = ("outlet_id", "name", "type", "reach", "country", "language", "email")
FIELDS = ("name", "type", "reach", "country", "language")
_INT = r"^\d{1,18}$"
_ID_MAX = 255
_CONTROL = r"[\x00-\x1f\x7f]"


def _blank(c: str) -> pl.Expr:
    return pl.col(c).is_null() | (pl.col(c) == "")


CHECKS = (  # (column, expression true for a BAD value, reason)
    ("outlet_id", _blank("outlet_id") | (pl.col("outlet_id").str.strip_chars() == ""),
     "an outlet needs an id"),
    ("outlet_id", pl.col("outlet_id").str.len_chars() > _ID_MAX,
     f"an id is at most {_ID_MAX} characters"),
    ("outlet_id", pl.col("outlet_id").str.contains(_CONTROL), "an id has no control characters"),
    ("name", _blank("name"), "an outlet needs a name"),
    ("type", ~_blank("type") & ~pl.col("type").str.to_lowercase().is_in(list(OUTLET_TYPES)),
     f"must be one of {', '.join(OUTLET_TYPES)}"),
    ("reach", ~_blank("reach") & ~pl.col("reach").str.contains(_INT), "must be a whole number"),
)


def read_outlets_file(path: str | pathlib.Path) -> pl.DataFrame:
    """The checked rows: outlet_id (the team's id) stripped, reach as an integer, type and
    email lower-cased, _row."""
    df = tabular.read_table(path)
    source = str(path)
    tabular.require(df, COLUMNS, source)
    df = df.select(COLUMNS).with_row_index("_row", offset=1)
    for column, bad, reason in CHECKS:
        hit = df.filter(bad.fill_null(True)).head(1)
        if hit.height:
            raise ImportFailed(f"{source}: row {hit['_row'][0]}, column {column}: {reason} "
                               f"(got {hit[column][0]!r})")
    df = df.with_columns(
        pl.col("outlet_id").str.strip_chars(), pl.col("reach").replace("", None).cast(pl.Int64),
        pl.col("type").replace("", None).str.to_lowercase(),
        pl.col("email").replace("", None).str.to_lowercase(),
        *[pl.col(c).replace("", None) for c in ("country", "language")],
    )
    for value, row in zip(df["email"], df["_row"], strict=True):
        if value is not None and (reason := addresses.problem(value)) is not None:
            raise ImportFailed(f"{source}: row {row}, column email: not an email address: "
                               f"{reason} (got {value!r})")
    _check_consistency(df, source)
    return df


def _check_consistency(df: pl.DataFrame, source: str) -> None:
    owners = (df.filter(pl.col("email").is_not_null())
              .group_by("email").agg(pl.col("outlet_id").n_unique().alias("n"),
                                     pl.col("_row").max().alias("row"))
              .filter(pl.col("n") > 1).sort("row"))
    if owners.height:
        row = owners.row(0, named=True)
        raise ImportFailed(f"{source}: row {row['row']}, column email: {row['email']} is given "
                           "to more than one outlet")
    firsts = df.group_by("outlet_id", maintain_order=True).first()
    joined = df.join(firsts, on="outlet_id", suffix="_first")
    for column in FIELDS:
        diff = joined.filter(pl.col(column).ne_missing(pl.col(f"{column}_first"))).sort("_row")
        if diff.height:
            row = diff.row(0, named=True)
            raise ImportFailed(
                f"{source}: row {row['_row']}, column {column}: outlet {row['outlet_id']} has "
                f"{row[column]!r} here but {row[column + '_first']!r} on an earlier row")
