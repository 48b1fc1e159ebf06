"""A contact export (CSV, XLSX/XLS/ODS or Parquet, read by ``optdesk.tabular``) as one row per
(contact, address), whichever shape the file has: one row per address (``email`` and
``email_kind``) or one row per contact with several address columns (``email_primary``,
``email_system``, ``email_private``; the mapping states each column's kind).

The result has the fields (text; a field the file lacks is null), ``email`` and
``email_kind``, ``_line`` (the file's row, 1-based, the header not counted), ``_column`` (the
export column the address came from, for messages) and ``_row`` (the order of the addresses:
file order, and within a row the primary column first, then the others as mapped).
"""

from __future__ import annotations

import pathlib
from dataclasses import dataclass

import polars as pl

from optdesk import tabular
from optdesk.contact_exports.mapping import CONTACT_FIELDS, WIDE_FIELDS, Mapping
from optdesk.errors import ImportFailed

KINDS = {"email_primary": "system", "email_system": "system", "email_private": "private"}


@dataclass(frozen=True)
class Export:
    rows: pl.DataFrame  # one row per (contact, address), as the module's docstring says
    columns: dict[str, str]  # field -> the export's column (for messages)
    fields: tuple[str, ...]  # the contact fields the file carries (only these are updated)
    lines: int  # rows in the file


def read_export(path: str | pathlib.Path, mapping: Mapping) -> Export:
    source = str(path)
    raw = tabular.read_table(path)
    present = mapping.present(raw.columns)
    fields = [f for _, f in present]
    wide = [(c, f) for c, f in present if f in WIDE_FIELDS]
    missing = []
    if "contact_id" not in fields:
        missing.append(_wanted(mapping, ("contact_id",)))
    if "first_name" not in fields and "last_name" not in fields:
        missing.append(_wanted(mapping, ("first_name", "last_name")))
    if wide and "email" in fields:
        raise ImportFailed(f"{source}: the mapping reads both one address per row (email) and "
                           "address columns (email_primary/system/private); map one shape")
    if not wide and "email" not in fields:
        missing.append(_wanted(mapping, ("email", *WIDE_FIELDS)))
    if missing:
        raise ImportFailed(f"{source}: missing column(s): {', '.join(missing)} "
                           f"(preset {mapping.name}; add --map COLUMN=FIELD)")
    single = {f: c for c, f in present if f not in WIDE_FIELDS}
    base = raw.with_row_index("_line", offset=1).select(
        "_line", *[pl.col(c).alias(f) for f, c in single.items() if f in CONTACT_FIELDS],
        *[pl.lit(None, pl.String).alias(f) for f in CONTACT_FIELDS if f not in single])
    contact_fields = tuple(f for f in CONTACT_FIELDS if f in single)
    if not wide:
        kind = raw[single["email_kind"]] if "email_kind" in single else pl.lit(None, pl.String)
        rows = base.with_columns(raw[single["email"]].alias("email"), kind.alias("email_kind"),
                                 pl.lit(single["email"]).alias("_column"))
        columns = dict(single)
    else:
        rows = _unpivot(raw, base, wide, source)
        columns = {**single, **{f: c for c, f in wide}}
    rows = rows.with_row_index("_row", offset=1)
    return Export(rows, columns, contact_fields, raw.height)


def _wanted(mapping: Mapping, fields: tuple[str, ...]) -> str:
    names = [c for c, f in mapping.columns if f in fields] or list(fields)
    return " or ".join(dict.fromkeys(names))


def _unpivot(raw: pl.DataFrame, base: pl.DataFrame, wide: list[tuple[str, str]],
             source: str) -> pl.DataFrame:
    """One row per non-blank address cell, the primary column first within a row; a row
    with no address at all once, its address empty."""
    primary = [c for c, f in wide if f == "email_primary"]
    if len(primary) > 1:
        raise ImportFailed(f"{source}: columns {', '.join(primary)} are all mapped to "
                           "email_primary; a contact has one primary address")
    ordered = sorted(wide, key=lambda cf: cf[1] != "email_primary")
    parts = [base.with_columns(raw[column].alias("email"), pl.lit(KINDS[field]).alias("email_kind"),
                               pl.lit(column).alias("_column"), pl.lit(k).alias("_k"))
             for k, (column, field) in enumerate(ordered)]
    long = pl.concat(parts)
    filled = pl.col("email").is_not_null() & (pl.col("email") != "")
    # a row without any address stays, once, with no address: the import refuses it by name
    none = base.join(long.filter(filled).select("_line").unique(), on="_line", how="anti")
    empty = long.filter(pl.col("_k") == 0).join(none.select("_line"), on="_line", how="semi")
    return pl.concat([long.filter(filled), empty]).sort("_line", "_k").drop("_k")
