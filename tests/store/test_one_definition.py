"""One definition of what a data group must not mail, and closed vocabularies.

``is_suppressed`` and ``suppressions`` answer from the same ``suppressed(g)`` macro: over
generated stores (system and private addresses in two groups, opt-outs, address suppressions,
undeliverable addresses with and without an owner) the two always agree. The source of an
opt-out and the kind of an event are held to the store's vocabularies by the database itself.
"""

from __future__ import annotations

import pathlib
import re
import tempfile

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fixtures.store import contact_row, outlet_row, write_contacts_csv, write_outlets_csv
from optdesk.store import Store
from optdesk.store.base import EVENT_KINDS, OUTLET_TYPES, SOURCES
from optdesk.store.writes import Writes

GROUPS = ("g1", "g2")
STORE_DIR = pathlib.Path(__file__).resolve().parents[2] / "daemon" / "optdesk" / "store"

# per contact: its addresses as (local part, kind, group that added a private one)
address = st.tuples(st.sampled_from(["a", "b", "c", "d", "e"]), st.sampled_from(["system", "private"]),
                    st.sampled_from(GROUPS))
contact = st.lists(address, min_size=1, max_size=3)
world = st.fixed_dictionaries({
    "contacts": st.lists(contact, min_size=1, max_size=5),
    "opt_outs": st.lists(st.tuples(st.integers(0, 4), st.sampled_from(GROUPS)), max_size=4),
    "suppressed": st.lists(st.tuples(st.sampled_from(["x", "a1", "b2"]), st.sampled_from(GROUPS)),
                           max_size=3),
    "undeliverable": st.lists(st.sampled_from(["a0", "b1", "c2", "nobody", "e3", "n100"]),
                              max_size=4),
    # per outlet (id 100 + k): its own addresses; a contact works at outlet (id - 1) % outlets
    "outlets": st.lists(st.lists(st.sampled_from(["n", "desk", "a0"]), max_size=2), max_size=3),
    "outlet_opt_outs": st.lists(st.tuples(st.integers(0, 2), st.sampled_from(GROUPS),
                                          st.booleans()), max_size=3),
})


def _outlet_email(local: str, k: int) -> str:
    return "a0@x.example" if local == "a0" else f"{local}{100 + k}@x.example"


def _build(folder: pathlib.Path, w: dict) -> tuple[Store, set[str]]:
    store = Store(folder / "s.duckdb")
    universe = set()
    outlet_rows = [outlet_row(100 + k, _outlet_email(local, k), name=f"Outlet {k}")
                   for k, locals_ in enumerate(w["outlets"]) for local in locals_ or [""]]
    outlet_rows = [r for i, r in enumerate(outlet_rows)  # an address belongs to one outlet
                   if r["email"] not in {x["email"] for x in outlet_rows[:i]}]
    if outlet_rows:
        store.import_outlets(write_outlets_csv(folder / "outlets.csv", outlet_rows), GROUPS[0])
        universe |= {r["email"] for r in outlet_rows if r["email"]}
    for group in GROUPS:
        rows = []
        for cid, addresses in enumerate(w["contacts"]):
            for local, kind, owner in addresses:
                if kind == "private" and owner != group:
                    continue
                email = f"{local}{cid}@x.example"
                universe.add(email)
                outlet = f"Outlet {cid % len(w['outlets'])}" if w["outlets"] else "Outlet A"
                rows.append(contact_row(cid + 1, email, email_kind=kind, outlet=outlet,
                                        outlet_reach=""))
        if rows:
            store.import_contacts(write_contacts_csv(folder / f"{group}.csv", rows), group)
    known = {r[0] for r in store.db.rows("SELECT contact_id FROM contacts")}
    writes = Writes()
    for cid, group in w["opt_outs"]:
        if cid + 1 in known:
            writes.add_opt_out(cid + 1, group, source="reply", reason="r", evidence=None,
                               message_hash=None)
    for local, group in w["suppressed"]:
        email = f"{local}@y.example" if local == "x" else f"{local[0]}{local[1]}@x.example"
        universe.add(email)
        writes.add_suppression(email, group, source="reply", reason="r", evidence=None,
                               message_hash=None)
    for local in w["undeliverable"]:
        email = f"{local}@x.example"
        universe.add(email)
        writes.add_bounce(True, email, reason="gone", evidence=None, message_hash=None,
                          contact_id=None, data_group=None)
    for k, group, with_contacts in w["outlet_opt_outs"]:
        if k < len(w["outlets"]):
            writes.add_outlet_opt_out(100 + k, group, source="manual", reason="r", evidence=None,
                                      message_hash=None, with_contacts=with_contacts)
    store.apply_writes(writes)
    return store, universe


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(world)
def test_is_suppressed_agrees_with_the_suppression_list(w):
    with tempfile.TemporaryDirectory() as tmp:
        store, universe = _build(pathlib.Path(tmp), w)
        for group in GROUPS:
            listed = set(store.suppressions(group)["email"])
            for email in sorted(universe):
                assert store.is_suppressed(email, group) == (email in listed), (email, group)
            out = {100 + k for k, g, _ in w["outlet_opt_outs"] if g == group
                   and k < len(w["outlets"])}
            own = {r[0] for r in store.db.rows(
                "SELECT email FROM outlet_addresses WHERE list_contains(?, outlet_id)",
                [sorted(out)])}
            assert own <= listed
        store.release()


