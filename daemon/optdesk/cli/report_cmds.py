"""`optdesk report`: the opt-out report for a data group and period, written to files."""

from __future__ import annotations

import argparse
import datetime as dt

from optdesk.cli.common import add_group, group, open_store
from optdesk.errors import OptdeskError


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from exc


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report", help="opt-outs per media list: CSV, Parquet and an HTML page with charts",
        description="Without --since/--until: the last complete reports.period_days days.",
    )
    add_group(p)
    p.add_argument("--since", type=_date, metavar="D", help="first day (YYYY-MM-DD, UTC)")
    p.add_argument("--until", type=_date, metavar="D", help="last day, included (default: today)")
    p.add_argument("--out", metavar="DIR",
                   help="folder for the <date>/ folder of files (default: reports.out_dir)")
    p.add_argument("--trend-periods", type=int, metavar="N",
                   help="periods in the trend (default: reports.trend_periods)")
    p.set_defaults(func=cmd_report)


def cmd_report(args, settings) -> int:
    from optdesk.reports.report import Period, build_report, write_report

    cfg = settings.reports
    try:
        period = Period.between(args.since, args.until, cfg.period_days)
    except ValueError as exc:
        raise OptdeskError(str(exc)) from exc
    store = open_store(settings)
    report = build_report(store, group(args, settings), period,
                          args.trend_periods or cfg.trend_periods)
    store.release()
    files = write_report(report, args.out or cfg.out_dir)
    s = report.summary
    print(f"report for {report.data_group!r}, {period.label}: {s['lists']:,} lists, "
          f"{s['new_opt_outs']:,} new opt-outs, {s['opt_ins']:,} opt-ins")
    print(f"wrote {files.html}")
    print(f"  and CSV + Parquet of {', '.join(files.csv)} in {files.folder}")
    return 0
