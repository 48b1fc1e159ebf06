"""The report as one self-contained HTML page: inline CSS and SVG, no scripts, no outside files.

``render_html(report)`` is the page; ``sections(report)`` gives its parts (summary cards,
charts, tables) for the notebook view, which shows the same thing interactively.
"""

from __future__ import annotations

import polars as pl

from optdesk.reports.charts import LABELS, PALETTE, e, line_chart, sparkline, stacked_bars
from optdesk.reports.engagement_html import distributions_table, outlets_table
from optdesk.store.base import SOURCES

TOP_LISTS_CHART = 20
TOP_LISTS_TABLE = 50

CSS = """
body{font-family:system-ui,'DejaVu Sans',Arial,sans-serif;color:#222;margin:24px;max-width:1100px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px}
.sub{color:#555;margin:0 0 16px}
.cards{display:flex;flex-wrap:wrap;gap:10px}
.card{border:1px solid #ddd;border-radius:6px;padding:10px 14px;min-width:150px}
.card b{display:block;font-size:22px}.card span{color:#555;font-size:12px}
table{border-collapse:collapse;font-size:12px;margin-top:6px}
th,td{border-bottom:1px solid #e6e6e6;padding:4px 7px;text-align:right;white-space:nowrap}
th{background:#f4f4f4;font-weight:600}td.l,th.l{text-align:left;white-space:normal;min-width:150px;max-width:260px}
th.g{text-align:center;border-bottom:2px solid #ccc}
.bar{display:inline-block;height:9px;background:#D55E00;vertical-align:middle;margin-right:5px}
.note{color:#555;font-size:12px}.chart{margin:14px 0}
.tablewrap{max-height:560px;max-width:100%;overflow:auto;border:1px solid #e6e6e6}
.tablewrap th{position:sticky;top:0;z-index:1}.tablewrap tr:nth-child(2) th{top:26px}
.tablewrap td.name,.tablewrap th.name{position:sticky;left:0;background:#fff;z-index:2}
.tablewrap th.name{background:#f4f4f4;z-index:3}
"""


def duration(seconds: float | None) -> str:
    """A delay for people: '45 s', '12 min', '3.5 h', '2.1 d'."""
    if seconds is None:
        return "–"
    if abs(seconds) < 1:
        return f"{seconds * 1000:.0f} ms"
    if abs(seconds) < 90:
        return f"{seconds:.0f} s"
    if abs(seconds) < 5400:
        return f"{seconds / 60:.0f} min"
    if abs(seconds) < 172800:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} d"


def _card(value: str, label: str) -> str:
    return f'<div class="card"><b>{e(value)}</b><span>{e(label)}</span></div>'


def summary_html(report) -> str:
    s = report.summary
    clock = _clock_row(report.tables["compliance"], "reply")
    in_lists = s["contacts_in_lists"]
    rate = s["opted_out_in_lists"] / in_lists if in_lists else 0.0
    by_source = ", ".join(f"{LABELS[src]} {s['new_' + src]:,}" for src in SOURCES)
    cards = [
        _card(f"{s['new_opt_outs']:,}", f"new opt-outs ({by_source})"),
        _card(f"{s['opt_ins']:,}", "opt-ins"),
        _card(f"{s['opted_out_in_lists']:,} ({rate:.1%})",
              f"opted out now, of {in_lists:,} contacts in {s['lists']:,} lists"),
        _card(f"{s['bounces_hard']:,} / {s['bounces_soft']:,}", "bounces hard / soft"),
        _card(f"{s['undeliverable_addresses']:,}", "undeliverable addresses"),
        _card(f"{s['invitations_sent']:,} / {s['invitations_accepted']:,}",
              "invitations sent / accepted"),
        _clock_card(clock),
    ]
    incidents = report.tables.get("incidents")
    if incidents is not None:
        messages = int(incidents["messages"].sum() or 0) if incidents.height else 0
        cards.append(_card(f"{messages:,}", f"sending incidents (our mail refused or lost), "
                                            f"{incidents.height:,} provider/reason pairs"))
    return f'<div class="cards">{"".join(cards)}</div>'


def _clock_card(clock: dict) -> str:
    """How fast a reply asking to be removed was applied, in words."""
    n = clock["opt_outs"]
    if not n or clock["median_seconds"] is None:
        return _card("–", "no reply asked to be removed in the period")
    plural = "s" if n != 1 else ""
    return _card(duration(clock["median_seconds"]),
                 f"half of the {n:,} removal request{plural} by reply were applied within this; "
                 f"95 in 100 within {duration(clock['p95_seconds'])}, the slowest after "
                 f"{duration(clock['max_seconds'])}")


