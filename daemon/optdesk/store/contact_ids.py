"""The team's own contact ids and the store's internal key: the one resolution between them.

A contact has two ids. ``external_id`` is the team's: whatever its CRM or media database calls
the contact (``003Aa00000XyZ12``, a UUID, ``c-1234``, or ``17``), text, compared exactly (case
and all) after surrounding spaces are stripped, unique across the store (contacts and their
system addresses are shared by every data group, so one id names one contact for all of them).
``contact_id`` is the store's internal integer key (every table joins on it; a one-click token
carries it); people never need to see or type it.

Migration ``0010_external_ids`` gave every existing contact ``external_id`` = its integer id as
text, so an integer-id store and its files keep working: ``17`` in a file or on the command line
is the contact whose team id is ``"17"``. A new contact whose id is a whole number (no leading
zero) that is no contact's key yet gets that number as its key (an integer-id import keeps the
keys it had before issue 15); any other new contact gets the next key past the largest.

``resolve`` is the one place that turns what a user or a file names into internal keys: the
import (a whole column at once), the CLI's ``--contact`` options, the search box, the views,
invitations and undo all go through it (``ContactIds.contact_key``).

Outlets have the same two ids (migration ``0013_outlet_invitations``): ``outlets.external_id``
is the team's (the ``outlet_id`` column of ``optdesk import outlets`` and of a contact export),
``outlets.outlet_id`` the internal key; ``resolve``/``assign`` with ``table=OUTLETS`` and
``ContactIds.outlet_key`` do for them what they do for contacts.
"""

from __future__ import annotations

import duckdb
import polars as pl

from optdesk.errors import NotFound

_WHOLE = r"^[1-9][0-9]{0,17}$"
CONTACTS = ("contacts", "contact_id")
OUTLETS = ("outlets", "outlet_id")
_LOOKUP = 1_000  # up to this many ids: index lookups; more: one join


def normalise(value: object) -> str:
    """A user-supplied id as stored: text, surrounding spaces stripped."""
    return str(value).strip()


def resolve(con: duckdb.DuckDBPyConnection, ids: pl.Series,
            table: tuple[str, str] = CONTACTS) -> pl.DataFrame:
    """(external_id, contact_id) for each distinct id, contact_id null for an unknown one
    (with ``table=OUTLETS``: (external_id, outlet_id) of outlets).
    A few ids are looked up by the unique index; a file's column is joined."""
    name, key = table
    wanted = pl.DataFrame({"external_id": ids.cast(pl.String).str.strip_chars()}).unique(
        maintain_order=True)
    if wanted.height <= _LOOKUP:
        values = wanted["external_id"].drop_nulls().to_list()
        found = con.execute(
            f"SELECT external_id, {key} FROM {name} WHERE external_id IN"
            f" ({', '.join('?' for _ in values)})", values).fetchall() if values else []
        known = pl.DataFrame(found, schema={"external_id": pl.String, key: pl.Int64},
                             orient="row")
        return wanted.join(known, on="external_id", how="left")
    con.register("wanted_ids", wanted)
    try:
        return con.sql(
            f"SELECT w.external_id, c.{key} FROM wanted_ids w"
            f" LEFT JOIN {name} c ON c.external_id = w.external_id").pl()
    finally:
        con.unregister("wanted_ids")


