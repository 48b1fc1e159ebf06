"""Contact import: updates without duplicates, bad rows named, nothing half-applied."""

import polars as pl
import pytest

from fixtures.store import contact_row
from optdesk.errors import ImportFailed


def counts(store):
    return {t: store.db.scalar(f"SELECT count(*) FROM {t}") for t in
            ("contacts", "addresses", "outlets", "media_lists", "list_members", "search_tokens", "outlet_keys")}


def test_reimport_updates_and_never_duplicates(store, contacts_csv):
    rows = [
        contact_row(1, "a@x.example", lists="Tech;Paris"),
        contact_row(1, "a@home.example", email_kind="private", lists="Tech"),
        contact_row(2, "b@x.example", first_name="Bob", lists="Tech"),
    ]
    store.import_contacts(contacts_csv(rows), "g1")
    first = counts(store)
    store.import_contacts(contacts_csv(rows), "g1")
    assert counts(store) == first
    assert first["contacts"] == 2 and first["addresses"] == 3 and first["list_members"] == 3
    rows[2] = contact_row(2, "b@x.example", first_name="Robert", title="Editor", lists="Tech")
    store.import_contacts(contacts_csv(rows), "g1")
    record = store.contact(2, "g1")["contact"]
    assert record["name"] == "Robert Last2" and record["title"] == "Editor"
    assert counts(store) == first
    assert store.find_contacts("robert", "g1")["contact_id"].to_list() == [2]
    assert store.find_contacts("bob", "g1").height == 0


def test_primary_and_private_addresses(store, contacts_csv):
    store.import_contacts(contacts_csv([
        contact_row(1, "p@home.example", email_kind="private"),
        contact_row(1, "first@x.example"),
        contact_row(1, "second@x.example"),
    ]), "g1")
    addresses = store.contact(1, "g1")["addresses"]
    primary = addresses.filter(pl.col("is_primary"))["email"].to_list()
    assert primary == ["first@x.example"]
    private = addresses.filter(pl.col("kind") == "private").row(0, named=True)
    assert private["email"] == "p@home.example" and private["data_group"] == "g1"
    assert "p@home.example" not in store.contact(1, "g2")["addresses"]["email"].to_list()


@pytest.mark.parametrize(
    ("bad", "row", "column"),
    [
        ({"email": "not-an-address"}, 3, "email"),
        ({"email": "a@b.example\r\nBcc: x@y.example"}, 3, "email"),
        ({"contact_id": ""}, 3, "contact_id"),
        ({"contact_id": "c\x07d"}, 3, "contact_id"),
        ({"contact_id": "x" * 256}, 3, "contact_id"),
        ({"email_kind": "secret"}, 3, "email_kind"),
        ({"reach": "-5"}, 3, "reach"),
        ({"first_name": "", "last_name": ""}, 3, "first_name"),
        ({"contact_id": 1, "first_name": "Other"}, 3, "first_name"),
        ({"email": "a1@x.example", "contact_id": 9}, 3, "email"),
    ],
)
def test_bad_row_is_named_and_nothing_is_applied(store, contacts_csv, bad, row, column):
    store.import_contacts(contacts_csv([contact_row(5, "keep@x.example")]), "g1")
    before = counts(store)
    rows = [contact_row(1, "a1@x.example"), contact_row(2, "a2@x.example"),
            {**contact_row(3, "a3@x.example"), **bad}]
    with pytest.raises(ImportFailed) as err:
        store.import_contacts(contacts_csv(rows), "g1")
    assert f"row {row}, column {column}" in str(err.value)
    assert counts(store) == before


def test_missing_columns_and_missing_file(store, tmp_path):
    path = tmp_path / "few.csv"
    path.write_text("contact_id,email\n1,a@x.example\n")
    with pytest.raises(ImportFailed, match="missing column"):
        store.import_contacts(path, "g1")
    with pytest.raises(ImportFailed, match="no such file"):
        store.import_contacts(tmp_path / "nope.csv", "g1")


def test_parquet_import(store, contacts_csv, tmp_path):
    csv_path = contacts_csv([contact_row(1, "a@x.example"), contact_row(2, "b@x.example")])
    parquet = tmp_path / "contacts.parquet"
    pl.read_csv(csv_path).write_parquet(parquet)
    result = store.import_contacts(parquet, "g1")
    assert result["contacts"] == 2
    assert store.contact(2, "g1")["addresses"]["email"].to_list() == ["b@x.example"]


def test_progress_is_reported(store, contacts_csv):
    said = []
    store.import_contacts(contacts_csv([contact_row(1, "a@x.example")]), "g1", progress=said.append)
    assert said[0].startswith("read 1 rows") and any("contacts written" in m for m in said)


def test_type_ahead_prefix_words_and_accents(store, contacts_csv):
    store.import_contacts(contacts_csv([
        contact_row(1, "a@x.example", first_name="Amélie", last_name="Dupont", reach=5),
        contact_row(2, "b@x.example", first_name="Amadou", last_name="Diallo", reach=50),
        contact_row(3, "c@x.example", first_name="Jean", last_name="Amelot", reach=1),
    ]), "g1")
    assert store.find_contacts("ame", "g1")["contact_id"].to_list() == [1, 3]
    assert store.find_contacts("AM", "g1")["contact_id"].to_list() == [2, 1, 3]
    assert store.find_contacts("amé dup", "g1")["contact_id"].to_list() == [1]
    assert store.find_contacts("dupont amelie", "g1")["outlet"].to_list() == ["Outlet A"]
    assert store.find_contacts("   ", "g1").height == 0
    assert store.find_contacts("zz", "g1").height == 0
    assert store.find_contacts("a", "g1", limit=2).height == 2
    store.opt_out(3, "g1", source="manual", actor="ana")
    hits = store.find_contacts("amelot", "g1")
    assert hits["opted_out"].to_list() == [True]
    assert store.find_contacts("amelot", "g2")["opted_out"].to_list() == [False]
