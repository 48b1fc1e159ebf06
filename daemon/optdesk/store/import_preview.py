"""What a contact import would change, read before anything is written (``--dry-run``).

Per contact of the file: new (its id is no contact's yet), updated (a field the file carries
differs from the store, or it gains an address or a list), unchanged, or refused (a row of it
is refused; the real import would refuse the whole file). Per column: how many existing
contacts would change in it, named by the export's column. Reads only: the staged rows are a
registered frame, no table is written.
"""

from __future__ import annotations

import duckdb
import polars as pl

from optdesk.contact_exports.reading import Export

FIELDS = ("first_name", "last_name", "outlet", "outlet_id", "title", "country", "language",
          "reach")
SHOWN = 10


def preview(con: duckdb.DuckDBPyConnection, staged: pl.DataFrame, data_group: str,
            export: Export, found: pl.DataFrame, source: str) -> dict:
    fields = [f for f in FIELDS if f in export.fields]
    con.register("stage", staged)
    try:
        changed = " OR ".join(
            f"s.{f} IS DISTINCT FROM {'o.name' if f == 'outlet' else 'c.' + f}" for f in fields)
        row = con.execute(f"""
            WITH s AS (SELECT DISTINCT ON (contact_id) * FROM stage ORDER BY contact_id, _row),
            gains_address AS (
                SELECT DISTINCT t.contact_id FROM stage t
                WHERE NOT EXISTS (SELECT 1 FROM addresses a
                    WHERE a.email = t.email AND a.kind = t.email_kind
                      AND a.data_group = CASE WHEN t.email_kind = 'system' THEN '' ELSE $1 END
                      AND a.contact_id = t.contact_id)),
            gains_list AS (
                SELECT DISTINCT m.contact_id FROM (
                    SELECT contact_id, trim(unnest(string_split(lists, ';'))) AS name
                    FROM stage WHERE lists IS NOT NULL) m
                WHERE m.name <> '' AND NOT EXISTS (
                    SELECT 1 FROM list_members lm JOIN media_lists ml USING (list_id)
                    WHERE ml.data_group = $1 AND ml.name = m.name
                      AND lm.contact_id = m.contact_id)),
            j AS (
                SELECT s.*, c.contact_id IS NULL AS new, {changed or 'false'} AS changed,
                       s.contact_id IN (SELECT contact_id FROM gains_address) AS address,
                       s.contact_id IN (SELECT contact_id FROM gains_list) AS list
                FROM s LEFT JOIN contacts c USING (contact_id)
                LEFT JOIN outlets o ON o.outlet_id = c.outlet_id)
            SELECT count(*), count(*) FILTER (WHERE new),
                   count(*) FILTER (WHERE NOT new AND (changed OR address OR list)),
                   count(*) FILTER (WHERE NOT new AND address),
                   count(*) FILTER (WHERE NOT new AND list)
            FROM j
        """, [data_group]).fetchall()[0]
        per_field = _per_field(con, fields) if fields else {}
    finally:
        con.unregister("stage")
    contacts, new, updated, gains_address, gains_list = row
    columns = {export.columns[f]: n for f, n in per_field.items() if n}
    if gains_address:
        columns["addresses"] = gains_address
    if gains_list:
        columns[export.columns.get("lists", "lists")] = gains_list
    refused_lines = export.lines - staged["_line"].n_unique()
    refused_contacts = found.filter(pl.col("contact_id").is_not_null()
                                    & (pl.col("contact_id") != ""))["contact_id"].n_unique()
    by_column = dict(found.group_by("column").len().sort("len", descending=True).iter_rows())
    from optdesk.store.importer import message

    return {
        "dry_run": True, "rows": export.lines, "contacts": contacts, "new_contacts": new,
        "updated": updated, "unchanged": contacts - new - updated,
        "refused_rows": refused_lines, "refused_contacts": refused_contacts,
        "changes": columns, "refused_by_column": by_column,
        "problems": [message(found, source, i) for i in range(min(SHOWN, found.height))],
        "problem_count": found.height,
    }


def _per_field(con: duckdb.DuckDBPyConnection, fields: list[str]) -> dict[str, int]:
    """{field: existing contacts whose value in the store differs from the file's}."""
    sums = ", ".join(
        f"count(*) FILTER (WHERE s.{f} IS DISTINCT FROM {'o.name' if f == 'outlet' else 'c.' + f})"
        for f in fields)
    values = con.execute(
        f"SELECT {sums} FROM (SELECT DISTINCT ON (contact_id) * FROM stage"
        " ORDER BY contact_id, _row) s JOIN contacts c USING (contact_id)"
        " LEFT JOIN outlets o ON o.outlet_id = c.outlet_id").fetchall()[0]
    return dict(zip(fields, values, strict=True))


def describe(counts: dict, data_group: str) -> list[str]:
    """The dry run as lines for people (the CLI prints them, notebook 07 shows them)."""
    lines = [f"dry run, nothing written: {counts['rows']:,} rows, {counts['contacts']:,} "
             f"contacts for data group {data_group!r}: {counts['new_contacts']:,} new, "
             f"{counts['updated']:,} updated, {counts['unchanged']:,} unchanged, "
             f"{counts['refused_contacts']:,} refused ({counts['refused_rows']:,} rows)"]
    if counts["changes"]:
        lines.append("updated, per column: " + ", ".join(
            f"{column} {n:,}" for column, n in counts["changes"].items()))
    if counts["refused_by_column"]:
        lines.append("refused, per column: " + ", ".join(
            f"{column} {n:,}" for column, n in counts["refused_by_column"].items()))
        lines.extend(counts["problems"])
        more = counts["problem_count"] - len(counts["problems"])
        if more:
            lines.append(f"… and {more:,} more refusals")
        lines.append("the import would refuse this file: nothing is applied while a row is refused")
    return lines
