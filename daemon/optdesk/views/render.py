"""HTML for the views, built from what the store returns. Every value goes through ``esc``."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from optdesk.views.common import esc, fmt_int, fmt_when, source_label

EVENT_LABELS = {
    "opt_out": "opted out",
    "opt_in": "opted back in",
    "invitation_sent": "invitation sent",
    "invitation_accepted": "invitation accepted",
    "invitation_declined": "invitation declined",
    "invitation_expired": "invitation expired",
    "invitation_refused": "invitation refused",
    "bounce_hard": "hard bounce",
    "bounce_soft": "soft bounce",
    "auto_reply": "automatic reply",
    "address_suppressed": "address suppressed",
    "review_resolved": "review resolved",
    "list_member_removed": "removed from a list",
    "outlet_opt_out": "outlet opted out",
    "outlet_opt_in": "outlet opted back in",
    "opt_out_undone": "opt-out undone",
}
OUTLET_CONTACT_ROWS = 100

HISTORY_ROWS = 50
NEVER_INVITED = " · <b>never invited</b> (a spam complaint)"


def table(headers: Sequence[str] | None, rows: Sequence[Sequence[str]], empty: str = "none") -> str:
    """An HTML table (no header row when ``headers`` is None); ``rows`` hold escaped cell HTML."""
    if not rows:
        return f"<div class='optdesk-muted'>{esc(empty)}</div>"
    head = "".join(f"<th>{esc(h, '')}</th>" for h in headers or [])
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
    head = f"<tr>{head}</tr>" if head else ""
    return f"<table class='optdesk-table'>{head}{body}</table>"


def contact_label(row: dict) -> str:
    """One line for the search results (plain text: the Select widget shows it as text)."""
    outlet = row.get("outlet") or "no outlet"
    title = f"{row['title']}, " if row.get("title") else ""
    email = f" · {row['email']}" if row.get("email") else ""
    reach = "" if row.get("reach") is None else f" · reach {int(row['reach']):,}"
    flag = " · OPTED OUT" if row.get("opted_out") else ""
    return f"{row['name']} — {title}{outlet}{email}{reach}{flag}  [#{row['external_id']}]"


def optout_state(optout: dict | None, data_group: str) -> str:
    if optout is None:
        return (f"<span class='optdesk-badge in'>can be mailed</span> not opted out of "
                f"<b>{esc(data_group)}</b>")
    reason = f" — “{esc(optout['reason'])}”" if optout.get("reason") else ""
    return (f"<span class='optdesk-badge out'>opted out</span> of <b>{esc(data_group)}</b>: "
            f"source <b>{source_label(optout['source'])}</b>, "
            f"{fmt_when(optout['opted_out_at'])} UTC by {esc(optout['actor'])}{reason}")


def addresses_table(addresses: pl.DataFrame) -> str:
    rows = []
    for a in addresses.iter_rows(named=True):
        kind = "system" if a["kind"] == "system" else f"private ({esc(a['data_group'])})"
        if a["undeliverable"]:
            health = "<span class='optdesk-err'>undeliverable</span>"
        elif a["bounce_score"]:
            health = f"bounce score {esc(round(a['bounce_score'], 2))}"
        else:
            health = "ok"
        rows.append([esc(a["email"]), kind, "yes" if a["is_primary"] else "", health])
    return table(["address", "kind", "primary", "delivery"], rows, "no address")


def history_table(history: pl.DataFrame) -> str:
    rows = [
        [fmt_when(e["occurred_at"]), esc(EVENT_LABELS.get(e["kind"], e["kind"])),
         source_label(e["source"]) if e["source"] else "—", esc(e["actor"]),
         esc(e["reason"]), esc(e["email"])]
        for e in history.head(HISTORY_ROWS).iter_rows(named=True)
    ]
    more = history.height - HISTORY_ROWS
    tail = f"<div class='optdesk-muted'>and {more:,} older events</div>" if more > 0 else ""
    return table(["when (UTC)", "what", "source", "by", "reason", "address"], rows,
                 "no events yet") + tail


def invitations_table(invitations: pl.DataFrame) -> str:
    rows = [
        [esc(i["status"]), fmt_when(i["sent_at"]), esc(i["email"]), esc(i["language"]),
         esc(i["subject"]), fmt_when(i["expires_at"]), fmt_when(i["answered_at"])]
        for i in invitations.iter_rows(named=True)
    ]
    return table(["status", "sent", "to", "language", "subject", "expires", "answered"], rows,
                 "no invitation sent")


def contact_record(record: dict, data_group: str) -> str:
    """The whole record of one contact as the 01 notebook shows it."""
    c = record["contact"]
    facts = " · ".join(
        esc(v) for v in (c.get("title"), c.get("outlet"), c.get("country"), c.get("language"))
        if v
    )
    lists = ", ".join(esc(n) for n in record["lists"]["name"]) or "<i>on no list</i>"
    return (
        f"<div class='optdesk-record'><h3 style='margin:4px 0'>{esc(c['name'])}</h3>"
        f"<div class='optdesk-muted'>{facts} · reach {fmt_int(c.get('reach'))} · "
        f"contact #{esc(c['external_id'])}</div>"
        f"<h4>Opt-out</h4><div class='optdesk-state'>{optout_state(record['optout'], data_group)}</div>"
        f"<h4>Email addresses</h4>{addresses_table(record['addresses'])}"
        f"<h4>Media lists in {esc(data_group)}</h4><div>{lists}</div>"
        f"<h4>Invitations</h4>{invitations_table(record['invitations'])}"
        f"<h4>History</h4>{history_table(record['history'])}</div>"
    )


def outlet_label(row: dict) -> str:
    """One line for an outlet among the search results (plain text), marked as an outlet."""
    facts = ", ".join(str(v) for v in (row.get("type"), row.get("country")) if v)
    reach = "" if row.get("reach") is None else f" · reach {int(row['reach']):,}"
    flag = " · OPTED OUT" if row.get("opted_out") else ""
    return f"OUTLET · {row['name']} — {facts or 'outlet'}{reach}{flag}  [outlet {row.get('external_id') or row['outlet_id']}]"


def outlet_optout_state(optout: dict | None, data_group: str) -> str:
    if optout is None:
        return optout_state(None, data_group)
    also = (" · <b>with its contacts</b>" if optout.get("with_contacts")
            else " · its own addresses only")
    return optout_state(optout, data_group) + also


def outlet_record(record: dict, data_group: str) -> str:
    """The whole record of one outlet as notebook 01 shows it."""
    o = record["outlet"]
    facts = " · ".join(esc(v) for v in (o.get("type"), o.get("country"), o.get("language")) if v)
    addresses = table(["address", "suppressed here", "delivery"], [
        [esc(a["email"]), "yes" if a["suppressed"] else "no",
         "<span class='optdesk-err'>undeliverable</span>" if a["undeliverable"] else "ok"]
        for a in record["addresses"].iter_rows(named=True)], "no address of its own")
    contacts = record["contacts"]
    rows = [[esc(c["name"]), esc(c["title"]),
             (f"<span class='optdesk-badge out'>opted out</span> {source_label(c['source'])}"
              f" {fmt_when(c['opted_out_at'])}" if c["opted_out"]
              else "<span class='optdesk-badge in'>can be mailed</span>"),
             f"#{esc(c['contact_id'])}"]
            for c in contacts.head(OUTLET_CONTACT_ROWS).iter_rows(named=True)]
    more = contacts.height - OUTLET_CONTACT_ROWS
    tail = f"<div class='optdesk-muted'>and {more:,} more contacts</div>" if more > 0 else ""
    out = int(contacts["opted_out"].sum() or 0) if contacts.height else 0
    return (
        f"<div class='optdesk-record optdesk-outlet'><h3 style='margin:4px 0'>"
        f"<span class='optdesk-badge'>outlet</span> {esc(o['name'])}</h3>"
        f"<div class='optdesk-muted'>{facts} · reach {fmt_int(o.get('reach'))} · "
        f"outlet id {esc(o.get('external_id') or o['outlet_id'])}</div>"
        f"<h4>Opt-out</h4><div class='optdesk-state'>"
        f"{outlet_optout_state(record['optout'], data_group)}</div>"
        f"<h4>Its own addresses</h4>{addresses}"
        f"<h4>Contacts at it ({contacts.height:,}; {out:,} opted out of {esc(data_group)})</h4>"
        f"{table(['name', 'title', 'opt-out', 'contact'], rows, 'no contact at this outlet')}"
        f"{tail}<h4>History</h4>{history_table(record['history'])}</div>"
    )


def opted_out_outlets(frame: pl.DataFrame, shown: int) -> str:
    """The outlets opted out (02, above the contacts): newest first, at most ``shown``."""
    if frame.height == 0:
        return ""
    rows = [[esc(r.get("external_id")), esc(r["name"]), esc(r["type"]), source_label(r["source"]),
             esc(r["actor"]),
             esc(r["reason"]),
             (f"with its contacts ({fmt_int(r['contacts_opted_out'])})" if r["with_contacts"]
              else "its own addresses only"), fmt_when(r["opted_out_at"])]
            for r in frame.head(shown).iter_rows(named=True)]
    more = " (the newest shown)" if frame.height > shown else ""
    return (f"<div class='optdesk-outlets'><b>Outlets opted out</b>{esc(more, '')}"
            + table(["id", "outlet", "type", "source", "by", "reason", "covers", "when (UTC)"],
                    rows)
            + "</div>")


def card(row: dict) -> str:
    """A profile card of an opted-out contact (02, profile view)."""
    return (
        f"<div class='optdesk-card'><div class='n'>{esc(row['name'])}</div>"
        f"<div>{esc(row.get('title'), '')}{', ' if row.get('title') else ''}"
        f"{esc(row.get('outlet'))}</div>"
        f"<div class='optdesk-muted'>{esc(row.get('email'))}</div>"
        f"<div class='optdesk-muted'>reach {fmt_int(row.get('reach'))} · "
        f"{source_label(row.get('source'))}{NEVER_INVITED if row.get('source') == 'complaint' else ''}"
        "</div>"
        f"<div class='optdesk-muted'>opted out {fmt_when(row.get('opted_out_at'))}"
        f"{_engaged(row.get('last_engaged'))}</div></div>"
    )


GRID_COLUMNS = (
    # (column, header, width, sortable key or None)
    ("name", "Name", "155px", "name"),
    ("title", "Title", "120px", None),
    ("outlet", "Outlet", "160px", "outlet"),
    ("email", "Email", "180px", None),
    ("reach", "Reach", "80px", "reach"),
    ("source", "Source", "195px", "source"),
    ("opted_out_at", "Opted out (UTC)", "130px", "opted_out_at"),
    ("country", "Country", "75px", "country"),
    ("language", "Lang.", "60px", "language"),
    ("last_engaged", "Last engaged", "125px", None),
)
TICK_WIDTH = 36  # the tick box before each grid row (28 px and its margins)


def grid_width() -> str:
    """The width of a grid row: the tick box and every column (the header buttons and the
    cells keep their widths, and the grid scrolls sideways in a narrow notebook)."""
    return f"{TICK_WIDTH + sum(int(width.removesuffix('px')) for _c, _h, width, _k in GRID_COLUMNS)}px"


GRID_NEVER_INVITED = " · <b>never invited</b>"  # the card's NEVER_INVITED, short for a cell


def _engaged(when) -> str:
    """The card's note of a last open or click (the contact still reads the releases)."""
    if when is None:
        return ""
    return f" · <span class='optdesk-engaged'>last engaged {fmt_when(when)}</span>"


def grid_cells(row: dict) -> str:
    """One grid row as fixed-width cells lined up under the header buttons."""
    cells = []
    for column, _, width, _ in GRID_COLUMNS:
        value = row.get(column)
        if column == "reach":
            text = fmt_int(value)
        elif column in ("opted_out_at", "last_engaged"):
            text = fmt_when(value)
        elif column == "source":
            text = source_label(value) + (GRID_NEVER_INVITED if value == "complaint" else "")
        else:
            text = esc(value)
        tip = (f" title='{esc(row.get(column), '')}'" if column in ("name", "title", "outlet", "email")
               else " title='a spam complaint: never invited to opt back in'"
               if column == "source" and value == "complaint" else "")
        cells.append(f"<span class='optdesk-cell' style='width:{width}'{tip}>{text}</span>")
    return "".join(cells)
