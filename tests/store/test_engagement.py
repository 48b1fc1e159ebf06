"""Engagement: exports read by preset and --map, one row per event or per recipient, unknown
addresses counted and listed, idempotent re-import, privacy prefetch opens flagged and not
counted, the engagers and adding them to a list."""

from __future__ import annotations

import csv
import pathlib

import polars as pl
import pytest

from fixtures.store import contact_row, outlet_row, write_outlets_csv
from optdesk.engagement.presets import preset
from optdesk.errors import ImportFailed
from optdesk.store import Store

GENERIC = preset("generic")
APPLE = "Mozilla/5.0"


def export(path: pathlib.Path, header: list[str], rows: list[list]) -> pathlib.Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture
def desk(tmp_path, contacts_csv) -> Store:
    store = Store(tmp_path / "s.duckdb")
    store.import_contacts(contacts_csv([
        contact_row(1, "one@x.example", outlet="Daily", reach=500, lists="Tech"),
        contact_row(2, "two@x.example", outlet="Weekly", reach=90),
        contact_row(3, "three@x.example", outlet="Daily", reach=10)]), "g1")
    store.import_outlets(write_outlets_csv(tmp_path / "o.csv", [
        outlet_row(1, "newsdesk@daily.example", name="Daily")]), "g1")
    return store


def generic(tmp_path, rows, name="e.csv"):
    return export(tmp_path / name, ["email", "event", "timestamp", "user_agent"], rows)


ROWS = [
    ["one@x.example", "delivered", "2026-03-01T09:00:00Z", ""],
    ["one@x.example", "open", "2026-03-01T09:00:04Z", APPLE],  # proxy, 4 s after delivery
    ["one@x.example", "open", "2026-03-01T11:00:00Z", "Thunderbird"],
    ["One@x.example", "click", "2026-03-01T11:01:00Z", "Thunderbird"],
    ["two@x.example", "open", "2026-03-01 12:00:00", "Outlook"],
    ["two@x.example", "open", "2026-03-01 12:00:00", "Outlook"],  # the same twice: both kept
    ["nobody@else.example", "open", "2026-03-02T08:00:00+01:00", ""],
    ["newsdesk@daily.example", "click", "2026-03-02T10:00:00Z", ""],
]


def test_import_counts_resolves_and_lists_unknown(desk, tmp_path):
    counts = desk.import_engagement(generic(tmp_path, ROWS), "g1", "launch", GENERIC)
    assert counts["rows"] == 8 and counts["prefetch"] == 1
    assert counts["events"] == {"click": 2, "delivered": 1, "open": 5}
    assert (counts["unknown"], counts["unknown_addresses"]) == (1, ["nobody@else.example"])
    stored = desk.db.rows("SELECT occurred_at FROM engagement_events WHERE email LIKE 'nobody%'")
    assert str(stored[0][0]) == "2026-03-02 07:00:00"  # kept, in UTC
    got = desk.engagers("g1", "launch")
    assert got.select("contact_id", "opens", "clicks").rows() == [
        (1, 1, 1), (None, 0, 1), (2, 2, 0)]
    assert got["outlet"].to_list() == ["Daily", "Daily", "Weekly"]
    assert str(got["last_event"][0]) == "2026-03-01 11:01:00"


def test_reimport_is_idempotent(desk, tmp_path):
    path = generic(tmp_path, ROWS)
    desk.import_engagement(path, "g1", "launch", GENERIC)
    before = desk.db.scalar("SELECT count(*) FROM engagement_events")
    desk.import_engagement(path, "g1", "launch", GENERIC)
    assert desk.db.scalar("SELECT count(*) FROM engagement_events") == before == 8
    desk.import_engagement(path, "g1", "other", GENERIC)
    assert desk.db.scalar("SELECT count(*) FROM engagement_events") == 16


def test_prefetch_opens_are_not_engagement_unless_asked(desk, tmp_path):
    rows = [["three@x.example", "delivered", "2026-03-01T09:00:00Z", ""],
            ["three@x.example", "open", "2026-03-01T09:00:03Z", APPLE],
            ["two@x.example", "delivered", "2026-03-01T09:00:00Z", ""],
            ["two@x.example", "open", "2026-03-01T10:00:00Z", APPLE]]  # an hour later: a reader
    desk.import_engagement(generic(tmp_path, rows), "g1", "d", GENERIC)
    assert desk.engagers("g1", "d")["contact_id"].to_list() == [2]
    assert sorted(desk.engagers("g1", "d", include_prefetch=True)["contact_id"]) == [2, 3]


def test_event_filter_sorts_and_list_filter(desk, tmp_path):
    desk.import_engagement(generic(tmp_path, ROWS), "g1", "launch", GENERIC)
    assert desk.engagers("g1", "launch", event="click")["contact_id"].to_list() == [1, None]
    assert desk.engagers("g1", "launch", sort_by="reach")["reach"].to_list() == [5000, 500, 90]
    assert desk.engagers("g1", "launch", sort_by="outlet")["outlet"].to_list() == [
        "Daily", "Daily", "Weekly"]
    assert desk.engagers("g1", "launch", lists=["Tech"])["contact_id"].to_list() == [1]
    with pytest.raises(ValueError, match="cannot sort by 'size'"):
        desk.engagers("g1", "launch", sort_by="size")


