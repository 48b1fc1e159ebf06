"""The team's contact exports: XLSX, one row per contact with address columns, presets and
--map, the dry run. Real XLSX files written with xlsxwriter, real DuckDB files."""

from __future__ import annotations

import polars as pl
import pytest

from fixtures.exports import WIDE, WIDE_MAP, wide_rows, write_xlsx
from fixtures.store import contact_row
from optdesk.contact_exports.mapping import FIELDS, check, mapping_for, preset, presets
from optdesk.errors import ImportFailed


def counts(store) -> dict:
    return {t: store.db.scalar(f"SELECT count(*) FROM {t}") for t in
            ("contacts", "addresses", "outlets", "media_lists", "list_members", "search_tokens")}


def addresses(store, external_id: str, group: str = "g1") -> list[tuple]:
    frame = store.contact(store.contact_key(external_id), group)["addresses"]
    return sorted(frame.select("email", "kind", "is_primary").iter_rows())


def test_one_row_per_contact_with_address_columns_from_xlsx(store, tmp_path):
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, wide_rows())
    result = store.import_contacts(path, "g1", mapping=WIDE_MAP)
    assert result == {"rows": 3, "addresses": 5, "contacts": 3, "new_contacts": 3}
    # the mapping says which is primary, whatever the column order
    assert addresses(store, "003Aa00000XyZ12") == [
        ("ann.one@daily.example", "system", False), ("ann@daily.example", "system", True),
        ("ann@home.example", "private", False)]
    assert "ann@home.example" not in [a[0] for a in addresses(store, "003Aa00000XyZ12", "g2")]
    assert addresses(store, "c-1234") == [("bob@weekly.example", "system", True)]
    # no primary column filled: the first system address is primary; a numeric cell is "17"
    assert addresses(store, "17") == [("cy@daily.example", "system", True)]
    assert store.contact(17, "g1")["contact"]["title"] == "Reporter"
    first = counts(store)
    store.import_contacts(path, "g1", mapping=WIDE_MAP)
    assert counts(store) == first


def test_a_row_without_any_address_is_named_by_row_and_first_address_column(store, tmp_path):
    rows = wide_rows()
    rows[1][5:8] = ["", "", ""]
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, rows)
    with pytest.raises(ImportFailed) as err:
        store.import_contacts(path, "g1", mapping=WIDE_MAP)
    assert str(err.value) == (f"{path}: row 2, column Email: not an email address: it is empty "
                              "(got None)")
    assert counts(store)["contacts"] == 0


@pytest.mark.parametrize(("cell", "value", "column", "reason"), [
    (7, "not-an-address", "Email", "not an email address"),
    (6, "a@x..example", "Email 2", "two periods in a row"),
    (5, "Ann <ann@home.example>", "Personal Email", "display name"),
    (0, "", "Contact ID", "a contact needs an id"),
])
def test_a_bad_xlsx_cell_is_named_by_file_row_and_the_exports_column(store, tmp_path, cell,
                                                                      value, column, reason):
    rows = wide_rows()
    rows[2][cell] = value
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, rows)
    with pytest.raises(ImportFailed) as err:
        store.import_contacts(path, "g1", mapping=WIDE_MAP)
    message = str(err.value)
    assert message.startswith(f"{path}: row 3, column {column}: ") and reason in message
    assert "\n" not in message and counts(store)["contacts"] == 0


def test_an_address_in_two_contacts_columns_is_refused(store, tmp_path):
    rows = wide_rows()
    rows[1][6] = "ann@daily.example"
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, rows)
    with pytest.raises(ImportFailed, match="row 2, column Email 2: ann@daily.example is given "
                                           "to more than one contact"):
        store.import_contacts(path, "g1", mapping=WIDE_MAP)


def test_fields_the_file_does_not_carry_are_left_as_they_are(store, contacts_csv, tmp_path):
    store.import_contacts(contacts_csv([contact_row("c-1234", "bob@weekly.example",
                                                    title="Editor", country="DE")]), "g1")
    path = write_xlsx(tmp_path / "few.xlsx", ["Id", "FirstName", "LastName", "Email"],
                      [["c-1234", "Robert", "Two", "bob@weekly.example"]])
    store.import_contacts(path, "g1", preset="salesforce")
    record = store.contact(store.contact_key("c-1234"), "g1")["contact"]
    assert (record["name"], record["title"], record["country"], record["outlet"]) == (
        "Robert Two", "Editor", "DE", "Outlet A")


