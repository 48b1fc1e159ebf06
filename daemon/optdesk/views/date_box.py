"""A day typed as YYYY-MM-DD, whatever the browser's locale (ipywidgets' DatePicker shows the
browser's own format, e.g. mm/dd/yyyy); used by the filters of 02 and the period of 04."""

from __future__ import annotations

import datetime as dt

import ipywidgets as w


class BadDate(ValueError):
    """Text in a date box that is not a day."""


class DateBox:
    """A day typed as ISO 8601 (YYYY-MM-DD), whatever the browser's locale; ``value`` is a
    ``datetime.date`` or None, and raises BadDate for text that is not a day."""

    def __init__(self, description: str, value: dt.date | None = None,
                 width: str = "230px") -> None:
        self.widget = w.Text(placeholder="YYYY-MM-DD", continuous_update=False,
                             description=description, layout=w.Layout(width=width),
                             style={"description_width": "80px"})
        self.value = value

    @property
    def value(self) -> dt.date | None:
        text = self.widget.value.strip()
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise BadDate(f"{self.widget.description}: {text!r} is not a day (YYYY-MM-DD)") from None

    @value.setter
    def value(self, day: dt.date | str | None) -> None:
        self.widget.value = "" if day is None else str(day if isinstance(day, str) else day.isoformat())

    def observe(self, handler, names="value") -> None:
        self.widget.observe(handler, names=names)
