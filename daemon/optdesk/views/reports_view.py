"""Notebook 04: the opt-out report, interactively: data group and period as controls, the same
summary, charts and tables as the HTML page (``optdesk.reports.html``), and the frames behind them.

    from optdesk.views.reports_view import ReportsView
    view = ReportsView.from_settings()
    view                      # the widget
    view.report.tables        # polars frames: summary, lists, trend, list_trend, compliance, incidents
"""

from __future__ import annotations

import datetime as dt

import ipywidgets as w

from optdesk.reports import html as report_html
from optdesk.reports.report import Period, Report, build_report, utcnow, write_report
from optdesk.views.common import Status, View, button, store_path
from optdesk.views.date_box import DateBox

SCOPE = ".optdesk-report"
ROW_CHOICES = (20, 50, 200, 1000)
LIST_ORDERS = {  # label → (column, descending)
    "most new opt-outs first": ("new_opt_outs", True),
    "highest opt-out rate first": ("opt_out_rate", True),
    "most members first": ("members", True),
    "by name": ("name", False),
}


def pick_lists(lists, text: str, order: str):
    """The lists each word of ``text`` starts a word of the name of (folded as the contact
    search folds, ``optdesk.store.search.matches``), in ``order``."""
    from optdesk.store.search import matches
    from optdesk.views.opted_out_filters import natural_key

    if text.strip():
        lists = lists.filter([matches(str(n), text) for n in lists["name"]])
    column, descending = LIST_ORDERS[order]
    if column == "name":
        order_ = sorted(range(lists.height), key=lambda i: natural_key(str(lists["name"][i])))
        return lists[order_]
    return lists.sort([column, "name"], descending=[descending, False])


class ReportsView(View):
    """Controls (data group, first and last day, trend periods, rows shown) → report sections."""

    def __init__(self, store, settings, data_group: str | None = None,
                 today: dt.date | None = None) -> None:
        self.store, self.settings = store, settings
        self.report: Report | None = None
        self.status = Status()
        cfg = settings.reports
        period = Period.last(cfg.period_days, today or utcnow().date())
        group = data_group or settings.data_group
        self.group = w.Dropdown(options=sorted({*store.data_groups(), group}), value=group,
                                description="Data group")
        self.since = DateBox("From", period.start.date())
        self.until = DateBox("Through", (period.end - dt.timedelta(days=1)).date())
        self.trend = w.BoundedIntText(value=cfg.trend_periods, min=1, max=104,
                                      description="Periods", layout=w.Layout(width="160px"))
        self.rows = w.Dropdown(options=ROW_CHOICES, value=50, description="Lists shown",
                               layout=w.Layout(width="200px"))
        self.list_text = w.Text(placeholder="part of a list name", description="Find a list",
                                continuous_update=False, layout=w.Layout(width="320px"))
        self.list_order = w.Dropdown(options=list(LIST_ORDERS), value="most new opt-outs first",
                                     description="Order", layout=w.Layout(width="330px"))
        self.save_button = button("Write files", icon="save")
        self.sections = {name: w.HTML() for name in
                         ("summary", "lists_chart", "trend_chart", "compliance", "incidents",
                          "lists", "distributions", "outlets")}
        g = self.status.guard
        for control in (self.group, self.since, self.until, self.trend):
            control.observe(g(self.refresh), names="value")
        for control in (self.list_text, self.list_order, self.rows):  # the table only, no query
            control.observe(g(self.show_lists), names="value")
        self.save_button.on_click(g(self.write_files))
        self.widget = self._layout()
        g(self.refresh)()

    @classmethod
    def for_settings(cls, store, settings, **kwargs):
        return cls(store, settings, **kwargs)

    def _layout(self) -> w.Widget:
        style = w.HTML(f"<style>{report_html.scoped_css(SCOPE)}</style>")
        controls = w.HBox([self.group, self.since.widget, self.until.widget, self.trend, self.rows,
                           self.save_button], layout=w.Layout(flex_flow="row wrap"))
        parts = list(self.sections.values())
        parts.insert(len(parts) - 1, w.HBox([self.list_text, self.list_order]))
        body = w.VBox(parts)
        body.add_class(SCOPE[1:])
        return w.VBox([style, controls, self.status.widget, body])

    def period(self) -> Period:
        if self.since.value is None or self.until.value is None:
            raise ValueError("choose the first and the last day")
        return Period.between(self.since.value, self.until.value, self.settings.reports.period_days)

    def refresh(self, *_) -> None:
        """Build the report for the controls' values and show it."""
        report = build_report(self.store, self.group.value, self.period(), int(self.trend.value))
        self.store.release()
        self.report = report
        parts = report_html.sections(report)
        for name, widget in self.sections.items():
            if name != "lists":
                widget.value = parts[name]
        self.show_lists()
        self.status.info(f"{report.data_group}: {report.period.label}, "
                         f"{report.summary['lists']:,} lists")

    def show_lists(self, *_) -> None:
        """The lists table for the search text and order chosen (no new query)."""
        if self.report is None:
            return
        lists = pick_lists(self.report.tables["lists"], self.list_text.value, self.list_order.value)
        self.sections["lists"].value = "<h2>Media lists</h2>" + report_html.lists_table(
            self.report, self.rows.value, lists, self.list_order.value)

    def write_files(self, *_) -> None:
        """Write CSV, Parquet and the HTML page under reports.out_dir/<date>/."""
        if self.report is None:
            self.refresh()
        files = write_report(self.report, store_path(self.settings.reports.out_dir))
        self.status.ok(f"wrote {files.html} and {len(files.csv) * 2} table files")