def _clock_row(compliance: pl.DataFrame, source: str | None) -> dict:
    rows = compliance.filter(pl.col("source").eq_missing(source))
    if rows.height == 0:
        return {"opt_outs": 0, "median_seconds": None, "p95_seconds": None, "max_seconds": None}
    return rows.row(0, named=True)


def lists_chart(report) -> str:
    lists = report.tables["lists"].filter(pl.col("new_opt_outs") > 0).head(TOP_LISTS_CHART)
    title = f"New opt-outs per list, {report.period.label} (top {lists.height} by new opt-outs)"
    if lists.height == 0:
        return f'<p class="note">{e("No new opt-outs in any list in " + report.period.label + ".")}</p>'
    rows = [(r["name"], {s: r[f"new_{s}"] for s in SOURCES}) for r in lists.iter_rows(named=True)]
    return stacked_bars(rows, SOURCES, title)


def trend_chart(report) -> str:
    trend = report.tables["trend"]
    labels = [f"{d:%d %b %Y}" for d in trend["period_start"]]
    series = {s: trend[s].to_list() for s in (*SOURCES, "opt_ins")}
    days = report.period.days
    title = f"Opt-outs per source and opt-ins, last {trend.height} periods of {days:g} days"
    return line_chart(labels, series, title, dashed=("opt_ins",))


def compliance_table(report) -> str:
    comp = report.tables["compliance"]
    head = "<tr><th class=l>source</th><th>opt-outs</th><th>median</th><th>95th pct</th><th>max</th></tr>"
    body = "".join(
        f"<tr><td class=l>{e(LABELS.get(r['source'], r['source']) if r['source'] else 'all')}</td>"
        f"<td>{r['opt_outs']:,}</td><td>{e(duration(r['median_seconds']))}</td>"
        f"<td>{e(duration(r['p95_seconds']))}</td><td>{e(duration(r['max_seconds']))}</td></tr>"
        for r in comp.iter_rows(named=True)
    )
    return f"<table>{head}{body}</table>"


def incidents_table(report, max_rows: int = 50) -> str:
    """Sending incidents per provider and reason: what the team must fix, not the journalists."""
    from optdesk.classify.bounce_reasons import describe, incident_sentence

    frame = report.tables.get("incidents")
    if frame is None or frame.height == 0:
        return f'<p class="note">{e("No sending incidents in " + report.period.label + ".")}</p>'
    head = ("<tr><th class=l>provider</th><th class=l>what happened</th><th>messages</th>"
            "<th>recipients</th><th>status</th><th>reply</th><th>last</th>"
            "<th class=l>last diagnostic</th></tr>")
    rows = []
    for r in frame.head(max_rows).iter_rows(named=True):
        last = f"{r['last_at']:%Y-%m-%d %H:%M}" if r["last_at"] else "–"
        rows.append(
            f"<tr><td class=l>{e(r['provider'])}</td>"
            f"<td class=l>{e(describe(r['reason']))} ({e(r['reason'])})</td>"
            f"<td>{r['messages']:,}</td><td>{r['recipients']:,}</td>"
            f"<td>{e(r['status'] or '–')}</td><td>{e(r['reply_code'] or '–')}</td>"
            f"<td>{e(last)}</td><td class=l>{e((r['last_diagnostic'] or '')[:200])}</td></tr>")
    top = frame.row(0, named=True)
    lead = incident_sentence(top["provider"], top["reason"], top["messages"], top["recipients"])
    note = ('<p class="note">Bounces whose reason is on our side or on the way (block lists, '
            "SPF/DKIM/DMARC, reverse DNS, sending rate, content, the network). They count "
            "against no contact; they are what the team must fix.</p>")
    return f"<p><b>{e(lead)}</b></p><table>{head}{''.join(rows)}</table>{note}"


# (group heading, [(column, heading)]): the table's two header rows
_GROUPS = [
    ("now", [("members", "members"), ("opted_out", "opted out")]),
    ("new opt-outs in the period", [(f"new_{s}", LABELS[s]) for s in SOURCES]
     + [("new_opt_outs", "total")]),
    ("in the period", [("opt_ins", "opt-ins"), ("bounces_hard", "hard bounces"),
                       ("bounces_soft", "soft bounces")]),
    ("now", [("undeliverable_addresses", "undeliverable")]),
    ("invitations", [("invitations_sent", "sent"), ("invitations_accepted", "accepted")]),
    ("engagement in the period", [("opens", "opens"), ("clicks", "clicks"),
                                  ("engaged", "engaged members")]),
]
_COLUMNS = [c for _, cols in _GROUPS for c in cols]