def test_per_recipient_counts_cision_preset_replaces_on_reimport(desk, tmp_path):
    header = ["Email", "Opens", "Clicks", "Last Activity"]
    path = export(tmp_path / "c.csv", header, [["one@x.example", "3", "1", "2026-03-05 10:00"],
                                               ["two@x.example", "0", "0", ""]])
    counts = desk.import_engagement(path, "g1", "d", preset("cision"))
    assert counts["events"] == {"click": 1, "open": 3}
    export(path, header, [["one@x.example", "4", "1", "2026-03-06 10:00"]])
    desk.import_engagement(path, "g1", "d", preset("cision"))
    assert desk.engagers("g1", "d").select("contact_id", "opens", "clicks").rows() == [(1, 4, 1)]


def test_sendgrid_preset_unix_times_machine_open_and_skip(desk, tmp_path):
    path = export(tmp_path / "sg.csv", ["email", "event", "timestamp", "sg_machine_open"], [
        ["one@x.example", "processed", "1772355600", ""],
        ["one@x.example", "open", "1772355605", "true"],
        ["two@x.example", "open", "1772359200", "false"],
        ["two@x.example", "spamreport", "1772359300", ""]])
    counts = desk.import_engagement(path, "g1", "d", preset("sendgrid"))
    assert (counts["skipped"], counts["prefetch"]) == (1, 1)
    assert counts["events"] == {"complaint": 1, "open": 2}
    assert desk.engagers("g1", "d")["contact_id"].to_list() == [2]


def test_brevo_preset_from_xlsx_and_map(desk, tmp_path):
    pl.DataFrame({"E-Mail": ["one@x.example"], "Event": ["Clicked"],
                  "When": ["2026-03-01 10:00:00"]}).write_excel(tmp_path / "b.xlsx")
    brevo = preset("brevo").with_map(["E-Mail=email", "When=timestamp"])
    desk.import_engagement(tmp_path / "b.xlsx", "g1", "d", brevo)
    assert desk.engagers("g1", "d").select("contact_id", "clicks").rows() == [(1, 1)]


@pytest.mark.parametrize(("rows", "message"), [
    ([["", "open", "2026-03-01", ""]], "row 1, column email: no address"),
    ([["a@x.example", "opened", "2026-03-01", ""]], "row 1, column event: not an event"),
    ([["a@x.example", "open", "yesterday", ""]], "row 1, column timestamp: not a time"),
])
def test_a_bad_row_is_named_and_nothing_applied(desk, tmp_path, rows, message):
    with pytest.raises(ImportFailed, match=message):
        desk.import_engagement(generic(tmp_path, rows), "g1", "d", GENERIC)
    assert desk.db.scalar("SELECT count(*) FROM engagement_events") == 0


def test_unknown_preset_and_bad_map_are_named():
    with pytest.raises(ImportFailed, match="unknown preset 'acme'; one of generic, mailchimp"):
        preset("acme")
    with pytest.raises(ImportFailed, match="--map 'Mail': write COLUMN=FIELD"):
        GENERIC.with_map(["Mail"])
    with pytest.raises(ImportFailed, match="--map 'Mail=address'"):
        GENERIC.with_map(["Mail=address"])


def test_add_to_list_creates_then_adds_only_new_members(desk):
    first = desk.add_to_list("g1", "Engaged", [1, 2])
    assert first["created"] and first["added"] == 2
    again = desk.add_to_list("g1", "Engaged", [2, 3, 99])
    assert (again["list_id"], again["created"], again["added"]) == (first["list_id"], False, 1)
    lists = desk.lists("g1")
    assert lists.filter(pl.col("name") == "Engaged")["members"].to_list() == [3]


def test_a_contact_imported_later_and_an_address_that_moves_are_found(desk, tmp_path,
                                                                     contacts_csv):
    desk.import_engagement(generic(tmp_path, ROWS), "g1", "launch", GENERIC)
    assert "nobody@else.example" not in desk.engagers("g1", "launch")["email"].to_list()
    desk.import_contacts(contacts_csv([
        contact_row(4, "nobody@else.example", outlet="Weekly", reach=7),
        contact_row(3, "two@x.example", outlet="Daily", reach=10)]), "g1")
    rows = {r["contact_id"]: r for r in desk.engagers("g1", "launch").iter_rows(named=True)}
    assert rows[4]["opens"] == 1 and rows[4]["reach"] == 7
    assert rows[3]["opens"] == 2 and rows[3]["name"]  # two@ is contact 3's now
    assert desk.engager_counts("g1", "launch") == {"contacts": 3, "outlet_addresses": 1}
    assert desk.engager_ids("g1", "launch", event="click") == [1]


