"""Contact import from the team's own exports (CSV, XLSX or Parquet): every row checked first,
then applied in one transaction; ``dry_run`` shows what would change and writes nothing.

The file is read by ``optdesk.contact_exports`` (a preset and ``--map`` say which column is
which field; one row per address or one row per contact with several address columns). Contacts
are keyed by the team's own id (text; ``optdesk.store.contact_ids`` turns it into the internal
key), system addresses by email, private addresses by (email, data group), outlets by name,
lists by (data group, name). Re-importing updates, never duplicates; a contact field the file
does not carry is left as it is. Import is additive for addresses and list memberships: a row
absent from a later file removes nothing.

Every refusal names the file, the row (1-based, the header not counted) and the export's column:
a blank id, a contact without a name, an address the one address rule refuses
(``optdesk.addresses``: email-validator, no DNS), a kind that is not system or private, a reach
that is not a whole number, an address given to two contacts, a contact whose rows disagree.
"""

from __future__ import annotations

import pathlib
from collections.abc import Callable

import polars as pl

from optdesk import addresses
from optdesk.contact_exports.mapping import RECORD_FIELDS, mapping_for
from optdesk.contact_exports.reading import Export, read_export
from optdesk.errors import ImportFailed
from optdesk.store import contact_ids
from optdesk.store.base import utcnow
from optdesk.store.engagement_totals import refresh_engagers

COLUMNS = (
    "contact_id", "first_name", "last_name", "outlet", "outlet_reach", "title", "email",
    "email_kind", "lists", "country", "language", "reach",
)
_INT = r"^\d{1,18}$"
_ID_MAX = 255
_CONTROL = r"[\x00-\x1f\x7f]"
SHOWN_PROBLEMS = 10

Progress = Callable[[str], None]
PROBLEM_SCHEMA = {"_line": pl.Int64, "column": pl.String, "reason": pl.String,
                  "value": pl.String, "contact_id": pl.String}


def _blank(c: str) -> pl.Expr:
    return pl.col(c).is_null() | (pl.col(c) == "")


# (field, expression true for a BAD value, reason); the field's column names it
CHECKS = (
    ("contact_id", _blank("contact_id"), "a contact needs an id"),
    ("contact_id", pl.col("contact_id").str.len_chars() > _ID_MAX,
     f"an id is at most {_ID_MAX} characters"),
    ("contact_id", pl.col("contact_id").str.contains(_CONTROL), "an id has no control characters"),
    ("first_name", _blank("first_name") & _blank("last_name"),
     "a contact needs a first or a last name"),
    ("email", _blank("email"), "not an email address: it is empty"),
    ("email_kind", ~_blank("email_kind")
     & ~pl.col("email_kind").str.to_lowercase().is_in(["system", "private"]),
     "must be 'system' or 'private'"),
    ("outlet_id", pl.col("outlet_id").str.contains(_CONTROL), "an id has no control characters"),
    ("outlet_reach", ~_blank("outlet_reach") & ~pl.col("outlet_reach").str.contains(_INT),
     "must be a whole number"),
    ("reach", ~_blank("reach") & ~pl.col("reach").str.contains(_INT), "must be a whole number"),
)


def problems(export: Export) -> pl.DataFrame:
    """Every refusal of the file: _line, column (the export's), reason, value, contact_id;
    ordered by row, then by the order of the checks."""
    df = export.rows
    found = []
    for order, (field, bad, reason) in enumerate(CHECKS):
        hit = df.filter(bad.fill_null(False))
        found.append(_named(hit, export, field, reason, order))
    found.append(_bad_addresses(df, export))
    found.extend(_disagreements(df, export))
    out = pl.concat([f for f in found if f.height] or [pl.DataFrame(schema={
        **PROBLEM_SCHEMA, "_order": pl.Int64})])
    return out.sort("_line", "_order").drop("_order")


