"""The team's own contact ids (text) next to the internal key: import, resolution, migration of
an integer-id store, search, export."""

from __future__ import annotations

import duckdb
import polars as pl
import pytest

from fixtures.store import contact_row
from optdesk.errors import ImportFailed, NotFound
from optdesk.store import Store
from optdesk.store.migrations import MIGRATIONS, migrate

TEXT_IDS = ["003Aa00000XyZ12", "6f1c2a4e-8d5b-4c1e-9a7f-2b3c4d5e6f70", "c-1234"]


def test_text_ids_are_imported_resolved_and_reimported_without_duplicates(store, contacts_csv):
    rows = [contact_row(cid, f"p{i}@x.example") for i, cid in enumerate(TEXT_IDS)]
    first = store.import_contacts(contacts_csv(rows), "g1")
    assert first["new_contacts"] == 3
    keys = store.contact_keys(TEXT_IDS)
    assert len(set(keys)) == 3
    record = store.contact(store.contact_key("c-1234"), "g1")
    assert record["contact"]["external_id"] == "c-1234"
    assert record["addresses"]["email"].to_list() == ["p2@x.example"]
    rows[2] = contact_row("c-1234", "p2@x.example", title="Editor")
    again = store.import_contacts(contacts_csv(rows), "g1")
    assert again["new_contacts"] == 0
    assert store.db.scalar("SELECT count(*) FROM contacts") == 3
    assert store.contact(keys[2], "g1")["contact"]["title"] == "Editor"
    assert store.external_ids(keys) == dict(zip(keys, TEXT_IDS, strict=True))


def test_ids_are_compared_exactly_after_stripping_spaces(store, contacts_csv):
    store.import_contacts(contacts_csv([contact_row("c-1234", "a@x.example")]), "g1")
    assert store.contact_key("  c-1234 ") == store.contact_key("c-1234")
    with pytest.raises(NotFound, match="no contact with id C-1234"):
        store.contact_key("C-1234")
    with pytest.raises(NotFound, match="no contact with id nope"):
        store.contact_keys(["c-1234", "nope"])


def test_a_whole_number_id_keeps_its_number_as_key_unless_taken(store, contacts_csv):
    store.import_contacts(contacts_csv([contact_row(17, "a@x.example"),
                                        contact_row("c-1", "b@x.example")]), "g1")
    assert store.contact_key("17") == 17
    text_key = store.contact_key("c-1")
    assert text_key == 18  # past the largest key
    # the number 18 is taken by "c-1": the id "18" gets a key of its own, past the largest
    store.import_contacts(contacts_csv([contact_row(18, "c@x.example")]), "g1")
    assert store.contact_key("18") == 19 and store.contact_key("c-1") == 18
    assert store.contact(19, "g1")["contact"]["external_id"] == "18"
    # a leading zero is another id, not the number
    store.import_contacts(contacts_csv([contact_row("017", "d@x.example")]), "g1")
    assert store.contact_key("017") not in (17, 18, 19)


def test_an_integer_id_store_is_migrated_and_its_files_keep_working(tmp_path, contacts_csv):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    before = [m for m in MIGRATIONS if m[0] < "0010"]
    migrate(con, before)
    con.execute("INSERT INTO contacts (contact_id, first_name, last_name, name) VALUES"
                " (5, 'Ann', 'Old', 'Ann Old'), (9, 'Bob', 'Old', 'Bob Old')")
    con.execute("INSERT INTO addresses (email, contact_id, kind) VALUES"
                " ('ann@x.example', 5, 'system'), ('bob@x.example', 9, 'system')")
    con.close()
    store = Store(path)
    assert store.db.rows("SELECT contact_id, external_id FROM contacts ORDER BY 1") == [
        (5, "5"), (9, "9")]
    assert "0010_external_ids" in [r[0] for r in store.db.rows(
        "SELECT name FROM schema_migrations")]
    result = store.import_contacts(contacts_csv([contact_row(5, "ann@x.example",
                                                             first_name="Anna")]), "g1")
    assert result["new_contacts"] == 0
    assert store.contact(5, "g1")["contact"]["name"] == "Anna Last5"
    with pytest.raises(duckdb.ConstraintException):
        with store.db.transaction() as c:
            c.execute("UPDATE contacts SET external_id = '5' WHERE contact_id = 9")


def test_search_finds_a_text_id_and_a_hash_number(store, contacts_csv):
    store.import_contacts(contacts_csv([
        contact_row("c-1234", "a@x.example", first_name="Ann"),
        contact_row(17, "b@x.example", first_name="Bob"),
        contact_row("003Aa00000XyZ12", "c@x.example", first_name="Cy")]), "g1")
    found = store.search_contacts("c-1234", "g1")
    assert found.by == "id" and found.rows["external_id"].to_list() == ["c-1234"]
    assert store.search_contacts("003Aa00000XyZ12", "g1").rows["name"].to_list() == ["Cy Last003Aa00000XyZ12"]
    assert store.search_contacts("#17", "g1").rows["external_id"].to_list() == ["17"]
    nobody = store.search_contacts("404", "g1")
    assert nobody.by == "id" and nobody.rows.height == 0
    assert store.search_contacts("ann", "g1").rows["external_id"].to_list() == ["c-1234"]


def test_the_export_names_contacts_by_the_teams_id(store, contacts_csv):
    store.import_contacts(contacts_csv([contact_row("c-1234", "a@x.example")]), "g1")
    key = store.contact_key("c-1234")
    store.opt_out(key, "g1", source="manual", actor="ana")
    rows = store.opted_out("g1")
    assert rows["external_id"].to_list() == ["c-1234"]
    export = store.opted_out_export("g1", [key])
    assert export["contact_id"].to_list() == ["c-1234"] and "external_id" not in export.columns


def test_a_blank_id_is_refused_by_row_and_column(store, contacts_csv):
    with pytest.raises(ImportFailed, match=r"row 2, column contact_id: a contact needs an id"):
        store.import_contacts(contacts_csv([contact_row("c-1", "a@x.example"),
                                            contact_row("", "b@x.example")]), "g1")
    assert store.db.scalar("SELECT count(*) FROM contacts") == 0


def test_resolution_of_many_ids_joins_and_of_few_looks_up(store, contacts_csv):
    rows = [contact_row(f"id-{i}", f"a{i}@x.example") for i in range(1_200)]
    store.import_contacts(contacts_csv(rows), "g1")
    many = store.contact_keys([f"id-{i}" for i in range(1_200)])
    few = store.contact_keys(["id-5", "id-1199"])
    assert len(set(many)) == 1_200 and few == [many[5], many[1199]]
    frame = store.db.frame("SELECT contact_id, external_id FROM contacts")
    assert frame.filter(pl.col("external_id") == "id-5")["contact_id"].item() == many[5]
