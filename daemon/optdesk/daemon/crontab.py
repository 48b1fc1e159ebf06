"""Crontab expressions for the daemon's schedule (the weekly report's ``reports.cron``).

APScheduler 3's ``CronTrigger.from_crontab`` numbers weekdays from Monday = 0, unlike cron
(Sunday = 0 and 7); ``crontab_fields`` turns weekday numbers into names so that ``0 7 * * 1``
means Monday as in every crontab.
"""

from __future__ import annotations

import re

from optdesk.errors import ConfigError
from optdesk.settings import Settings

_DOW = ("sun", "mon", "tue", "wed", "thu", "fri", "sat", "sun")


def crontab_fields(expr: str) -> dict[str, str]:
    """A standard 5-field crontab as APScheduler 3 fields. Weekday numbers follow cron
    (0 and 7 = Sunday), not APScheduler 3's own (0 = Monday), so they become names."""
    parts = expr.split()
    if len(parts) != 5:
        raise ConfigError(f"reports.cron {expr!r}: expected 5 fields (minute hour day month weekday)")
    minute, hour, day, month, dow = parts
    names = []
    for item in dow.split(","):
        m = re.fullmatch(r"([0-7])(?:-([0-7]))?", item)
        if not m:
            names.append(item.lower())
            continue
        first, last = int(m[1]), int(m[2] or m[1])
        if last < first:
            raise ConfigError(f"reports.cron {expr!r}: weekday range {item!r} runs backwards")
        names.extend(dict.fromkeys(_DOW[i] for i in range(first, last + 1)))
    return {"minute": minute, "hour": hour, "day": day, "month": month,
            "day_of_week": ",".join(dict.fromkeys(names))}


def report_trigger(settings: Settings, timezone=None):
    """The APScheduler 3 CronTrigger for ``settings.reports.cron`` (default Mondays 07:00), in
    ``timezone`` (default: the machine's local zone, like the scheduler's)."""
    from apscheduler.triggers.cron import CronTrigger

    fields = crontab_fields(settings.reports.cron)
    try:
        return CronTrigger(timezone=timezone, **fields)
    except ValueError as exc:
        raise ConfigError(f"reports.cron {settings.reports.cron!r}: {exc}") from exc
