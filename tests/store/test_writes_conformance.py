"""The daemon's set-based writes (``apply_batch``) and the one-at-a-time methods (``opt_out``,
``suppress_address``) must leave the same rows: one conformance run over both paths."""

import pytest

from fixtures.store import contact_row
from optdesk.errors import NotFound
from optdesk.store.writes import BatchOps

ITEMS = [  # (contact_id or None for an address, data group, source, reason, message hash)
    (1, "g1", "reply", "please remove me", "h1"),
    (1, "g1", "complaint", "again, other source", "h2"),      # already out: no change, no event
    (1, "g2", "list_unsubscribe", "other group", "h3"),
    (2, "g1", "complaint", "spam report", "h4"),
    (None, "g1", "reply", "stranger@else.example", "h5"),
    (None, "g1", "reply", "stranger@else.example", "h6"),    # already suppressed
]

EVENT_COLUMNS = ["kind", "contact_id", "data_group", "email", "source", "actor", "reason",
                 "evidence", "message_hash"]


@pytest.fixture
def make_store(tmp_path, contacts_csv):
    from optdesk.store import Store

    def make(name):
        s = Store(tmp_path / f"{name}.duckdb")
        s.import_contacts(contacts_csv([contact_row(1, "a@x.example"),
                                        contact_row(2, "b@x.example")]), "g1")
        return s

    return make


def snapshot(store):
    def rows(sql):
        return sorted(store.db.rows(sql), key=repr)

    return {
        "optouts": rows("SELECT contact_id, data_group, source, actor, reason FROM optouts"),
        "suppressions": rows("SELECT email, data_group, source, reason FROM address_suppressions"),
        "events": rows(f"SELECT {', '.join(EVENT_COLUMNS)} FROM events"),
        "event_links": rows(
            "SELECT o.contact_id, e.kind FROM optouts o JOIN events e USING (event_id)"),
    }


def test_batch_and_single_paths_leave_the_same_rows(make_store):
    single, batch = make_store("single"), make_store("batch")
    evidence = {"stage": "opt_out", "rule": "en-remove-me"}
    for cid, group, source, reason, digest in ITEMS:
        if cid is None:
            single.suppress_address(reason, group, source=source, actor="daemon", reason=reason,
                                    evidence=evidence, message_hash=digest)
        else:
            single.opt_out(cid, group, source=source, actor="daemon", reason=reason,
                           evidence=evidence, message_hash=digest)
    ops = BatchOps()
    for cid, group, source, reason, digest in ITEMS:
        if cid is None:
            ops.add_suppression(reason, group, source=source, reason=reason, evidence=evidence,
                                message_hash=digest)
        else:
            ops.add_opt_out(cid, group, source=source, reason=reason, evidence=evidence,
                            message_hash=digest)
    assert batch.apply_batch(ops)["missing"] == set()
    got, want = snapshot(batch), snapshot(single)
    assert got == want
    assert len(want["events"]) == 4 and len(want["optouts"]) == 3


def test_unknown_contact_is_refused_by_both_paths(make_store):
    single, batch = make_store("single"), make_store("batch")
    with pytest.raises(NotFound):
        single.opt_out(99, "g1", source="reply", actor="daemon")
    ops = BatchOps()
    ops.add_opt_out(99, "g1", source="reply", reason=None, evidence=None, message_hash="h9")
    assert batch.apply_batch(ops)["missing"] == {"h9"}
    assert snapshot(batch) == snapshot(single)
    assert snapshot(batch)["events"] == []
