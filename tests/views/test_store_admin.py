"""The store mixin the notebooks use: filter choices, list removal with events, export rows."""

from __future__ import annotations

import json

import pytest

from optdesk.errors import NotFound


def test_outlets_filter_by_text_and_group(demo_store):
    everything = demo_store.outlets(limit=None)
    assert everything == sorted(everything) and len(everything) == 40
    opted = demo_store.outlets("demo", limit=None)
    expected = sorted(set(demo_store.opted_out("demo", limit=None)["outlet"].drop_nulls()))
    assert opted == expected
    herald = demo_store.outlets("demo", text="HERALD", limit=None)
    assert herald and all("herald" in o.lower() for o in herald)
    assert demo_store.outlets("demo", text="herald", limit=2) == herald[:2]
    assert demo_store.outlets("nobody") == []


def test_countries_and_languages(demo_store):
    assert demo_store.countries() == sorted(["FR", "DE", "ES", "IT", "NL", "PT", "GB", "US", "BE", "AT"])
    assert demo_store.languages() == ["de", "en", "es", "fr", "it", "nl", "pt"]


def test_remove_from_list_by_name_and_id(demo_store):
    lists = demo_store.lists("demo")
    first = lists.row(0, named=True)
    members = demo_store.opted_out("demo", lists=[first["list_id"]], limit=None)["contact_id"].to_list()
    assert len(members) >= 2
    removed = demo_store.remove_from_list(first["name"], members[:2] + [10**9], "demo", actor="ana")
    assert removed == 2
    after = demo_store.opted_out("demo", lists=[first["list_id"]], limit=None)["contact_id"].to_list()
    assert after == members[2:]
    events = demo_store.events(data_group="demo", kinds=["list_member_removed"])
    assert sorted(events["contact_id"].to_list()) == sorted(members[:2])
    assert set(events["actor"]) == {"ana"}
    assert json.loads(events["evidence"][0]) == {"list": first["name"], "list_id": first["list_id"]}
    assert demo_store.remove_from_list(first["list_id"], members[:2], "demo", actor="ana") == 0
    assert demo_store.events(kinds=["list_member_removed"]).height == 2


def test_remove_from_unknown_list_raises_not_found(demo_store):
    with pytest.raises(NotFound, match="no media list 'Nope' in data group 'demo'"):
        demo_store.remove_from_list("Nope", [1], "demo", actor="ana")
    some = demo_store.lists("demo")["list_id"][0]
    with pytest.raises(NotFound):
        demo_store.remove_from_list(some, [1], "other-group", actor="ana")


def test_opted_out_contacts_gives_rows_for_ids(demo_store):
    page = demo_store.opted_out("demo", limit=5)
    ids = page["contact_id"].to_list()
    rows = demo_store.opted_out_contacts("demo", ids + [ids[0], 10**9])
    assert sorted(rows["contact_id"].to_list()) == sorted(ids)
    assert rows.columns == page.drop("total").columns
    not_out = demo_store.find_contacts("ma", "demo", 50).filter(~demo_store.find_contacts(
        "ma", "demo", 50)["opted_out"])["contact_id"][0]
    assert demo_store.opted_out_contacts("demo", [not_out]).height == 0
