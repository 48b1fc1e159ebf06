"""Outlets: import, their own addresses, the outlet opt-out (with or without its contacts), its
undo, the listing, and the one suppression definition."""

from __future__ import annotations

import json

import polars as pl
import pytest

from fixtures.store import contact_row, outlet_row, write_outlets_csv
from optdesk.errors import ImportFailed, NotFound
from optdesk.store import Store


@pytest.fixture
def world(tmp_path, contacts_csv) -> Store:
    """Outlet 'Outlet 7' (id 7) with newsdesk@ and redaction@, three contacts at it; contact 4
    elsewhere."""
    store = Store(tmp_path / "s.duckdb")
    store.import_outlets(write_outlets_csv(tmp_path / "o.csv", [
        outlet_row(7, "newsdesk@seven.example"), outlet_row(7, "Redaction@seven.example"),
        outlet_row(8, "desk@eight.example", name="Outlet 8", type="TV")]), "g1")
    store.import_contacts(contacts_csv([
        contact_row(1, "a@seven.example", outlet="Outlet 7", outlet_reach=""),
        contact_row(2, "b@seven.example", outlet="Outlet 7", outlet_reach=""),
        contact_row(3, "c@seven.example", outlet="Outlet 7", outlet_reach=""),
        contact_row(4, "d@other.example", outlet="Outlet 8", outlet_reach="")]), "g1")
    return store


def test_import_keeps_the_outlet_record_and_its_own_addresses(world):
    record = world.outlet(7, "g1")
    assert record["outlet"] == {"outlet_id": 7, "external_id": "7", "name": "Outlet 7", "type": "newspaper",
                                "reach": 5000, "country": "FR", "language": "fr"}
    assert record["addresses"]["email"].to_list() == ["newsdesk@seven.example",
                                                      "redaction@seven.example"]
    assert record["contacts"]["contact_id"].to_list() == [1, 2, 3]
    assert world.outlet(8, "g1")["outlet"]["type"] == "tv"
    assert world.contacts_for_email("newsdesk@seven.example", "g1") == []


def test_reimport_updates_and_never_duplicates(world, tmp_path):
    counts = world.import_outlets(write_outlets_csv(tmp_path / "again.csv", [
        outlet_row(7, "newsdesk@seven.example", reach=9000)]), "g1")
    assert counts["new_outlets"] == 0
    assert world.db.scalar("SELECT count(*) FROM outlets") == 2
    assert world.outlet(7, "g1")["outlet"]["reach"] == 9000
    assert world.db.scalar("SELECT count(*) FROM outlet_addresses") == 3


@pytest.mark.parametrize(("row", "message"), [
    ({"outlet_id": "  "}, "row 2, column outlet_id: an outlet needs an id (got '')"),
    ({"name": ""}, "row 2, column name: an outlet needs a name"),
    ({"type": "blog"}, "row 2, column type: must be one of newspaper, tv, radio"),
    ({"reach": "lots"}, "row 2, column reach: must be a whole number (got 'lots')"),
    ({"email": "not-an-address"}, "row 2, column email: not an email address"),
    ({"email": "n@one.example", "outlet_id": 2}, "row 2, column email: n@one.example is given"),
    ({"country": "DE"}, "row 2, column country: outlet 1 has 'DE' here but 'FR'"),
])
def test_a_bad_row_is_named_and_nothing_is_applied(store, tmp_path, row, message):
    path = write_outlets_csv(tmp_path / "bad.csv", [outlet_row(1, "n@one.example"),
                                                    {**outlet_row(1, "m@one.example"), **row}])
    with pytest.raises(ImportFailed) as caught:
        store.import_outlets(path, "g1")
    assert message in str(caught.value)
    assert store.db.scalar("SELECT count(*) FROM outlets") == 0
    assert store.db.scalar("SELECT count(*) FROM outlet_addresses") == 0


def test_a_name_held_by_another_outlet_id_is_refused(world, tmp_path):
    with pytest.raises(ImportFailed, match=r"row 1, column name: 'Outlet 7' is outlet 7"):
        world.import_outlets(write_outlets_csv(tmp_path / "x.csv", [
            outlet_row(70, "x@seven.example", name="Outlet 7")]), "g1")


def test_xlsx_and_parquet_are_read(store, tmp_path):
    frame = pl.DataFrame([outlet_row(3, "desk@three.example"), outlet_row(4, "")])
    frame.write_excel(tmp_path / "o.xlsx")
    frame.write_parquet(tmp_path / "o.parquet")
    assert store.import_outlets(tmp_path / "o.xlsx", "g1")["outlets"] == 2
    assert store.import_outlets(tmp_path / "o.parquet", "g1")["new_outlets"] == 0
    assert store.outlet(3, "g1")["addresses"]["email"].to_list() == ["desk@three.example"]
    assert store.outlet(4, "g1")["addresses"].height == 0


