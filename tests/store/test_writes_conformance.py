"""The daemon's set-based writes (``apply_writes``) and the one-at-a-time methods (``opt_out``,
``suppress_address``) must leave the same rows: one conformance run over both paths."""

import pytest

from fixtures.store import contact_row
from optdesk.errors import NotFound
from optdesk.store.writes import Writes

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
    ops = Writes()
    for cid, group, source, reason, digest in ITEMS:
        if cid is None:
            ops.add_suppression(reason, group, source=source, reason=reason, evidence=evidence,
                                message_hash=digest)
        else:
            ops.add_opt_out(cid, group, source=source, reason=reason, evidence=evidence,
                            message_hash=digest)
    assert batch.apply_writes(ops).missing == set()
    got, want = snapshot(batch), snapshot(single)
    assert got == want
    assert len(want["events"]) == 4 and len(want["optouts"]) == 3


def test_unknown_contact_is_refused_by_both_paths(make_store):
    single, batch = make_store("single"), make_store("batch")
    with pytest.raises(NotFound):
        single.opt_out(99, "g1", source="reply", actor="daemon")
    ops = Writes()
    ops.add_opt_out(99, "g1", source="reply", reason=None, evidence=None, message_hash="h9")
    assert batch.apply_writes(ops).missing == {"h9"}
    assert snapshot(batch) == snapshot(single)
    assert snapshot(batch)["events"] == []


def test_every_write_kind_leaves_the_same_rows_and_evidence_by_both_paths(make_store):
    """Opt-out, suppression, hard and soft bounce, automatic reply: non-ASCII evidence is kept
    as written (one encoder), the same rows through the single methods and one ``Writes``."""
    import datetime as dt

    single, batch = make_store("single"), make_store("batch")
    at = dt.datetime(2026, 11, 30, 12, 0)
    evidence = {"matched": "désinscription — Abmeldung, wypisać", "rule": "fr-désinscrire"}
    single.opt_out(1, "g1", source="reply", actor="daemon", reason="désinscrire", evidence=evidence,
                   message_hash="h1", at=at)
    single.suppress_address("ünknown@x.example", "g1", source="reply", actor="daemon",
                            reason="ä", evidence=evidence, message_hash="h2")
    single.mark_undeliverable("b@x.example", reason="5.1.1 utilisateur inconnu", evidence=evidence,
                              message_hash="h3", contact_id=2, data_group="g1", at=at)
    single.record_soft_bounce("a@x.example", reason="4.2.2 boîte pleine", evidence=evidence,
                              message_hash="h4", contact_id=1, data_group="g1", at=at)
    single.record_auto_reply("a@x.example", return_date=dt.date(2026, 12, 24), evidence=evidence,
                             message_hash="h5", contact_id=1, data_group="g1", at=at)
    ops = Writes()
    ops.add_opt_out(1, "g1", source="reply", reason="désinscrire", evidence=evidence,
                    message_hash="h1")
    ops.add_suppression("ünknown@x.example", "g1", source="reply", reason="ä", evidence=evidence,
                        message_hash="h2")
    ops.add_bounce(True, "b@x.example", reason="5.1.1 utilisateur inconnu", evidence=evidence,
                   message_hash="h3", contact_id=2, data_group="g1")
    ops.add_bounce(False, "a@x.example", reason="4.2.2 boîte pleine", evidence=evidence,
                   message_hash="h4", contact_id=1, data_group="g1")
    ops.add_auto_reply("a@x.example", return_date=dt.date(2026, 12, 24), evidence=evidence,
                       message_hash="h5", contact_id=1, data_group="g1")
    result = batch.apply_writes(ops, at=at)
    assert result.opted_out == {(1, "g1")} and result.undeliverable == {"b@x.example"}
    assert result.soft[0]["soft_bounces"] == 1 and not result.soft[0]["undeliverable"]
    got, want = snapshot(batch), snapshot(single)
    deliverability = "SELECT * FROM deliverability ORDER BY email"
    assert got == want
    assert batch.db.rows(deliverability) == single.db.rows(deliverability)
    texts = [r[0] for r in single.db.rows("SELECT evidence FROM events ORDER BY event_id")]
    assert len(texts) == 5 and all("désinscription — Abmeldung, wypisać" in t for t in texts)
    assert not any("\\u00e9" in t for t in texts)
