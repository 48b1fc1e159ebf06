"""The opt-out record: all addresses, idempotence, the append-only log, suppressions."""

import datetime as dt

import pytest

from fixtures.store import contact_row
from optdesk.errors import NotFound


@pytest.fixture
def two_groups(store, contacts_csv):
    """Contact 1 with two system addresses, a private one in g1 and a private one in g2."""
    store.import_contacts(contacts_csv([
        contact_row(1, "one@outlet.example"),
        contact_row(1, "one.second@outlet.example"),
        contact_row(1, "one@home.example", email_kind="private"),
        contact_row(2, "two@outlet.example"),
    ]), "g1")
    store.import_contacts(contacts_csv([
        contact_row(1, "one@g2private.example", email_kind="private"),
    ]), "g2")
    return store


def test_opt_out_covers_every_address_the_group_can_mail(two_groups):
    s = two_groups
    assert s.opt_out(1, "g1", source="reply", actor="daemon", reason="please remove me")
    assert set(s.suppressions("g1")["email"]) == {
        "one@outlet.example", "one.second@outlet.example", "one@home.example"}
    for email in ("one@outlet.example", "ONE.second@outlet.example", "one@home.example"):
        assert s.is_suppressed(email, "g1")
    # the other group's private address is not g1's to mail, and g2 is not opted out
    assert not s.is_suppressed("one@g2private.example", "g1")
    assert not s.is_suppressed("one@outlet.example", "g2")
    assert s.suppressions("g2").height == 0
    assert not s.is_suppressed("two@outlet.example", "g1")


def test_address_added_after_the_opt_out_is_suppressed_too(two_groups, contacts_csv):
    s = two_groups
    s.opt_out(1, "g1", source="manual", actor="ana", reason="letter")
    s.import_contacts(contacts_csv([contact_row(1, "new@home.example", email_kind="private")]), "g1")
    assert s.is_suppressed("new@home.example", "g1")


def test_second_opt_out_changes_nothing_and_adds_no_event(two_groups):
    s = two_groups
    assert s.opt_out(1, "g1", source="reply", actor="daemon", reason="first")
    events = s.events()
    state = s.contact(1, "g1")["optout"]
    assert not s.opt_out(1, "g1", source="reply", actor="daemon", reason="first")
    assert not s.opt_out(1, "g1", source="manual", actor="ana", reason="again")
    assert s.events().equals(events)
    assert s.contact(1, "g1")["optout"] == state
    assert state["source"] == "reply" and state["reason"] == "first"


def test_opt_out_of_unknown_contact_is_refused(store):
    with pytest.raises(NotFound, match="42"):
        store.opt_out(42, "g1", source="manual", actor="ana")


def test_unknown_source_is_refused(two_groups):
    with pytest.raises(ValueError, match="source"):
        two_groups.opt_out(1, "g1", source="rumour", actor="ana")


def test_event_log_is_append_only(two_groups):
    s = two_groups
    s.opt_out(1, "g1", source="reply", actor="daemon", reason="r1", evidence={"rule": "en.remove"})
    first = s.events()
    s.opt_in(1, "g1", source="invitation", actor="daemon", reason="accepted")
    s.opt_out(1, "g1", source="manual", actor="ana", reason="r2")
    s.opt_out(2, "g1", source="complaint", actor="daemon")
    after = s.events()
    assert after.height == first.height + 3
    old = after.filter(after["event_id"].is_in(first["event_id"].implode()))
    assert old.sort("event_id").equals(first.sort("event_id"))
    assert list(after.sort("event_id")["kind"]) == ["opt_out", "opt_in", "opt_out", "opt_out"]
    assert '"rule": "en.remove"' in first["evidence"][0]


def test_opt_in_lifts_suppression_and_records_event(two_groups):
    s = two_groups
    s.opt_out(1, "g1", source="reply", actor="daemon")
    assert s.opt_in(1, "g1", source="invitation", actor="daemon", invitation_id=7)
    assert not s.is_suppressed("one@outlet.example", "g1")
    assert not s.opt_in(1, "g1", source="invitation", actor="daemon")
    assert s.events(kinds=["opt_in"])["invitation_id"].to_list() == [7]


def test_unknown_address_can_be_suppressed_once(store):
    assert store.suppress_address("Stranger@Else.example", "g1", source="reply", actor="daemon")
    assert not store.suppress_address("stranger@else.example", "g1", source="reply", actor="daemon")
    assert store.is_suppressed("stranger@else.example", "g1")
    assert not store.is_suppressed("stranger@else.example", "g2")
    assert store.suppressions("g1")["reason"].to_list() == ["address_opt_out"]


