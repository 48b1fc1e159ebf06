"""The report's numbers computed again in plain Python from the generated rows."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

SOURCES = ("reply", "manual", "list_unsubscribe", "complaint")


def in_period(t, start, end) -> bool:
    return t is not None and start <= t < end


def visible(address: dict, group: str) -> bool:
    return address["kind"] == "system" or address["data_group"] == group


def contact_facts(rows, group, start, end) -> dict[int, dict[str, int]]:
    """Per contact: every counted fact, keyed like the report's columns."""
    facts: dict[int, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for o in rows["optouts"]:
        if o["data_group"] == group:
            facts[o["contact_id"]]["opted_out"] += 1
    by_email = defaultdict(list)
    for a in rows["addresses"]:
        if visible(a, group):
            by_email[a["email"]].append(a["contact_id"])
    for e in rows["events"]:
        if not in_period(e["occurred_at"], start, end):
            continue
        if e["kind"] in ("opt_out", "opt_in") and e["data_group"] == group:
            f = facts[e["contact_id"]]
            if e["kind"] == "opt_out":
                f["new_opt_outs"] += 1
                f[f"new_{e['source']}"] += 1
            else:
                f["opt_ins"] += 1
        elif e["kind"] in ("bounce_hard", "bounce_soft") and e["data_group"] in (group, None, ""):
            owners = [e["contact_id"]] if e["contact_id"] is not None else by_email[e["email"]]
            for cid in owners:
                facts[cid]["bounces_" + e["kind"].split("_")[1]] += 1
    bad = {d["email"] for d in rows["deliverability"] if d["undeliverable"]}
    seen = set()
    for a in rows["addresses"]:
        if a["email"] in bad and visible(a, group) and (a["contact_id"], a["email"]) not in seen:
            seen.add((a["contact_id"], a["email"]))
            facts[a["contact_id"]]["undeliverable_addresses"] += 1
    for i in rows["invitations"]:
        if i["data_group"] != group:
            continue
        if in_period(i["sent_at"], start, end):
            facts[i["contact_id"]]["invitations_sent"] += 1
        if i["status"] == "accepted" and in_period(i["answered_at"], start, end):
            facts[i["contact_id"]]["invitations_accepted"] += 1
    return facts


def lists(rows, group, start, end) -> dict[int, dict]:
    facts = contact_facts(rows, group, start, end)
    out = {}
    for lst in rows["media_lists"]:
        if lst["data_group"] != group:
            continue
        members = [m["contact_id"] for m in rows["list_members"] if m["list_id"] == lst["list_id"]]
        row = defaultdict(int, {"name": lst["name"], "members": len(members)})
        for cid in members:
            for k, v in facts.get(cid, {}).items():
                row[k] += v
        row["opt_out_rate"] = row["opted_out"] / len(members) if members else 0.0
        out[lst["list_id"]] = row
    return out


def summary(rows, group, start, end) -> dict:
    facts = contact_facts(rows, group, start, end)
    group_lists = {x["list_id"] for x in rows["media_lists"] if x["data_group"] == group}
    in_lists = {m["contact_id"] for m in rows["list_members"] if m["list_id"] in group_lists}
    total = defaultdict(int, {"lists": len(group_lists), "contacts_in_lists": len(in_lists)})
    for cid, f in facts.items():
        for k, v in f.items():
            total[k] += v
        if cid in in_lists:
            total["opted_out_in_lists"] += f.get("opted_out", 0)
    return total


def trend(rows, group, end, period, periods) -> list[dict]:
    first = end - period * periods
    out = [defaultdict(int, {"period_start": first + period * i}) for i in range(periods)]
    for e in rows["events"]:
        if e["data_group"] != group or e["kind"] not in ("opt_out", "opt_in"):
            continue
        if not in_period(e["occurred_at"], first, end):
            continue
        bucket = out[int((e["occurred_at"] - first) / period)]
        if e["kind"] == "opt_in":
            bucket["opt_ins"] += 1
        else:
            bucket["opt_outs"] += 1
            bucket[e["source"]] += 1
    return out


def list_trend(rows, group, end, period, periods) -> dict[tuple[int, dt.datetime], int]:
    first = end - period * periods
    group_lists = {x["list_id"] for x in rows["media_lists"] if x["data_group"] == group}
    lists_of = defaultdict(list)
    for m in rows["list_members"]:
        if m["list_id"] in group_lists:
            lists_of[m["contact_id"]].append(m["list_id"])
    out: dict = defaultdict(int)
    for e in rows["events"]:
        if e["data_group"] == group and e["kind"] == "opt_out" and in_period(e["occurred_at"], first, end):
            start = first + period * int((e["occurred_at"] - first) / period)
            for list_id in lists_of[e["contact_id"]]:
                out[(list_id, start)] += 1
    return dict(out)


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks."""
    xs = sorted(values)
    h = (len(xs) - 1) * p
    lo = math.floor(h)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (h - lo) * (xs[hi] - xs[lo])


def compliance(rows, group, start, end) -> dict[str | None, list[float]]:
    """Delays in seconds per source, and under None all of them."""
    received = {m["message_hash"]: m["received_at"] for m in rows["messages"]}
    out: dict = defaultdict(list)
    for e in rows["events"]:
        if (e["kind"] == "opt_out" and e["data_group"] == group and e["message_hash"]
                and in_period(e["occurred_at"], start, end)
                and received.get(e["message_hash"]) is not None):
            seconds = (e["occurred_at"] - received[e["message_hash"]]).total_seconds()
            out[e["source"]].append(seconds)
            out[None].append(seconds)
    return out
