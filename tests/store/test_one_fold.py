"""One word-folding rule for everything an analyst searches (optdesk.store.search): each spelling
an analyst types finds the written name through every entry point of the store."""

from __future__ import annotations

import duckdb
import pytest

from fixtures.store import contact_row, outlet_row, write_outlets_csv
from optdesk.store import Store
from optdesk.store.migrations import MIGRATIONS, migrate

# typed → the contact it must find (by the written name) or the outlet (by its written name)
CONTACT_SPELLINGS = [("soren", "Søren Lund"), ("mueller", "Anna Müller"), ("muller", "Anna Müller"),
                     ("obrien", "Grace O'Brien"), ("o'brien", "Grace O'Brien"),
                     ("O’Brien", "Grace O'Brien"), ("grace obr", "Grace O'Brien")]
OUTLET_SPELLINGS = [("borsen", "Dagbladet Børsen"), ("strasse", "Radio Straße"),
                    ("sueddeutsche", "Süddeutsche Zeitung"), ("suddeutsche zeit", "Süddeutsche Zeitung")]
OUTLETS = {1: "Dagbladet Børsen", 2: "Radio Straße", 3: "Süddeutsche Zeitung", 4: "Plain Post"}
CONTACTS = {11: ("Søren", "Lund", 1), 12: ("Anna", "Müller", 2), 13: ("Grace", "O'Brien", 3),
            14: ("Bob", "Smith", 4)}


@pytest.fixture
def folded(tmp_path, contacts_csv) -> Store:
    """Four outlets and one contact at each, every contact and outlet opted out of g1."""
    store = Store(tmp_path / "f.duckdb")
    store.import_outlets(write_outlets_csv(tmp_path / "o.csv", [
        outlet_row(i, f"desk@o{i}.example", name=name) for i, name in OUTLETS.items()]), "g1")
    store.import_contacts(contacts_csv([
        contact_row(cid, f"c{cid}@o{oid}.example", first_name=first, last_name=last,
                    outlet=OUTLETS[oid], outlet_reach="")
        for cid, (first, last, oid) in CONTACTS.items()]), "g1")
    for cid in CONTACTS:
        store.opt_out(cid, "g1", source="manual", actor="ana", reason="test")
    for oid in OUTLETS:
        store.opt_out_outlet(oid, "g1", source="manual", actor="ana")
    return store


def contact_of(name: str) -> int:
    return next(cid for cid, (f, la, _) in CONTACTS.items() if f"{f} {la}" == name)


def outlet_of(name: str) -> int:
    return next(oid for oid, n in OUTLETS.items() if n == name)


def people_at(outlet: str) -> list[int]:
    return [cid for cid, (_, _, oid) in CONTACTS.items() if OUTLETS[oid] == outlet]


@pytest.mark.parametrize(("typed", "name"), CONTACT_SPELLINGS)
def test_a_contact_spelling_is_found_by_01_and_by_02s_text(folded, typed, name):
    assert folded.search_contacts(typed, "g1").rows["contact_id"].to_list() == [contact_of(name)]
    assert folded.opted_out("g1", text=typed)["contact_id"].to_list() == [contact_of(name)]


@pytest.mark.parametrize(("typed", "name"), OUTLET_SPELLINGS)
def test_an_outlet_spelling_is_found_through_every_entry_point(folded, typed, name):
    oid = outlet_of(name)
    assert folded.search_outlets(typed, "g1")["outlet_id"].to_list() == [oid]  # 01 type-ahead
    assert folded.search_contacts(typed, "g1").rows["contact_id"].to_list() == people_at(name)
    assert folded.opted_out("g1", text=typed)["contact_id"].to_list() == people_at(name)  # 02
    assert folded.outlets("g1", text=typed) == [name]  # 02 outlet box
    assert folded.outlets(text=typed) == [name]
    assert folded.find_outlets(typed, "g1")["outlet_id"].to_list() == [oid]
    assert folded.opted_out_outlets("g1", text=typed)["outlet_id"].to_list() == [oid]


def test_words_start_words_and_unrelated_text_finds_nothing(folded):
    assert folded.opted_out("g1", text="anna strasse")["contact_id"].to_list() == [12]
    assert folded.opted_out("g1", text="anna borsen").height == 0
    assert folded.opted_out("g1", text="  , ").height == len(CONTACTS)  # no words: no filter
    assert folded.find_outlets("zeitung", "g1")["outlet_id"].to_list() == [3]
    assert folded.find_outlets("eitung", "g1").height == 0  # a word's start, not its middle
    assert folded.outlets("g1", text="100%") == []
    assert folded.find_outlets("", "g1").height == len(OUTLETS)


def test_a_renamed_outlet_is_found_by_its_new_name(folded, tmp_path):
    folded.import_outlets(write_outlets_csv(tmp_path / "o2.csv", [
        outlet_row(4, "desk@o4.example", name="Kølner Blatt")]), "g1")
    assert folded.search_outlets("kolner", "g1")["outlet_id"].to_list() == [4]
    assert folded.search_contacts("bob kolner", "g1").rows["contact_id"].to_list() == [14]
    assert folded.opted_out("g1", text="kolner")["contact_id"].to_list() == [14]
    assert folded.search_outlets("plain", "g1").height == 0


def test_an_outlet_a_contact_import_makes_is_found(folded, contacts_csv):
    folded.import_contacts(contacts_csv([contact_row(15, "z@w.example", outlet="Weiße Welle")]),
                           "g1")
    found = folded.search_outlets("weisse wel", "g1")
    assert found["name"].to_list() == ["Weiße Welle"]
    assert folded.find_outlets("weiss", "g1")["name"].to_list() == ["Weiße Welle"]


def test_the_migration_drops_name_tokens_from_an_existing_store(tmp_path):
    """A store made before 0012 (name_tokens filled, no outlet_keys) loses the old table and
    gets the outlet keys on first use."""
    path = tmp_path / "old.duckdb"
    before = [m for m in MIGRATIONS if m[0] < "0012"]
    con = duckdb.connect(str(path))
    migrate(con, before)
    con.execute("INSERT INTO outlets (outlet_id, name, reach) VALUES (1, 'Dagbladet Børsen', 5)")
    con.execute("INSERT INTO name_tokens VALUES ('borsen', 1, 'x', 'y', 5)")
    con.close()
    store = Store(path)
    tables = {r[0] for r in store.db.rows("SELECT table_name FROM information_schema.tables")}
    assert "name_tokens" not in tables and "outlet_keys" in tables
    assert "0012_drop_name_tokens" in {r[0] for r in store.db.rows(
        "SELECT name FROM schema_migrations")}
    assert store.find_outlets("borsen", "g1")["outlet_id"].to_list() == [1]
    store.release()