def _named(hit: pl.DataFrame, export: Export, field: str, reason, order: int) -> pl.DataFrame:
    column = pl.col("_column") if field == "email" else pl.lit(export.columns.get(field, field))
    why = reason if isinstance(reason, pl.Expr) else pl.lit(reason)
    return hit.select(pl.col("_line").cast(pl.Int64), column.alias("column"),
                      why.alias("reason"), pl.col(field).cast(pl.String).alias("value"),
                      pl.col("contact_id"), pl.lit(order, pl.Int64).alias("_order"))


def _bad_addresses(df: pl.DataFrame, export: Export) -> pl.DataFrame:
    """Rows whose address the one address rule refuses (each distinct address checked once)."""
    reasons = {}
    for value in df["email"].drop_nulls().unique().to_list():
        if value and (reason := addresses.problem(value)) is not None:
            reasons[value] = "not an email address: " + reason
    hit = df.filter(pl.col("email").is_in(list(reasons)))
    why = pl.col("email").replace_strict(reasons, default=None, return_dtype=pl.String)
    return _named(hit, export, "email", why, len(CHECKS))


def _disagreements(df: pl.DataFrame, export: Export) -> list[pl.DataFrame]:
    """An address given to more than one contact; a contact whose later rows differ from its
    first in a field of its record."""
    lower = df.with_columns(pl.col("email").str.to_lowercase().alias("_email"),
                            pl.col("email_kind").str.to_lowercase().fill_null("system")
                            .replace("", "system").alias("_kind"))
    firsts = lower.sort("_row").group_by("_email", "_kind").agg(
        pl.col("contact_id").first().alias("_owner"))
    shared = lower.join(firsts, on=["_email", "_kind"]).filter(
        pl.col("contact_id") != pl.col("_owner"))
    out = [_named(shared, export, "email", pl.format("{} is given to more than one contact",
                                                     pl.col("email")), len(CHECKS) + 1)]
    firsts = df.sort("_row").group_by("contact_id").first().select(
        "contact_id", *[pl.col(f).alias(f"{f}_first") for f in RECORD_FIELDS])
    joined = df.join(firsts, on="contact_id")
    for k, field in enumerate(RECORD_FIELDS):
        diff = joined.filter(pl.col(field).ne_missing(pl.col(f"{field}_first")))
        why = pl.format("contact {} has {} here but {} on an earlier row", pl.col("contact_id"),
                        _quoted(field), _quoted(f"{field}_first"))
        out.append(_named(diff, export, field, why, len(CHECKS) + 2 + k))
    return out


def _quoted(column: str) -> pl.Expr:
    return pl.when(pl.col(column).is_null()).then(pl.lit("None")).otherwise(
        pl.format("'{}'", pl.col(column)))


def _outlet_keys(con, export: Export) -> pl.DataFrame:
    """(outlet_id: the team's id, _outlet_key: the internal key or null) of the file's
    outlet_id column."""
    if "outlet_id" not in export.fields:
        return pl.DataFrame(schema={"outlet_id": pl.String, "_outlet_key": pl.Int64})
    ids = export.rows["outlet_id"].drop_nulls().str.strip_chars()
    ids = ids.filter(ids != "")
    return contact_ids.resolve(con, ids, contact_ids.OUTLETS).rename(
        {"external_id": "outlet_id", "outlet_id": "_outlet_key"})


def _unknown_outlets(con, export: Export, keys: pl.DataFrame) -> pl.DataFrame:
    """Rows whose outlet_id is no outlet of the store (``optdesk import outlets`` makes them)."""
    if "outlet_id" not in export.fields:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    unknown = keys.filter(pl.col("_outlet_key").is_null())["outlet_id"].to_list()
    hit = export.rows.filter(pl.col("outlet_id").str.strip_chars().is_in(unknown))
    return _named(hit, export, "outlet_id", "no outlet with this id in the store (optdesk "
                  "import outlets adds outlets)", len(CHECKS) + 99).drop("_order")


def message(found: pl.DataFrame, source: str, i: int = 0) -> str:
    p = found.row(i, named=True)
    return (f"{source}: row {p['_line']}, column {p['column']}: {p['reason']} "
            f"(got {p['value']!r})")


