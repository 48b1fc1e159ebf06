"""The report page's engagement per distribution and its outlet opt-outs (every value escaped)."""

from __future__ import annotations

from collections.abc import Callable

from optdesk.reports.charts import LABELS, e

COUNTS = ("recipients", "opens", "clicks", "openers", "clickers", "unsubscribes", "complaints")
DIST_NOTE = ("<p class='note'>From the sending tool's exports (optdesk import engagement): opens "
             "by a privacy proxy are not counted; the opt-out rate is the share of recipients "
             "who unsubscribed or complained in that send.</p>")


def _table(frame, empty: str, headers: list[tuple[str, bool]], cells: Callable[[dict], list],
           note: str = "") -> str:
    """A scrolling table: ``headers`` (title, left-aligned?), ``cells(row)`` the escaped HTML of
    each cell; ``empty`` (text) when there is no row."""
    if frame.height == 0:
        return f"<p class='note'>{e(empty)}</p>"
    head = "<tr>" + "".join(f"<th{' class=l' if left else ''}>{e(h)}</th>"
                            for h, left in headers) + "</tr>"
    rows = "".join("<tr>" + "".join(
        f"<td{' class=l' if left else ''}>{c}</td>" for c, (_, left) in zip(
            cells(r), headers, strict=True)) + "</tr>" for r in frame.iter_rows(named=True))
    return f"<div class='tablewrap'><table>{head}{rows}</table></div>{note}"


def distributions_table(report) -> str:
    return _table(
        report.tables["distributions"], "No engagement imported for a distribution of this period.",
        [("distribution", True), *((c, False) for c in COUNTS), ("opt-out rate", False)],
        lambda r: [e(r["distribution"]), *(f"{r[c]:,}" for c in COUNTS),
                   f"{r['opt_out_rate']:.2%}"], DIST_NOTE)


def outlets_table(report) -> str:
    def cells(r: dict) -> list[str]:
        contacts = (f"{r['contacts_opted_out']:,} opted out with it" if r["with_contacts"]
                    else "not included")
        return [e(r["outlet"]), e(r["type"] or "–"), e(LABELS.get(r["source"], r["source"])),
                e(r["actor"]), e(r["reason"] or "–"), e(contacts),
                e(r["opted_out_at"].strftime("%Y-%m-%d %H:%M"))]

    return _table(report.tables["outlets"], "No outlet was opted out in the period.",
                  [(h, True) for h in ("outlet", "type", "source", "by", "reason",
                                       "its contacts", "when (UTC)")], cells)