def test_the_engagers_equal_a_sum_over_the_events(desk, tmp_path):
    """The totals kept at import give what summing every event gives."""
    desk.import_engagement(generic(tmp_path, ROWS), "g1", "launch", GENERIC)
    for prefetch in (False, True):
        got = desk.engagers("g1", "launch", include_prefetch=prefetch).filter(
            pl.col("contact_id").is_not_null())
        want = desk.db.frame(
            "SELECT a.contact_id, sum(n) FILTER (WHERE event = 'open') AS opens,"
            " coalesce(sum(n) FILTER (WHERE event = 'click'), 0) AS clicks"
            " FROM engagement_events e JOIN visible_addresses('g1') a USING (email)"
            " WHERE (NOT prefetch OR ?) AND event IN ('open', 'click')"
            " GROUP BY 1 ORDER BY 1", [prefetch])
        assert got.sort("contact_id").select("contact_id", "opens", "clicks").rows() == \
            want.rows()


REQUESTS = [
    ["one@x.example", "unsubscribe", "2026-03-01T11:05:00Z", ""],
    ["two@x.example", "complaint", "2026-03-01T12:05:00Z", ""],
    ["newsdesk@daily.example", "unsubscribe", "2026-03-02T10:05:00Z", ""],
    ["stranger@else.example", "unsubscribe", "2026-03-02T10:06:00Z", ""],
    ["three@x.example", "open", "2026-03-02T10:07:00Z", ""],
]


def test_unsubscribes_and_complaints_of_the_sending_tool_are_applied(desk, tmp_path):
    counts = desk.import_engagement(generic(tmp_path, REQUESTS), "g1", "launch", GENERIC)
    assert counts["requests"] == {"unsubscribe": 3, "complaint": 1, "already": 0,
                                  "superseded": 0}
    assert counts["opt_outs"] == {"contacts": 2, "outlets": 1, "addresses": 1}
    assert desk.contact(1, "g1")["optout"]["source"] == "sending_tool"
    assert desk.contact(2, "g1")["optout"]["source"] == "complaint"
    assert desk.contact(3, "g1")["optout"] is None  # an open asks for nothing
    assert desk.outlet(1, "g1")["optout"]["source"] == "sending_tool"
    for email in ("one@x.example", "two@x.example", "newsdesk@daily.example",
                  "stranger@else.example"):
        assert desk.is_suppressed(email, "g1")
    assert not desk.is_suppressed("one@x.example", "other-group")
    event = desk.events(1, "g1", kinds=["opt_out"]).row(0, named=True)
    assert '"distribution": "launch"' in event["evidence"] and event["actor"] == \
        "engagement import"


def test_a_reimport_after_an_opt_in_invents_no_opt_out(desk, tmp_path):
    path = generic(tmp_path, REQUESTS)
    desk.import_engagement(path, "g1", "launch", GENERIC)
    desk.opt_in(1, "g1", source="manual", actor="analyst", reason="asked back in by phone")
    desk.opt_in_outlet(1, "g1", source="manual", actor="analyst")
    again = desk.import_engagement(path, "g1", "launch", GENERIC)
    assert again["opt_outs"] == {"contacts": 0, "outlets": 0, "addresses": 0}
    assert again["requests"]["already"] == 4
    assert desk.contact(1, "g1")["optout"] is None and desk.outlet(1, "g1")["optout"] is None
    # another export whose unsubscribe is older than the opt-in: superseded, not applied
    old = generic(tmp_path, [["one@x.example", "unsubscribe", "2026-01-01T00:00:00Z", ""]],
                  "old.csv")
    counts = desk.import_engagement(old, "g1", "january", GENERIC)
    assert counts["requests"]["superseded"] == 1 and desk.contact(1, "g1")["optout"] is None


def test_opted_out_search_shows_and_filters_who_engaged_lately(desk, tmp_path):
    import datetime as dt

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    recent, old = now - dt.timedelta(days=3), now - dt.timedelta(days=200)
    desk.import_engagement(generic(tmp_path, [
        ["one@x.example", "click", recent.strftime("%Y-%m-%dT%H:%M:%SZ"), ""],
        ["two@x.example", "open", old.strftime("%Y-%m-%dT%H:%M:%SZ"), ""],
        ["three@x.example", "delivered", recent.strftime("%Y-%m-%dT%H:%M:%SZ"), ""],
        ["three@x.example", "open",  # the proxy, 2 s after delivery
         (recent + dt.timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ"), APPLE]]),
        "g1", "launch", GENERIC)
    for c in (1, 2, 3):
        desk.opt_out(c, "g1", source="reply", actor="daemon")
    everyone = desk.opted_out("g1", sort_by="name")
    last = dict(zip(everyone["contact_id"], everyone["last_engaged"], strict=True))
    assert last[1] == recent.replace(microsecond=0) and last[2] == old.replace(microsecond=0)
    assert last[3] is None  # a privacy proxy's open is not a reader's
    assert desk.opted_out("g1", engaged_within_days=30)["contact_id"].to_list() == [1]
    assert sorted(desk.opted_out("g1", engaged_within_days=365)["contact_id"]) == [1, 2]
    assert desk.opted_out("g1", engaged_within_days=30, limit=None)["total"].to_list() == [1]
