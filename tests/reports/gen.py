"""Generated store contents with known answers for the report tests.

``generate(seed)`` makes plain Python rows (contacts, addresses, lists, memberships, events,
opt-outs, messages, deliverability, invitations) for two data groups, including edge cases:
events exactly on the period's bounds, an empty list, bounces known only by address, bounces of
another group, message-linked opt-outs without an arrival time. ``load(store, rows)`` writes them.
"""

from __future__ import annotations

import datetime as dt
import random

import polars as pl

G, H = "alpha", "beta"
SOURCES = ("reply", "manual", "list_unsubscribe", "complaint")
END = dt.datetime(2026, 11, 23)
PERIOD = dt.timedelta(days=7)
START = END - PERIOD
TRENDS = 6
T0 = END - PERIOD * TRENDS - dt.timedelta(days=10)  # some events before the trend window


def _moment(rng: random.Random) -> dt.datetime:
    """A time in [T0, END + 3 days), with bounds hit on purpose now and then."""
    r = rng.random()
    if r < 0.03:
        return START
    if r < 0.06:
        return END
    if r < 0.08:
        return END - PERIOD * rng.randint(1, TRENDS)
    span = (END + dt.timedelta(days=3) - T0).total_seconds()
    return T0 + dt.timedelta(seconds=int(rng.random() * span))


def generate(seed: int, n_contacts: int = 300) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    rows: dict[str, list[dict]] = {k: [] for k in (
        "contacts", "addresses", "media_lists", "list_members", "events", "optouts",
        "messages", "deliverability", "invitations")}
    for cid in range(1, n_contacts + 1):
        rows["contacts"].append({"contact_id": cid, "name": f"Contact {cid}"})
        for k in range(rng.choice((1, 1, 2))):
            rows["addresses"].append({"email": f"c{cid}.{k}@sys.example", "contact_id": cid,
                                      "kind": "system", "data_group": ""})
        if rng.random() < 0.3:
            grp = rng.choice((G, H))
            rows["addresses"].append({"email": f"c{cid}@{grp}.example", "contact_id": cid,
                                      "kind": "private", "data_group": grp})
    _lists(rng, rows, n_contacts)
    _optout_history(rng, rows, n_contacts)
    _bounces(rng, rows)
    _invitations(rng, rows, n_contacts)
    return rows


def _lists(rng, rows, n_contacts) -> None:
    names = [(1, G, "Tech <FR> & \"Co\""), (2, G, "Empty list")] + [
        (i, rng.choice((G, G, H)), f"List {i}") for i in range(3, 16)]
    for list_id, grp, name in names:
        rows["media_lists"].append({"list_id": list_id, "data_group": grp, "name": name})
        if name == "Empty list":
            continue
        for cid in rng.sample(range(1, n_contacts + 1), rng.randint(5, n_contacts // 3)):
            rows["list_members"].append({"list_id": list_id, "contact_id": cid})


def _optout_history(rng, rows, n_contacts) -> None:
    for cid in range(1, n_contacts + 1):
        for grp in (G, H):
            times = sorted(_moment(rng) for _ in range(rng.choice((0, 0, 1, 1, 2, 3))))
            state = None
            for at in times:
                if state is None:
                    state = (rng.choice(SOURCES), at)
                    ev = _event(rows, at, "opt_out", cid, grp, source=state[0])
                    if state[0] != "manual" and rng.random() < 0.8:
                        _message(rng, rows, ev, at)
                else:
                    state = None
                    _event(rows, at, "opt_in", cid, grp, source="invitation")
            if state:
                rows["optouts"].append({"contact_id": cid, "data_group": grp, "source": state[0],
                                        "actor": "t", "opted_out_at": state[1]})


def _event(rows, at, kind, cid, grp, source=None, email=None) -> dict:
    ev = {"event_id": len(rows["events"]) + 1, "occurred_at": at, "kind": kind,
          "contact_id": cid, "data_group": grp, "email": email, "source": source,
          "actor": "t", "message_hash": None}
    rows["events"].append(ev)
    return ev


def _message(rng, rows, ev, at) -> None:
    h = f"m{ev['event_id']}"
    ev["message_hash"] = h
    delay = dt.timedelta(seconds=rng.choice((rng.randint(5, 600), rng.randint(600, 90000))))
    received = None if rng.random() < 0.1 else at - delay
    rows["messages"].append({"message_hash": h, "received_at": received, "processed_at": at,
                             "status": "done", "data_group": ev["data_group"]})


def _bounces(rng, rows) -> None:
    emails = [a for a in rows["addresses"]]
    for _ in range(150):
        a = rng.choice(emails)
        kind = rng.choice(("bounce_hard", "bounce_soft", "bounce_soft"))
        grp = rng.choice((G, G, H, None))
        known = rng.random() < 0.6
        _event(rows, _moment(rng), kind, a["contact_id"] if known else None, grp,
               email=a["email"])
    _event(rows, START, "bounce_hard", None, G, email="stranger@nowhere.example")
    for a in rng.sample(emails, len(emails) // 5):
        rows["deliverability"].append({"email": a["email"], "undeliverable": rng.random() < 0.7})


def _invitations(rng, rows, n_contacts) -> None:
    for i in range(1, 240):
        sent = _moment(rng)
        status = rng.choice(("sent", "accepted", "declined", "expired"))
        answered = sent + dt.timedelta(days=rng.randint(0, 9)) if status in ("accepted", "declined") else None
        rows["invitations"].append({
            "invitation_id": i, "contact_id": rng.randint(1, n_contacts),
            "data_group": rng.choice((G, H)), "email": "x@y.example", "nonce": f"n{i}",
            "status": status, "created_at": sent, "sent_at": sent, "answered_at": answered})


def load(store, rows: dict[str, list[dict]]) -> None:
    """Write the rows into an empty store, table by table."""
    with store.db.transaction() as con:
        for grp in (G, H):
            con.execute("INSERT INTO data_groups VALUES (?, ?)", [grp, T0])
        for table, data in rows.items():
            if not data:
                continue
            frame = pl.DataFrame(data, infer_schema_length=None)
            if table == "contacts" and "external_id" not in frame.columns:
                # the team's id (migration 0010): here the key as text, as for an old store
                frame = frame.with_columns(pl.col("contact_id").cast(pl.String)
                                           .alias("external_id"))
            con.register("gen_rows", frame)
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM gen_rows")
            con.unregister("gen_rows")
