"""Contact import from CSV or Parquet: validate every row first, then apply in one transaction.

One row per (contact, address). Re-importing updates contacts, never duplicates them: contacts
are keyed by contact_id, system addresses by email, private addresses by (email, data group),
outlets by name, lists by (data group, name). Import is additive for addresses and list
memberships: a row absent from a later file removes nothing.

A header that names a column twice is refused (the reader would keep one and drop the other).
Addresses are checked by the one address rule, ``optdesk.addresses`` (email-validator, no
DNS); a bad one is named by row and column with the reason.
"""

from __future__ import annotations

import csv
import pathlib
from collections.abc import Callable

import polars as pl

from optdesk import addresses, tabular
from optdesk.errors import ImportFailed
from optdesk.store.base import utcnow
from optdesk.store.engagement_totals import refresh_engagers

COLUMNS = (
    "contact_id", "first_name", "last_name", "outlet", "outlet_reach", "title", "email",
    "email_kind", "lists", "country", "language", "reach",
)
_INT = r"^\s*\d{1,18}\s*$"

Progress = Callable[[str], None]


def read_contacts_file(path: str | pathlib.Path) -> pl.DataFrame:
    """Read a CSV or Parquet contacts file with every column as text."""
    path = pathlib.Path(path)
    if not path.exists():
        raise ImportFailed(f"{path}: no such file")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            df = pl.read_parquet(path)
            df = df.with_columns(pl.all().cast(pl.String))
        else:
            _check_header(path)
            df = pl.read_csv(path, infer_schema=False, encoding="utf8")
    except (pl.exceptions.PolarsError, OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ImportFailed(f"{path}: cannot be read: {exc}") from exc
    missing = [c for c in COLUMNS if c not in df.columns]
    if missing:
        raise ImportFailed(f"{path}: missing column(s): {', '.join(missing)}")
    return df.select(COLUMNS).with_columns(pl.col(c).str.strip_chars() for c in COLUMNS)


def _check_header(path: pathlib.Path) -> None:
    """ImportFailed when the header row names a column twice (polars would rename the second
    ``email_duplicated_0`` and the import would silently use the first)."""
    tabular.check_header(path, tabular.csv_header(path))


def _address_problems(emails: pl.Series) -> dict[str, str]:
    """{address: reason} for each distinct non-blank value the address rule refuses."""
    out = {}
    for value in emails.drop_nulls().unique().to_list():
        if value and (reason := addresses.problem(value)) is not None:
            out[value] = reason
    return out


def _checks() -> list[tuple[str, pl.Expr, str]]:
    """(column, expression true for a BAD value, reason)."""
    def blank(c: str) -> pl.Expr:
        return pl.col(c).is_null() | (pl.col(c) == "")

    return [
        ("contact_id", blank("contact_id") | ~pl.col("contact_id").str.contains(_INT),
         "must be a whole number"),
        ("first_name", blank("first_name") & blank("last_name"),
         "a contact needs a first or a last name"),
        ("email", blank("email"), "not an email address: it is empty"),
        ("email_kind", ~blank("email_kind")
         & ~pl.col("email_kind").str.to_lowercase().is_in(["system", "private"]),
         "must be 'system' or 'private'"),
        ("outlet_reach", ~blank("outlet_reach") & ~pl.col("outlet_reach").str.contains(_INT),
         "must be a whole number"),
        ("reach", ~blank("reach") & ~pl.col("reach").str.contains(_INT), "must be a whole number"),
    ]


def validate(df: pl.DataFrame, source: str) -> pl.DataFrame:
    """Raise ImportFailed naming the first bad row (1-based, header not counted) and column."""
    bad = df.with_row_index("_row").select(
        "_row", *[expr.alias(f"_bad{i}") for i, (_, expr, _) in enumerate(_checks())]
    )
    for i, (column, _, reason) in enumerate(_checks()):
        hit = bad.filter(pl.col(f"_bad{i}").fill_null(True)).select("_row").head(1)
        if hit.height:
            row = hit.item() + 1
            value = df[row - 1, column]
            raise ImportFailed(f"{source}: row {row}, column {column}: {reason} (got {value!r})")
        if column == "email":
            _check_addresses(df, source)
    clean = df.with_columns(
        pl.col("contact_id").str.strip_chars().cast(pl.Int64),
        pl.col("email").str.to_lowercase(),
        pl.col("email_kind").fill_null("system").replace("", "system").str.to_lowercase(),
        pl.col("outlet_reach").replace("", None).cast(pl.Int64),
        pl.col("reach").replace("", None).cast(pl.Int64),
    ).with_row_index("_row", offset=1)
    _check_consistency(clean, source)
    return clean


def _check_addresses(df: pl.DataFrame, source: str) -> None:
    """ImportFailed naming the first row whose address the address rule refuses."""
    problems = _address_problems(df["email"])
    if not problems:
        return
    hit = df.with_row_index("_row").filter(pl.col("email").is_in(list(problems)))
    row, value = hit["_row"][0] + 1, hit["email"][0]
    raise ImportFailed(f"{source}: row {row}, column email: not an email address: "
                       f"{problems[value]} (got {value!r})")


def _check_consistency(df: pl.DataFrame, source: str) -> None:
    owners = df.group_by("email", "email_kind").agg(
        pl.col("contact_id").n_unique().alias("n"), pl.col("_row").max().alias("row")
    ).filter(pl.col("n") > 1).sort("row")
    if owners.height:
        row = owners.row(0, named=True)
        raise ImportFailed(
            f"{source}: row {row['row']}, column email: {row['email']} is given to more than "
            "one contact"
        )
    fields = ["first_name", "last_name", "outlet", "title", "country", "language", "reach"]
    firsts = df.group_by("contact_id", maintain_order=True).first().select("contact_id", *fields)
    joined = df.join(firsts, on="contact_id", suffix="_first")
    for column in fields:
        diff = joined.filter(
            pl.col(column).ne_missing(pl.col(f"{column}_first"))
        ).sort("_row").head(1)
        if diff.height:
            row = diff.row(0, named=True)
            raise ImportFailed(
                f"{source}: row {row['_row']}, column {column}: contact {row['contact_id']} has "
                f"{row[column]!r} here but {row[column + '_first']!r} on an earlier row"
            )


class ContactImport:
    """Mixin: ``import_contacts``. Needs ``self.db`` and StoreBase."""

    def import_contacts(
        self, path: str | pathlib.Path, data_group: str, progress: Progress | None = None
    ) -> dict:
        """Import a contacts file into a data group; all or nothing. Returns counts."""
        say = progress or (lambda message: None)
        df = read_contacts_file(path)
        say(f"read {df.height} rows from {path}")
        df = validate(df, str(path))
        say(f"validated {df.height} rows")
        return self.import_frame(df, data_group, say)

    def import_frame(self, df: pl.DataFrame, data_group: str, say: Progress) -> dict:
        from optdesk.store import bulk

        with self.db.transaction() as con:
            self._ensure_group(con, data_group)
            con.register("stage", df)
            try:
                counts = bulk.apply_stage(con, data_group, utcnow(), say)
            finally:
                con.unregister("stage")
            refresh_engagers(con)  # an address may belong to someone else now
        return counts
