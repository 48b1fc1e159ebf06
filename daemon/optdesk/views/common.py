"""Helpers shared by the notebook views: escaping, formatting, error display, debouncing.

Every value that reaches an HTML widget goes through ``esc``. Every event handler is wrapped
by ``Status.guard`` so that a domain error (store busy, contact not found, bad date) shows as a
message in the view, never as a traceback.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import functools
import getpass
import html
import logging
import os
import pathlib
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w

from optdesk.errors import OptdeskError

log = logging.getLogger(__name__)

SOURCE_LABELS = {
    "reply": "reply",
    "manual": "manual",
    "list_unsubscribe": "list-unsubscribe",
    "complaint": "complaint",
    "one_click": "one-click",
    "sending_tool": "sending tool",
}

STYLE = """<style>
.optdesk-card{border:1px solid #d0d7de;border-radius:6px;padding:6px 10px;margin:2px;
 background:#fff;min-width:220px;overflow:hidden;text-overflow:ellipsis;width:100%;
 box-sizing:border-box}
.optdesk-card div{overflow:hidden;text-overflow:ellipsis;white-space:nowrap}
.optdesk-card .n{font-weight:600;font-size:14px}
.optdesk-card,.optdesk-record{line-height:1.45}
.optdesk-record h4{margin:10px 0 2px 0}
.optdesk-muted{color:#57606a}
.optdesk-err{color:#b42318;font-weight:600}
.optdesk-ok{color:#1a7f37;font-weight:600}
.optdesk-table{border-collapse:collapse;font-size:13px}
.optdesk-table td,.optdesk-table th{border-bottom:1px solid #eaeef2;padding:2px 8px;
 text-align:left;vertical-align:top}
.optdesk-badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;
 background:#eaeef2}
.optdesk-badge.out{background:#ffebe9;color:#b42318}
.optdesk-badge.in{background:#dafbe1;color:#1a7f37}
.optdesk-cell{display:inline-block;overflow:hidden;text-overflow:ellipsis;white-space:nowrap;
 vertical-align:middle;padding-right:6px;box-sizing:border-box}
.optdesk-face .widget-html-content:has(.optdesk-cell){white-space:nowrap;padding:2px 0}
.optdesk-face{cursor:pointer;border-radius:6px}
.optdesk-face .widget-html{margin:0;overflow:hidden}
.optdesk-face .widget-html-content{width:100%;min-width:0;overflow:hidden}
.optdesk-face .optdesk-card{width:calc(100% - 4px)}
.jupyter-widgets.optdesk-hit,.optdesk-hit{background:transparent!important;box-shadow:none!important;
 border:0!important;cursor:pointer;z-index:1;padding:0}
.optdesk-hit:hover{background:rgba(9,105,218,.07)!important}
.optdesk-hit:focus-visible{outline:2px solid #0969da!important}
.optdesk-opened .optdesk-card{border-color:#0969da;box-shadow:0 0 0 1px #0969da}
.optdesk-opened .optdesk-face{background:#ddf4ff}
</style>"""


def esc(value: Any, empty: str = "—") -> str:
    """The value as HTML-escaped text; None and "" become ``empty``."""
    if value is None or value == "":
        return empty
    return html.escape(str(value), quote=True)


def fmt_when(value: dt.datetime | dt.date | None) -> str:
    """A timestamp as 'YYYY-MM-DD HH:MM' (UTC), escaped; '—' when missing."""
    if value is None:
        return "—"
    if isinstance(value, dt.datetime):
        return esc(value.strftime("%Y-%m-%d %H:%M"))
    return esc(value.isoformat())


def fmt_int(value: int | None) -> str:
    return "—" if value is None else esc(f"{int(value):,}")


def source_label(source: str | None) -> str:
    return esc(SOURCE_LABELS.get(source or "", source))


def default_actor() -> str:
    """Who the analyst is: $OPTDESK_ACTOR, else the login name."""
    try:
        return os.environ.get("OPTDESK_ACTOR") or getpass.getuser()
    except OSError:
        return "analyst"


def store_path(db: str, repo_root: pathlib.Path | None = None) -> pathlib.Path:
    """Where the store file is. A relative path that does not exist from the current folder
    (a notebook runs in notebooks/) is taken from the repository root."""
    from optdesk.settings import REPO_ROOT

    path = pathlib.Path(db).expanduser()
    if path.is_absolute() or path.exists():
        return path
    return (repo_root or REPO_ROOT) / path


def open_store(settings=None):
    """(store, settings) for a notebook: settings from OPTDESK_* / optdesk.toml, as the CLI."""
    from optdesk.settings import load_settings
    from optdesk.store import Store

    settings = settings or load_settings()
    return Store(store_path(settings.db)), settings


class View:
    """Base of the notebook views: ``self.widget`` is what is shown, ``self.group`` the data
    group picker. ``from_settings`` builds the view over the configured store."""

    @classmethod
    def from_settings(cls, settings=None, **kwargs):
        """The view over the configured store (OPTDESK_DB, optdesk.toml) and data group."""
        store, settings = open_store(settings)
        return cls.for_settings(store, settings, **kwargs)

    @classmethod
    def for_settings(cls, store, settings, **kwargs):
        return cls(store, settings.data_group, **kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    @property
    def data_group(self) -> str:
        return self.group.value


class Status:
    """One line of feedback under a view: errors in red, confirmations in green."""

    def __init__(self) -> None:
        self.widget = w.HTML(value="")

    @property
    def text(self) -> str:
        return self.widget.value

    def error(self, message: str) -> None:
        self.widget.value = f"<span class='optdesk-err'>{esc(message)}</span>"

    def ok(self, message: str) -> None:
        self.widget.value = f"<span class='optdesk-ok'>{esc(message)}</span>"

    def info(self, message: str) -> None:
        self.widget.value = f"<span class='optdesk-muted'>{esc(message)}</span>"

    def clear(self) -> None:
        self.widget.value = ""

    def guard(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Wrap an event handler: domain errors become a message, nothing escapes as a traceback."""
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except OptdeskError as exc:
                self.error(str(exc))
            except ValueError as exc:
                self.error(f"Not accepted: {exc}")
            except Exception as exc:  # noqa: BLE001 - the analyst sees a message, the log the trace
                log.exception("unexpected error in %s", getattr(fn, "__name__", fn))
                self.error(f"Unexpected error ({type(exc).__name__}): {exc}")
            return None
        return wrapper


class Debouncer:
    """Call ``fn`` once, ``delay`` seconds after the last ``trigger()``.

    With delay 0 the call is immediate (tests, benchmarks). In a kernel the call is scheduled on
    the kernel's event loop, so it runs on the same thread as the other widget handlers.
    """

    def __init__(self, fn: Callable[[], Any], delay: float = 0.15) -> None:
        self.fn = fn
        self.delay = delay
        self._handle: asyncio.TimerHandle | threading.Timer | None = None
        self._lock = threading.Lock()

    def trigger(self, *_: Any) -> None:
        if self.delay <= 0:
            self.fn()
            return
        with self._lock:
            self.cancel()
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                timer = threading.Timer(self.delay, self.fn)
                timer.daemon = True
                timer.start()
                self._handle = timer
            else:
                self._handle = loop.call_later(self.delay, self.fn)

    def cancel(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None


def button(label: str, style: str = "", icon: str = "", width: str = "auto") -> w.Button:
    return w.Button(description=label, button_style=style, icon=icon,
                    layout=w.Layout(width=width))


def uploaded(upload: w.FileUpload) -> tuple[str, bytes] | None:
    """(file name, content) of the file chosen, if any."""
    files = upload.value
    if not files:
        return None
    f = files[0]
    return f["name"], bytes(f["content"])