def assign(con: duckdb.DuckDBPyConnection, ids: pl.Series,
           table: tuple[str, str] = CONTACTS) -> pl.DataFrame:
    """(external_id, contact_id, new) for each distinct id of an import, in first-seen order:
    known ids resolved, new ones given a key (see the module's docstring). Caller holds the
    transaction. With ``table=OUTLETS`` the key column is ``outlet_id``."""
    name, key = table
    order = pl.DataFrame({"external_id": ids.cast(pl.String).str.strip_chars()}).unique(
        maintain_order=True).with_row_index("_seen")
    found = order.join(resolve(con, order["external_id"], table).rename({key: "contact_id"}),
                       on="external_id", how="left")
    new = found.filter(pl.col("contact_id").is_null())
    if new.height:
        whole = new.filter(pl.col("external_id").str.contains(_WHOLE)).with_columns(
            pl.col("external_id").cast(pl.Int64).alias("_own"))
        taken = set()
        if whole.height:
            con.register("own_keys", whole.select("_own"))
            try:
                taken = {r[0] for r in con.execute(
                    f"SELECT {key} FROM {name} WHERE {key} IN"
                    " (SELECT _own FROM own_keys)").fetchall()}
            finally:
                con.unregister("own_keys")
        own = whole.filter(~pl.col("_own").is_in(list(taken))).select("external_id", "_own")
        top = max(con.execute(f"SELECT coalesce(max({key}), 0) FROM {name}")
                  .fetchall()[0][0], own["_own"].max() or 0)
        new = new.join(own, on="external_id", how="left")
        rest = new.filter(pl.col("_own").is_null()).with_row_index("_n", offset=top + 1)
        keys = pl.concat([
            new.filter(pl.col("_own").is_not_null()).select("external_id", "_own"),
            rest.select("external_id", pl.col("_n").cast(pl.Int64).alias("_own"))])
        found = found.join(keys, on="external_id", how="left").with_columns(
            pl.col("contact_id").is_null().alias("new"),
            pl.coalesce("contact_id", "_own").alias("contact_id")).drop("_own")
    else:
        found = found.with_columns(pl.lit(False).alias("new"))
    return found.sort("_seen").select("external_id", pl.col("contact_id").alias(key), "new")


def for_people(df: pl.DataFrame) -> pl.DataFrame:
    """A frame written for people (an export, a report file) names each contact by the team's
    id: its ``contact_id`` column holds ``external_id``, the internal key is left out."""
    if "external_id" not in df.columns:
        return df
    return df.with_columns(pl.col("external_id").alias("contact_id")).drop("external_id")


class ContactIds:
    """Mixin: the team's ids. Needs ``self.db`` (a Database)."""

    def contact_key(self, contact: object) -> int:
        """The internal key of the contact the user named by the team's id; NotFound else."""
        return self.contact_keys([contact])[0]

    def contact_keys(self, contacts) -> list[int]:
        """The internal keys of these team ids, in order; NotFound naming the first unknown."""
        wanted = [normalise(c) for c in contacts]
        if not wanted:
            return []
        with self.db.connection() as con:
            known = dict(resolve(con, pl.Series(wanted, dtype=pl.String)).iter_rows())
        for value in wanted:
            if known.get(value) is None:
                raise NotFound(f"no contact with id {value}")
        return [int(known[v]) for v in wanted]

    def external_ids(self, keys) -> dict[int, str]:
        """{internal key: the team's id} for these keys (those that exist)."""
        ids = sorted({int(k) for k in keys if k is not None})
        if not ids:
            return {}
        return dict(self.db.rows(
            f"SELECT contact_id, external_id FROM contacts WHERE contact_id IN"
            f" ({', '.join('?' for _ in ids)})", ids))

    def outlet_key(self, outlet: object) -> int:
        """The internal key of the outlet the user named by the team's id; NotFound else."""
        return self.outlet_keys([outlet])[0]

    def outlet_keys(self, outlets) -> list[int]:
        """The internal keys of these team outlet ids, in order; NotFound naming the first
        unknown."""
        wanted = [normalise(o) for o in outlets]
        if not wanted:
            return []
        with self.db.connection() as con:
            known = dict(resolve(con, pl.Series(wanted, dtype=pl.String), OUTLETS).iter_rows())
        for value in wanted:
            if known.get(value) is None:
                raise NotFound(f"no outlet with id {value}")
        return [int(known[v]) for v in wanted]

    def outlet_external_ids(self, keys) -> dict[int, str]:
        """{internal outlet key: the team's outlet id} for these keys (those that exist)."""
        ids = sorted({int(k) for k in keys if k is not None})
        if not ids:
            return {}
        return dict(self.db.rows(
            f"SELECT outlet_id, external_id FROM outlets WHERE outlet_id IN"
            f" ({', '.join('?' for _ in ids)})", ids))