def test_another_groups_private_address_is_never_listed(tmp_path, contacts_csv):
    store = Store(tmp_path / "s.duckdb")
    store.import_contacts(contacts_csv([contact_row(1, "pub@x.example"),
                                        contact_row(1, "mine@x.example", email_kind="private")]), "g1")
    store.mark_undeliverable("mine@x.example", reason="gone")
    store.mark_undeliverable("stranger@x.example", reason="gone")
    assert set(store.suppressions("g1")["email"]) == {"mine@x.example", "stranger@x.example"}
    assert set(store.suppressions("g2")["email"]) == {"stranger@x.example"}
    assert not store.is_suppressed("mine@x.example", "g2")
    store.opt_out(1, "g2", source="manual", actor="analyst")
    assert set(store.suppressions("g2")["email"]) == {"pub@x.example", "stranger@x.example"}


def test_no_store_module_restates_which_addresses_a_group_sees():
    restated = re.compile(r"kind\s*=\s*'system'\s+OR\s+[\w.]*data_group\s*=", re.IGNORECASE)
    offenders = [p.name for p in STORE_DIR.glob("*.py")
                 if p.name != "migrations.py" and restated.search(p.read_text(encoding="utf-8"))]
    assert offenders == []


def test_the_vocabularies_in_the_database_are_the_code_s(tmp_path):
    store = Store(tmp_path / "s.duckdb")
    assert {r[0] for r in store.db.rows("SELECT source FROM opt_out_sources")} == set(SOURCES)
    assert {r[0] for r in store.db.rows("SELECT kind FROM event_kinds")} == set(EVENT_KINDS)
    assert {r[0] for r in store.db.rows("SELECT type FROM outlet_types")} == set(OUTLET_TYPES)


def test_an_unknown_source_or_kind_is_refused_by_code_and_by_the_database(tmp_path, contacts_csv):
    store = Store(tmp_path / "s.duckdb")
    store.import_contacts(contacts_csv([contact_row(1, "a@x.example")]), "g1")
    with pytest.raises(ValueError, match="unknown opt-out source 'bogus'"):
        Writes().add_opt_out(1, "g1", source="bogus", reason=None, evidence=None, message_hash=None)
    with pytest.raises(ValueError, match="unknown opt-out source"):
        Writes().add_suppression("z@x.example", "g1", source="bogus", reason=None, evidence=None,
                                 message_hash=None)
    with store.db.transaction() as con, pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO optouts VALUES (1, 'g1', 'bogus', 'x', NULL, now(), NULL)")
    with store.db.transaction() as con, pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO events (occurred_at, kind, actor) VALUES (now(), 'bogus', 'x')")
    assert store.db.scalar("SELECT count(*) FROM optouts") == 0
