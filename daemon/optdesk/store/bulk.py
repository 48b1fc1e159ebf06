"""Set-based writes from a registered ``stage`` relation (import), then the search index."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import duckdb

from optdesk.contact_exports.mapping import CONTACT_FIELDS
from optdesk.store.search import rebuild_search_tokens

# a contact field of the file -> how an existing contact takes it (only the file's fields)
_UPDATES = {"first_name": "first_name = excluded.first_name",
            "last_name": "last_name = excluded.last_name",
            "outlet": "outlet_id = excluded.outlet_id",
            "outlet_id": "outlet_id = excluded.outlet_id", "title": "title = excluded.title",
            "country": "country = excluded.country", "language": "language = excluded.language",
            "reach": "reach = excluded.reach"}

def apply_stage(
    con: duckdb.DuckDBPyConnection, data_group: str, now: dt.datetime, say: Callable[[str], None],
    fields: tuple[str, ...] = CONTACT_FIELDS,
) -> dict:
    """Upsert outlets, contacts, addresses, lists and memberships from ``stage`` (internal key
    ``contact_id``, the team's ``external_id``). A contact that exists has only ``fields``
    updated (the fields the file carries)."""
    before = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
    con.execute("""
        INSERT INTO outlets (outlet_id, external_id, name, reach)
        SELECT key, CAST(key AS VARCHAR), name, reach FROM (
        SELECT (SELECT coalesce(max(outlet_id), 0) FROM outlets) + row_number() OVER (ORDER BY name)
               AS key, name, reach
        FROM (SELECT outlet AS name, max(outlet_reach) AS reach FROM stage
              WHERE outlet IS NOT NULL AND outlet <> '' AND outlet_id IS NULL GROUP BY outlet) s
        WHERE NOT EXISTS (SELECT 1 FROM outlets o WHERE o.name = s.name))
    """)
    con.execute("""
        UPDATE outlets SET reach = s.reach
        FROM (SELECT outlet, max(outlet_reach) AS reach FROM stage GROUP BY outlet) s
        WHERE outlets.name = s.outlet AND s.reach IS NOT NULL
    """)
    say("outlets written")
    updated = list(dict.fromkeys(_UPDATES[f] for f in fields if f in _UPDATES))
    if {"first_name", "last_name"} & set(fields):
        first, last = (f"excluded.{f}" if f in fields else f"contacts.{f}"
                       for f in ("first_name", "last_name"))
        updated.append(f"name = trim(concat_ws(' ', nullif({first}, ''), nullif({last}, '')))")
    con.execute(f"""
        INSERT INTO contacts (contact_id, first_name, last_name, name, outlet_id, title, country,
                              language, reach, updated_at, external_id)
        SELECT s.contact_id, s.first_name, s.last_name,
               trim(concat_ws(' ', nullif(s.first_name, ''), nullif(s.last_name, ''))),
               coalesce(s.outlet_id, o.outlet_id), s.title, s.country, s.language, s.reach, ?,
               s.external_id
        FROM (SELECT DISTINCT ON (contact_id) * FROM stage ORDER BY contact_id, _row) s
        LEFT JOIN outlets o ON o.name = s.outlet
        ON CONFLICT (contact_id) DO UPDATE SET {", ".join([*updated, "updated_at = excluded.updated_at"])}
    """, [now])
    total = con.execute("SELECT count(*) FROM contacts").fetchall()[0][0]
    say(f"contacts written ({total - before} new)")
    _apply_addresses(con, data_group, now)
    say("addresses written")
    _apply_lists(con, data_group, now)
    say("lists written")
    staged = con.execute("SELECT count(DISTINCT contact_id) FROM stage").fetchall()[0][0]
    rebuild_search_tokens(con, only_staged=staged < max(50_000, total // 10))
    say("search index rebuilt")
    return {
        "rows": con.execute("SELECT count(*) FROM stage").fetchall()[0][0],
        "contacts": staged,
        "new_contacts": total - before,
    }


def _apply_addresses(con: duckdb.DuckDBPyConnection, data_group: str, now: dt.datetime) -> None:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE staged_addresses AS
        SELECT DISTINCT ON (email, kind) email, contact_id, kind,
               CASE WHEN kind = 'system' THEN '' ELSE ? END AS data_group, _row
        FROM (SELECT email, contact_id, email_kind AS kind, _row FROM stage)
        ORDER BY email, kind, _row
    """, [data_group])
    con.execute("""
        DELETE FROM addresses a USING staged_addresses s
        WHERE a.email = s.email AND a.kind = s.kind AND a.data_group = s.data_group
    """)
    con.execute("""
        INSERT INTO addresses (email, contact_id, kind, data_group, is_primary, added_at)
        SELECT email, contact_id, kind, data_group, false, ? FROM staged_addresses ORDER BY _row
    """, [now])
    # primary: a contact's first system address in file order, else its first private one
    con.execute("""
        UPDATE addresses SET is_primary = (addresses.email = p.email)
        FROM (SELECT DISTINCT ON (contact_id) contact_id, email FROM staged_addresses
              ORDER BY contact_id, (kind = 'system') DESC, _row) p
        WHERE addresses.contact_id = p.contact_id
          AND EXISTS (SELECT 1 FROM visible_addresses(?) v
                      WHERE v.contact_id = addresses.contact_id AND v.email = addresses.email
                        AND v.kind = addresses.kind AND v.data_group = addresses.data_group)
    """, [data_group])
    con.execute("DROP TABLE staged_addresses")


def _apply_lists(con: duckdb.DuckDBPyConnection, data_group: str, now: dt.datetime) -> None:
    con.execute("""
        CREATE OR REPLACE TEMP TABLE staged_members AS
        SELECT DISTINCT contact_id, trim(name) AS name
        FROM (SELECT contact_id, unnest(string_split(lists, ';')) AS name FROM stage
              WHERE lists IS NOT NULL)
        WHERE trim(name) <> ''
    """)
    con.execute("""
        INSERT INTO media_lists
        SELECT (SELECT coalesce(max(list_id), 0) FROM media_lists) + row_number() OVER (ORDER BY name),
               ?, name, ?
        FROM (SELECT DISTINCT name FROM staged_members) s
        WHERE NOT EXISTS (SELECT 1 FROM media_lists l WHERE l.data_group = ? AND l.name = s.name)
    """, [data_group, now, data_group])
    con.execute("""
        INSERT INTO list_members
        SELECT l.list_id, s.contact_id FROM staged_members s
        JOIN media_lists l ON l.data_group = ? AND l.name = s.name
        WHERE NOT EXISTS (SELECT 1 FROM list_members m
                          WHERE m.list_id = l.list_id AND m.contact_id = s.contact_id)
    """, [data_group])
    con.execute("DROP TABLE staged_members")