def test_outlet_opt_out_suppresses_its_own_addresses_only(world):
    assert world.opt_out_outlet(7, "g1", source="manual", actor="ana", reason="asked") == {
        "changed": True, "contacts": 0}
    listed = world.suppressions("g1")
    assert listed.filter(pl.col("reason") == "outlet_opt_out")["email"].to_list() == [
        "newsdesk@seven.example", "redaction@seven.example"]
    assert world.is_suppressed("NEWSDESK@seven.example", "g1")
    assert not world.is_suppressed("a@seven.example", "g1")
    assert not world.is_suppressed("newsdesk@seven.example", "g2")
    assert world.db.scalar("SELECT count(*) FROM optouts") == 0
    event = world.events(kinds=["outlet_opt_out"]).row(0, named=True)
    assert (event["actor"], event["reason"], event["source"]) == ("ana", "asked", "manual")
    again = world.opt_out_outlet(7, "g1", source="manual", actor="ana", reason="asked")
    assert again == {"changed": False, "contacts": 0}
    assert world.events(kinds=["outlet_opt_out"]).height == 1


def test_with_contacts_every_contact_gets_its_own_linked_event(world):
    world.opt_out(2, "g1", source="reply", actor="daemon", reason="earlier")
    result = world.opt_out_outlet(7, "g1", source="manual", actor="ana", reason="closing",
                                  with_contacts=True)
    assert result == {"changed": True, "contacts": 2}
    outlet_event = world.outlet(7, "g1")["optout"]["event_id"]
    events = world.events(kinds=["opt_out"], data_group="g1").filter(
        pl.col("reason") == "outlet opt-out").sort("contact_id")
    assert events["contact_id"].to_list() == [1, 3]
    for evidence in events["evidence"]:
        assert json.loads(evidence)["outlet_event_id"] == outlet_event
    contacts = world.outlet(7, "g1")["contacts"]
    assert contacts["opted_out"].to_list() == [True, True, True]
    assert contacts["reason"].to_list() == ["outlet opt-out", "earlier", "outlet opt-out"]
    assert not world.is_suppressed("d@other.example", "g1")
    listed = world.opted_out_outlets("g1")
    assert listed.select("outlet_id", "addresses", "contacts_opted_out").rows() == [(7, 2, 2)]


def test_undo_lifts_the_outlet_and_with_contacts_the_opt_outs_it_made(world):
    world.opt_out(2, "g1", source="reply", actor="daemon", reason="earlier")
    world.opt_out_outlet(7, "g1", source="manual", actor="ana", reason="x", with_contacts=True)
    assert world.opt_in_outlet(7, "g1", source="manual", actor="ana", reason="back",
                               with_contacts=True) == {"changed": True, "contacts": 2}
    assert not world.is_suppressed("newsdesk@seven.example", "g1")
    assert world.db.rows("SELECT contact_id FROM optouts") == [(2,)]
    assert world.events(kinds=["opt_in"]).height == 2
    assert world.events(kinds=["outlet_opt_in"]).height == 1
    assert world.opt_in_outlet(7, "g1", source="manual", actor="ana")["changed"] is False


def test_undo_without_contacts_keeps_their_opt_outs(world):
    world.opt_out_outlet(7, "g1", source="manual", actor="ana", reason="x", with_contacts=True)
    assert world.opt_in_outlet(7, "g1", source="manual", actor="ana")["contacts"] == 0
    assert world.db.scalar("SELECT count(*) FROM optouts") == 3
    assert world.outlet(7, "g1")["optout"] is None


def test_unknown_outlet_is_named(world):
    with pytest.raises(NotFound, match="no outlet with id 99"):
        world.opt_out_outlet(99, "g1", source="manual", actor="ana")
    with pytest.raises(NotFound, match="no outlet with id 99"):
        world.outlet(99, "g1")


def test_outlets_are_found_and_listed(world):
    world.opt_out_outlet(8, "g1", source="manual", actor="ana")
    found = world.find_outlets("outl", "g1")
    assert found.select("outlet_id", "opted_out").rows() == [(7, False), (8, True)]
    assert world.find_outlets("8", "g1")["outlet_id"].to_list() == [8]
    assert world.opted_out_outlets("g1", text="outlet 7").height == 0
    assert world.outlets_for_emails(["Newsdesk@seven.example", "a@seven.example"]) == {
        "newsdesk@seven.example": 7}