def test_a_preset_giving_one_field_two_columns_is_refused():
    with pytest.raises(ImportFailed, match="field.s. email_primary given more than one column"):
        check("x", [("A", "contact_id"), ("B", "email_primary"), ("C", "email_primary")], "p")
    with pytest.raises(ImportFailed, match="unknown field.s. mail"):
        check("x", [("A", "contact_id"), ("B", "mail")], "p")
    check("x", [("A", "contact_id"), ("B", "email_system"), ("C", "email_system")], "p")


def test_every_preset_loads_and_names_only_known_fields():
    known = presets()
    assert {"generic", "crm", "salesforce", "cision", "meltwater", "muckrack"} <= set(known)
    for mapping in known.values():
        fields = [f for _, f in mapping.columns]
        assert set(fields) <= set(FIELDS) and "contact_id" in fields
        assert "email" in fields or "email_primary" in fields


@pytest.mark.parametrize("name", ["crm", "cision", "meltwater", "muckrack"])
def test_a_preset_reads_an_export_with_its_columns(store, tmp_path, name):
    mapping = preset(name)
    columns = {f: c for c, f in mapping.columns}
    values = {"contact_id": "x-1", "first_name": "Ann", "last_name": "One", "title": "Editor",
              "outlet": "Daily", "email_primary": "ann@daily.example",
              "email_system": "ann2@daily.example", "email_private": "ann@home.example",
              "country": "FR", "language": "fr"}
    header = [c for c, _ in mapping.columns]
    path = write_xlsx(tmp_path / f"{name}.xlsx", header,
                      [[values[f] for _, f in mapping.columns]])
    store.import_contacts(path, "g1", preset=name)
    record = store.contact(store.contact_key("x-1"), "g1")
    assert record["contact"]["name"] == "Ann One"
    primary = record["addresses"].filter(pl.col("is_primary"))["email"].to_list()
    assert primary == ["ann@daily.example"]
    assert len(record["addresses"]) == sum(1 for f in columns if f.startswith("email_"))


def test_map_overrides_a_preset_and_bad_maps_are_refused(store, tmp_path):
    path = write_xlsx(tmp_path / "m.xlsx", ["Ref", "Surname", "Mail", "Home"],
                      [["r-1", "One", "a@x.example", "a@home.example"]])
    store.import_contacts(path, "g1", mapping=["Ref=contact_id", "Surname=last_name",
                                               "Mail=email_primary", "Home=email_private"])
    assert store.contact(store.contact_key("r-1"), "g1")["contact"]["name"] == "One"
    with pytest.raises(ImportFailed, match="--map 'Ref=nonsense': write COLUMN=FIELD"):
        store.import_contacts(path, "g1", mapping=["Ref=nonsense"])
    with pytest.raises(ImportFailed, match="both one address per row"):
        store.import_contacts(path, "g1", mapping=["Ref=contact_id", "Surname=last_name",
                                                   "Mail=email", "Home=email_private"])
    # a single field mapped again moves to the new column; address columns collect
    moved = mapping_for(None, ["Mail=email_primary", "Home=email_primary", "A=email_system",
                               "B=email_system"]).columns
    assert [c for c, f in moved if f == "email_primary"] == ["Home"]
    assert [c for c, f in moved if f == "email_system"] == ["A", "B"]
    with pytest.raises(ImportFailed, match=r"missing column\(s\): Contact ID"):
        store.import_contacts(path, "g1", preset="crm")
    with pytest.raises(ImportFailed, match="unknown preset 'nope'"):
        store.import_contacts(path, "g1", preset="nope")