def clean(rows: pl.DataFrame, outlet_keys: pl.DataFrame | None = None) -> pl.DataFrame:
    """Checked rows in the store's shape: ids stripped, addresses lower-cased, kinds filled,
    reaches as integers, outlet_id the outlet's internal key (``outlet_keys``: the team's
    outlet ids resolved, ``_outlet_keys``)."""
    if outlet_keys is None or "outlet_id" not in rows.columns:
        outlet = pl.lit(None, pl.Int64).alias("outlet_id")
    else:
        rows = rows.with_columns(pl.col("outlet_id").str.strip_chars()).join(
            outlet_keys, on="outlet_id", how="left", maintain_order="left")
        outlet = pl.col("_outlet_key").alias("outlet_id")
    return rows.with_columns(
        pl.col("contact_id").str.strip_chars(),
        pl.col("email").str.to_lowercase(),
        pl.col("email_kind").fill_null("system").replace("", "system").str.to_lowercase(),
        outlet,
        pl.col("outlet_reach").replace("", None).cast(pl.Int64),
        pl.col("reach").replace("", None).cast(pl.Int64),
    )


class ContactImport:
    """Mixin: ``import_contacts``. Needs ``self.db`` and StoreBase."""

    def import_contacts(
        self, path: str | pathlib.Path, data_group: str, progress: Progress | None = None, *,
        preset: str | None = None, mapping: list[str] | tuple[str, ...] = (),
        dry_run: bool = False,
    ) -> dict:
        """Import a contacts file into a data group; all or nothing. Returns counts (rows of the
        file, addresses, contacts, new_contacts). With ``dry_run`` nothing is written and the
        counts say what would change (``optdesk.store.import_preview``)."""
        say = progress or (lambda message: None)
        source = str(path)
        export = read_export(path, mapping_for(preset, list(mapping)))
        say(f"read {export.lines} rows from {path}")
        file_found = problems(export)
        if file_found.height and not dry_run:
            raise ImportFailed(message(file_found, source))
        if dry_run:
            from optdesk.store.import_preview import preview

            with self.db.connection() as con:
                found, rows = self._checked(con, export, file_found)
                say(f"validated {export.lines} rows ({rows.height} addresses)")
                return preview(con, self._keyed(con, rows), data_group, export, found, source)
        with self.db.transaction() as con:
            found, rows = self._checked(con, export, file_found)
            if found.height:
                raise ImportFailed(message(found, source))
            say(f"validated {export.lines} rows ({rows.height} addresses)")
            self._ensure_group(con, data_group)
            counts = self._apply(con, self._keyed(con, rows), data_group, export.fields, say)
        return {"rows": export.lines, "addresses": counts["rows"],
                "contacts": counts["contacts"], "new_contacts": counts["new_contacts"]}

    @staticmethod
    def _checked(con, export: Export, found: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
        """(every refusal, with those that need the store; the clean rows of the contacts
        not refused)."""
        keys = _outlet_keys(con, export)
        found = pl.concat([found, _unknown_outlets(con, export, keys)]).sort(
            "_line", maintain_order=True)
        refused = found["contact_id"].unique().drop_nulls()
        rows = export.rows.filter(~pl.col("contact_id").is_in(refused.to_list())
                                  & ~pl.col("_line").is_in(found["_line"].to_list()))
        return found, clean(rows, keys).drop("_outlet_key", strict=False)

    @staticmethod
    def _keyed(con, rows: pl.DataFrame) -> pl.DataFrame:
        """The rows with the internal key (``contact_id``) and the team's id (``external_id``)."""
        keys = contact_ids.assign(con, rows["contact_id"])
        return rows.rename({"contact_id": "external_id"}).join(
            keys.select("external_id", "contact_id"), on="external_id", how="left")

    def _apply(self, con, df: pl.DataFrame, data_group: str, fields: tuple[str, ...],
               say: Progress) -> dict:
        from optdesk.store import bulk

        con.register("stage", df)
        try:
            counts = bulk.apply_stage(con, data_group, utcnow(), say, fields)
        finally:
            con.unregister("stage")
        refresh_engagers(con)  # an address may belong to someone else now
        return counts