def test_undeliverable_address_is_suppressed_without_opting_out(two_groups):
    s = two_groups
    with s.db.transaction() as con:
        con.execute("INSERT INTO deliverability (email, undeliverable) VALUES (?, true)",
                    ["two@outlet.example"])
        con.execute("INSERT INTO deliverability (email, undeliverable) VALUES (?, true)",
                    ["one@g2private.example"])
    assert s.is_suppressed("two@outlet.example", "g1")
    assert s.suppressions("g1").to_dicts() == [{"email": "two@outlet.example", "reason": "undeliverable"}]
    # g2's private address is listed for g2 only
    assert "one@g2private.example" in set(s.suppressions("g2")["email"])
    assert s.opted_out("g1").height == 0


def test_opted_out_filters_combine_sort_and_page(demo_store):
    s = demo_store
    everyone = s.opted_out("demo", limit=None)
    assert everyone["total"][0] == everyone.height > 100
    lst = s.lists("demo").sort("opted_out", descending=True).row(0, named=True)
    by_list = s.opted_out("demo", lists=[lst["name"]], limit=None)
    assert by_list.height == lst["opted_out"]
    both = s.opted_out("demo", lists=[lst["name"]], sources=["manual"], limit=None)
    assert set(both["source"]) <= {"manual"}
    assert set(both["contact_id"]) == set(by_list.filter(by_list["source"] == "manual")["contact_id"])
    page = s.opted_out("demo", sort_by="reach", descending=True, limit=10, offset=5)
    ranked = everyone.sort(["reach", "contact_id"], descending=[True, False])
    assert page["contact_id"].to_list() == ranked["contact_id"][5:15].to_list()
    assert page["total"][0] == everyone.height
    fr = s.opted_out("demo", countries=["FR"], languages=["fr"], limit=None)
    assert fr.height and set(fr["country"]) == {"FR"}
    by_name = s.opted_out("demo", sort_by="name", limit=None)["name"].to_list()
    assert by_name == sorted(by_name)


def test_opted_out_date_range_and_text(demo_store):
    s = demo_store
    everyone = s.opted_out("demo", limit=None)
    day = everyone["opted_out_at"][0].date()
    that_day = s.opted_out("demo", since=day, until=day, limit=None)
    expected = everyone.filter(everyone["opted_out_at"].dt.date() == day)
    assert set(that_day["contact_id"]) == set(expected["contact_id"])
    since = dt.datetime.combine(day, dt.time())
    assert s.opted_out("demo", since=since, limit=None).height == everyone.filter(
        everyone["opted_out_at"] >= since).height
    name = everyone["name"][0]
    last = name.split()[-1].lower()
    hits = s.opted_out("demo", text=last.upper(), limit=None)
    assert hits.height and all(last in (n.lower() + " " + (o or "").lower())
                               for n, o in zip(hits["name"], hits["outlet"], strict=True))


def test_sort_by_unknown_column_is_refused(demo_store):
    with pytest.raises(ValueError, match="sort"):
        demo_store.opted_out("demo", sort_by="email; DROP TABLE contacts")


@pytest.mark.parametrize("sort_by", ["reach", "name", "outlet", "opted_out_at", "country"])
def test_a_page_is_the_same_in_one_pass_and_sorted_narrow_first(demo_store, monkeypatch, sort_by):
    """A small filtered set is sorted in one pass, a big one narrow first: the same rows."""
    from optdesk.store import optouts

    s = demo_store
    lst = s.lists("demo").sort("opted_out", descending=True).row(0, named=True)
    asks = [dict(), dict(lists=[lst["name"]]), dict(sources=["reply", "manual"]),
            dict(countries=["FR", "DE"])]
    for ask in asks:
        for descending in (False, True):
            one = s.opted_out("demo", sort_by=sort_by, descending=descending, limit=7, offset=3,
                              **ask)
            monkeypatch.setattr(optouts, "SINGLE_PASS", -1)
            narrow = s.opted_out("demo", sort_by=sort_by, descending=descending, limit=7,
                                 offset=3, **ask)
            monkeypatch.undo()
            assert one.height == 7
            assert one.drop("last_engaged").equals(narrow.drop("last_engaged")), (ask, descending)
            assert one["total"][0] == s.opted_out("demo", limit=None, **ask).height


def test_list_names_are_the_lists_names_in_order(demo_store):
    assert demo_store.list_names("demo") == demo_store.lists("demo")["name"].to_list()
    assert demo_store.list_names("no-such-group") == []