def test_dry_run_says_what_would_change_and_writes_nothing(store, tmp_path):
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, wide_rows())
    store.import_contacts(path, "g1", mapping=WIDE_MAP)
    before = counts(store)
    rows = wide_rows()
    rows[0][4] = "Chief Editor"          # title changes
    rows[0][3] = "Weekly"                # outlet changes
    rows[1][6] = "bob.two@weekly.example"  # gains an address
    rows.append(["c-new", "New", "Person", "Daily", "", "", "", "new@daily.example"])
    rows.append(["c-bad", "", "", "Daily", "", "", "", "bad@daily.example"])
    rows.append(["c-bad2", "Z", "Z", "Daily", "", "", "", "not-an-address"])
    changed = write_xlsx(tmp_path / "changed.xlsx", WIDE, rows)
    said = []
    plan = store.import_contacts(changed, "g1", said.append, mapping=WIDE_MAP, dry_run=True)
    assert counts(store) == before
    assert said[0].startswith("read 6 rows")
    assert (plan["new_contacts"], plan["updated"], plan["unchanged"]) == (1, 2, 1)
    assert (plan["refused_contacts"], plan["refused_rows"]) == (2, 2)
    assert plan["changes"] == {"Outlet": 1, "Job Title": 1, "addresses": 1}
    assert plan["refused_by_column"] == {"First Name": 1, "Email": 1} or plan[
        "refused_by_column"] == {"Email": 1, "First Name": 1}
    assert plan["problems"][0].startswith(f"{changed}: row 5, column First Name: a contact "
                                          "needs a first or a last name")
    assert "row 6, column Email: not an email address" in plan["problems"][1]
    with pytest.raises(ImportFailed, match="row 5, column First Name"):
        store.import_contacts(changed, "g1", mapping=WIDE_MAP)
    assert counts(store) == before


def test_dry_run_of_an_unchanged_file(store, tmp_path):
    path = write_xlsx(tmp_path / "media.xlsx", WIDE, wide_rows())
    store.import_contacts(path, "g1", mapping=WIDE_MAP)
    plan = store.import_contacts(path, "g1", mapping=WIDE_MAP, dry_run=True)
    assert (plan["contacts"], plan["new_contacts"], plan["updated"], plan["unchanged"]) == (
        3, 0, 0, 3)
    assert plan["changes"] == {} and plan["problems"] == []


def test_long_csv_with_text_ids_and_lists_dry_run(store, contacts_csv):
    rows = [contact_row("c-1", "a@x.example", lists="Tech"),
            contact_row("c-1", "a@home.example", email_kind="private", lists="Tech")]
    store.import_contacts(contacts_csv(rows), "g1")
    rows = [contact_row("c-1", "a@x.example", lists="Tech;Paris", reach=99)]
    plan = store.import_contacts(contacts_csv(rows), "g1", dry_run=True)
    assert plan["updated"] == 1 and plan["changes"] == {"reach": 1, "lists": 1}


def test_an_outlet_id_links_the_contact_to_the_imported_outlet(store, tmp_path):
    from fixtures.store import outlet_row, write_outlets_csv

    store.import_outlets(write_outlets_csv(tmp_path / "o.csv", [
        outlet_row(7, "desk@seven.example", name="Seven Post"),
        outlet_row(8, "desk@eight.example", name="Eight Times")]), "g1")
    header = ["Contact ID", "Last Name", "Account ID", "Email"]
    path = write_xlsx(tmp_path / "c.xlsx", header, [["c-1", "One", 7, "a@seven.example"]])
    mapping = ["Contact ID=contact_id", "Last Name=last_name", "Account ID=outlet_id",
               "Email=email_primary"]
    store.import_contacts(path, "g1", mapping=mapping)
    key = store.contact_key("c-1")
    assert store.contact(key, "g1")["contact"]["outlet"] == "Seven Post"
    assert store.outlet(7, "g1")["contacts"]["external_id"].to_list() == ["c-1"]
    moved = write_xlsx(tmp_path / "m.xlsx", header, [["c-1", "One", 8, "a@seven.example"]])
    plan = store.import_contacts(moved, "g1", mapping=mapping, dry_run=True)
    assert plan["updated"] == 1 and plan["changes"] == {"Account ID": 1}
    bad = write_xlsx(tmp_path / "b.xlsx", header, [["c-1", "One", 8, "a@seven.example"],
                                                   ["c-2", "Two", 99, "b@x.example"]])
    with pytest.raises(ImportFailed, match=r"row 2, column Account ID: no outlet with this id "
                                           r"in the store .* \(got '99'\)"):
        store.import_contacts(bad, "g1", mapping=mapping)
    assert store.contact(key, "g1")["contact"]["outlet"] == "Seven Post"
    assert store.db.scalar("SELECT count(*) FROM outlets") == 2