def lists_table(report, max_rows: int = TOP_LISTS_TABLE, lists: pl.DataFrame | None = None,
                order: str = "most new opt-outs first") -> str:
    """The lists table (``lists``: the report's, or a searched and sorted part of it), in a box
    that scrolls both ways with the header and the list names kept in view."""
    chosen = report.tables["lists"] if lists is None else lists
    lists = chosen.head(max_rows)
    trend = _sparkline_values(report, lists["list_id"].to_list())
    head = ("<tr><th></th><th></th>"
            + "".join(f'<th class=g colspan="{len(cols)}">{e(g)}</th>' for g, cols in _GROUPS)
            + "<th></th></tr><tr><th class='l name'>list</th><th>opt-out rate</th>"
            + "".join(f"<th>{e(label)}</th>" for _, label in _COLUMNS)
            + "<th>new opt-outs per period</th></tr>")
    rows = []
    top_rate = max(lists["opt_out_rate"].max() or 0.0, 0.01)
    for r in lists.iter_rows(named=True):
        bar = f'<span class="bar" style="width:{r["opt_out_rate"] / top_rate * 50:.0f}px"></span>'
        rows.append(f"<tr><td class='l name'>{e(r['name'])}</td><td>{bar}{r['opt_out_rate']:.1%}</td>"
                    + "".join(f"<td>{r[c]:,}</td>" for c, _ in _COLUMNS)
                    + f"<td>{sparkline(trend.get(r['list_id'], []))}</td></tr>")
    total = report.tables["lists"].height
    found = "" if chosen.height == total else f" ({chosen.height:,} match)"
    note = (f'<p class="note">{e(f"{lists.height:,} of {total:,} lists shown{found}, {order};")}'
            " every list is in the CSV and Parquet files beside this page.</p>")
    return f"<div class='tablewrap'><table>{head}{''.join(rows)}</table></div>{note}"


def _sparkline_values(report, list_ids: list[int]) -> dict[int, list[int]]:
    starts = report.tables["trend"]["period_start"].to_list()
    lt = report.tables["list_trend"].filter(pl.col("list_id").is_in(list_ids))
    counts = {(r["list_id"], r["period_start"]): r["opt_outs"] for r in lt.iter_rows(named=True)}
    return {i: [counts.get((i, s), 0) for s in starts] for i in list_ids}


def sections(report) -> dict[str, str]:
    """The page's parts as HTML fragments, in page order."""
    return {
        "summary": summary_html(report),
        "lists_chart": f'<div class="chart">{lists_chart(report)}</div>',
        "trend_chart": f'<div class="chart">{trend_chart(report)}</div>',
        "compliance": "<h2>Compliance clock per channel: from the request (a message's arrival, a one-click POST) to its opt-out applied, in the period</h2>"
                      + compliance_table(report),
        "incidents": "<h2>Sending incidents: our mail refused or lost, in the period</h2>"
                     + incidents_table(report),
        "lists": "<h2>Media lists</h2>" + lists_table(report),
        "distributions": "<h2>Engagement per distribution of the period</h2>"
                         + distributions_table(report),
        "outlets": "<h2>Outlets opted out in the period</h2>" + outlets_table(report),
    }


def render_html(report) -> str:
    """The whole page."""
    generated = f"{report.generated_at:%Y-%m-%d %H:%M} UTC"
    title = f"Opt-outs per media list — {report.data_group}"
    parts = sections(report)
    legend = " ".join(
        f'<span style="color:{PALETTE[s]}">■</span> {e(LABELS[s])}' for s in SOURCES)
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>"
        f"<h1>{e(title)}</h1>"
        f'<p class="sub">{e(f"Period {report.period.label} · generated {generated}")}</p>'
        + parts["summary"] + parts["lists_chart"] + parts["trend_chart"]
        + parts["compliance"] + parts["incidents"] + parts["lists"] + parts["distributions"]
        + parts["outlets"]
        + f'<p class="note">Sources: {legend}. Times are UTC; the period includes both days shown.</p>'
        + "</body></html>"
    )



def scoped_css(scope: str) -> str:
    """The page's CSS limited to elements inside ``scope`` (a selector), for embedding the
    sections in a notebook without restyling the notebook itself."""
    rules = []
    for rule in CSS.replace("\n", "").split("}"):
        if "{" not in rule:
            continue
        selectors, body = rule.split("{", 1)
        scoped = ",".join(scope if s.strip() == "body" else f"{scope} {s.strip()}"
                          for s in selectors.split(","))
        rules.append(f"{scoped}{{{body}}}")
    return "".join(rules)
