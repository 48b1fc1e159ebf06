"""Charts as inline SVG strings: no JavaScript, no external files. Every text is HTML-escaped.

``stacked_bars`` (horizontal, one bar per label), ``line_chart`` (one line per series over
periods) and ``sparkline``. Colours are the Okabe-Ito palette, readable with colour blindness.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from html import escape

PALETTE = {
    "reply": "#0072B2",
    "manual": "#E69F00",
    "list_unsubscribe": "#009E73",
    "complaint": "#D55E00",
    "one_click": "#CC79A7",
    "sending_tool": "#56B4E9",
    "opt_ins": "#7F7F7F",
}
LABELS = {
    "reply": "reply",
    "manual": "manual",
    "list_unsubscribe": "list-unsubscribe",
    "complaint": "complaint",
    "one_click": "one-click",
    "sending_tool": "sending tool",
    "opt_ins": "opt-ins",
}
FONT = "font-family=\"system-ui, 'DejaVu Sans', Arial, sans-serif\""


def e(value: object) -> str:
    """Escape any value for HTML text or an attribute."""
    return escape(str(value), quote=True)


def nice_ticks(top: float, count: int = 5) -> list[float]:
    """Round tick values from 0 to at least ``top``."""
    if top <= 0:
        return [0, 1]
    raw = top / count
    mag = 10 ** math.floor(math.log10(raw))
    step = next(m * mag for m in (1, 2, 2.5, 5, 10) if m * mag >= raw)
    if step < 1:
        step = 1
    n = math.ceil(top / step)
    return [i * step for i in range(n + 1)]


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if float(v).is_integer() else f"{v:,.1f}"


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def legend(series: Sequence[str], x: float, y: float, dashed: Sequence[str] = ()) -> str:
    parts, cx = [], x
    for name in series:
        colour = PALETTE.get(name, "#444")
        if name in dashed:
            mark = (f'<line x1="{cx}" y1="{y - 4}" x2="{cx + 14}" y2="{y - 4}" stroke="{colour}"'
                    ' stroke-width="2" stroke-dasharray="4 3"/>')
        else:
            mark = f'<rect x="{cx}" y="{y - 10}" width="12" height="12" rx="2" fill="{colour}"/>'
        parts.append(f'{mark}<text x="{cx + 18}" y="{y}" font-size="12">{e(LABELS.get(name, name))}</text>')
        cx += 34 + 6.0 * len(LABELS.get(name, name))
    return "".join(parts)


def stacked_bars(rows: Sequence[tuple[str, dict[str, float]]], series: Sequence[str],
                 title: str, width: int = 860) -> str:
    """Horizontal bars, one per (label, values) row, stacked in ``series`` order."""
    label_w, right, top, bar_h, gap = 230, 60, 56, 18, 6
    height = top + len(rows) * (bar_h + gap) + 30
    totals = [sum(v.get(s, 0) for s in series) for _, v in rows]
    ticks = nice_ticks(max(totals, default=0))
    plot_w = width - label_w - right
    scale = plot_w / ticks[-1]
    out = [_open(width, height, title),
           f'<text x="0" y="18" font-size="15" font-weight="600">{e(title)}</text>',
           legend(series, 0, 42)]
    for t in ticks:
        x = label_w + t * scale
        out.append(f'<line x1="{x:.1f}" y1="{top - 4}" x2="{x:.1f}" y2="{height - 26}" stroke="#e3e3e3"/>'
                   f'<text x="{x:.1f}" y="{height - 10}" font-size="11" text-anchor="middle"'
                   f' fill="#555">{e(_fmt(t))}</text>')
    for i, (label, values) in enumerate(rows):
        y = top + i * (bar_h + gap)
        out.append(f'<text x="{label_w - 8}" y="{y + 13}" font-size="12" text-anchor="end">'
                   f'<title>{e(label)}</title>{e(_clip(label, 32))}</text>')
        x = label_w
        for s in series:
            w = values.get(s, 0) * scale
            if w > 0:
                out.append(f'<rect x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}"'
                           f' fill="{PALETTE.get(s, "#444")}"><title>{e(label)}: '
                           f'{e(LABELS.get(s, s))} {e(_fmt(values.get(s, 0)))}</title></rect>')
                x += w
        out.append(f'<text x="{x + 5:.1f}" y="{y + 13}" font-size="11" fill="#333">'
                   f'{e(_fmt(totals[i]))}</text>')
    out.append("</svg>")
    return "".join(out)


def line_chart(x_labels: Sequence[str], series: dict[str, Sequence[float]], title: str,
               width: int = 860, height: int = 300, dashed: Sequence[str] = ()) -> str:
    """One line per series over the x labels (periods), with points and a legend."""
    left, right, top, bottom = 50, 20, 56, 40
    plot_w, plot_h = width - left - right, height - top - bottom
    ticks = nice_ticks(max((max(v, default=0) for v in series.values()), default=0))
    ys = plot_h / ticks[-1]
    step = plot_w / max(len(x_labels) - 1, 1)
    out = [_open(width, height, title),
           f'<text x="0" y="18" font-size="15" font-weight="600">{e(title)}</text>',
           legend(list(series), left, 42, dashed)]
    for t in ticks:
        y = top + plot_h - t * ys
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#e3e3e3"/>'
                   f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end"'
                   f' fill="#555">{e(_fmt(t))}</text>')
    every = max(1, math.ceil(len(x_labels) / 10))
    for i, label in enumerate(x_labels):
        if i % every == 0 or i == len(x_labels) - 1:
            out.append(f'<text x="{left + i * step:.1f}" y="{height - bottom + 18}" font-size="11"'
                       f' text-anchor="middle" fill="#555">{e(label)}</text>')
    for name, values in series.items():
        colour = PALETTE.get(name, "#444")
        pts = [(left + i * step, top + plot_h - v * ys) for i, v in enumerate(values)]
        dash = ' stroke-dasharray="5 4"' if name in dashed else ""
        out.append(f'<polyline fill="none" stroke="{colour}" stroke-width="2"{dash} points="'
                   + " ".join(f"{x:.1f},{y:.1f}" for x, y in pts) + '"/>')
        for (x, y), v, label in zip(pts, values, x_labels, strict=True):
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"><title>'
                       f'{e(LABELS.get(name, name))}, {e(label)}: {e(_fmt(v))}</title></circle>')
    out.append("</svg>")
    return "".join(out)


def sparkline(values: Sequence[float], width: int = 90, height: int = 20) -> str:
    """A tiny line of the values with the last point marked."""
    if not values:
        return ""
    top = max(max(values), 1)
    step = (width - 4) / max(len(values) - 1, 1)
    pts = [(2 + i * step, height - 2 - v / top * (height - 4)) for i, v in enumerate(values)]
    x, y = pts[-1]
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
            f' viewBox="0 0 {width} {height}" role="img"><title>{e(", ".join(_fmt(v) for v in values))}'
            f'</title><polyline fill="none" stroke="#0072B2" stroke-width="1.5" points="'
            + " ".join(f"{a:.1f},{b:.1f}" for a, b in pts)
            + f'"/><circle cx="{x:.1f}" cy="{y:.1f}" r="2" fill="#D55E00"/></svg>')


def _open(width: int, height: int, title: str) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}"'
            f' viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}" {FONT}>')
