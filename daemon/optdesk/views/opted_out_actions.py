"""Actions of notebook 02 on the selected contacts: CSV export, hand-off to the invitations
notebook (03), removal from a media list (after confirmation)."""

from __future__ import annotations

import datetime as dt
import pathlib
import threading
import time

import ipywidgets as w

from optdesk import csv_export
from optdesk.views import downloads
from optdesk.views.common import Status, button, esc, store_path
from optdesk.views.selection import set_selection

ORIGIN = "02-opted-out-contacts"
INVITATIONS_NOTEBOOK = "03-opt-in-invitations.ipynb"
CHOOSE_LIST = "choose a list…"  # the list box's first entry: no list until one is chosen


class SelectionActions:
    """The buttons under the opted-out list. ``view`` is the OptedOutView they act for."""

    def __init__(self, view, *, selection_path=None, export_dir=None,
                 background: bool = False) -> None:
        self.view = view
        self.selection_path = selection_path
        self.export_dir = pathlib.Path(export_dir) if export_dir else None
        self.last_export: pathlib.Path | None = None
        self.background = background  # export in a thread: the page stays live meanwhile
        self._exporting = threading.Event()
        self._export_thread: threading.Thread | None = None
        self.status = Status()  # feedback next to the buttons it answers
        g = self.status.guard
        self.select_page_button = button("Select page", icon="check-square")
        self.select_all_button = button("Select all matching", icon="check-double")
        self.clear_button = button("Clear selection", icon="square")
        self.export_button = button("Export selection to CSV", icon="download")
        self.invite_button = button("Send to the invitation notebook", "info", "envelope")
        self.remove_list = w.Dropdown(description="From list", layout=w.Layout(width="420px"),
                                      style={"description_width": "80px"})
        self.remove_button = button("Remove from list…", "warning", "minus-circle")
        self.confirm_text = w.HTML("")
        self.confirm_button = button("Confirm removal", "danger", "check")
        self.cancel_button = button("Cancel")
        self.confirm_box = w.VBox([self.confirm_text, w.HBox([self.confirm_button,
                                                              self.cancel_button])],
                                  layout=w.Layout(display="none", border="1px solid #b42318",
                                                  padding="6px"))
        self.download = w.HTML("")
        self.select_page_button.on_click(g(lambda _b: view.select(view.page_ids)))
        self.select_all_button.on_click(g(lambda _b: view.select_all_matching()))
        self.clear_button.on_click(g(lambda _b: view.clear_selection()))
        self.export_button.on_click(g(self.export_csv))
        self.invite_button.on_click(g(self.send_to_invitations))
        self.remove_button.on_click(g(self.ask_remove))
        self.confirm_button.on_click(g(self.confirm_remove))
        self.cancel_button.on_click(g(self.cancel_remove))
        self.widget = w.VBox([
            w.HBox([self.select_page_button, self.select_all_button, self.clear_button]),
            w.HBox([self.export_button, self.invite_button]),
            w.HBox([self.remove_list, self.remove_button]),
            self.status.widget, self.confirm_box, self.download,
        ])
        self.load_lists()

    def load_lists(self) -> None:
        """The lists to remove from: the ones the filters loaded last (no second query)."""
        lists = self.view.filters.list_frame
        keep = self.remove_list.value
        self.remove_list.options = [(CHOOSE_LIST, None)] + [
            (str(r["name"]), int(r["list_id"])) for r in lists.iter_rows(named=True)]
        if keep is not None and keep in lists["list_id"].to_list():
            self.remove_list.value = keep
        else:
            self.remove_list.index = 0  # "choose a list…"

    def enable(self, on: bool) -> None:
        for b in (self.clear_button, self.export_button, self.invite_button, self.remove_button):
            b.disabled = not on
        if self.exporting:
            self.export_button.disabled = True
        if not on:
            self.confirm_box.layout.display = "none"

    # -- export ------------------------------------------------------------------------------
    def _place(self) -> downloads.Place:
        """Where exports go and how they download (``downloads.export_place``): the folder
        given, else notebooks/exports/ under `optdesk desk`/`lab`, else exports/ beside the
        notebook in another Jupyter server, else exports/ beside the store."""
        beside_store = store_path(str(self.view.store.path)).resolve().parent / "exports"
        return downloads.export_place(beside_store, self.export_dir)

    @property
    def exporting(self) -> bool:
        return self._exporting.is_set()

    def export_csv(self, _button=None) -> pathlib.Path | None:
        """Write the selected contacts to a CSV file and offer it for download.

        Says "Exporting N contacts…" with the button disabled until the link shows; with
        ``background`` the file is written in a thread (the page stays live) and None is
        returned, else the file's path.
        """
        view = self.view
        if self.exporting:
            self.status.info("An export is running; its link shows here when it is written.")
            return None
        if not view.selected:
            self.status.info("Select contacts first.")
            return None
        ids, group = sorted(view.selected), view.data_group
        self._exporting.set()
        self.export_button.disabled = True
        self.status.clear()
        self.download.value = (f"<span class='optdesk-muted optdesk-exporting'>Exporting "
                               f"{len(ids):,} contacts…</span>")
        if not self.background:
            return self._export(ids, group)
        self._export_thread = threading.Thread(target=self.status.guard(self._export),
                                               args=(ids, group), daemon=True,
                                               name="optdesk-export")
        self._export_thread.start()
        return None

    def _export(self, ids: list[int], group: str) -> pathlib.Path:
        try:
            path = self._write_export(ids, group)
        except BaseException:
            self.download.value = ""
            raise
        finally:
            self._exporting.clear()
            self.export_button.disabled = not self.view.selected
        return path

    def _write_export(self, ids: list[int], group: str) -> pathlib.Path:
        started = time.monotonic()
        frame = self.view.store.opted_out_export(group, ids)
        place = self._place()
        place.folder.mkdir(parents=True, exist_ok=True)
        path = place.folder / export_name(group)
        csv_export.write_csv(frame, path, bom=True)  # formula cells neutralised
        self.last_export = path
        href = place.href(path)
        size = path.stat().st_size
        link = (f" <a download='{esc(path.name)}' href='{esc(href)}' class='optdesk-download'"
                f" style='text-decoration:underline;font-weight:600'>Download {esc(path.name)}"
                f" ({_size(size)})</a>") if href else (
                f" <span class='optdesk-err optdesk-unserved'>{esc(place.unserved_message(path))}"
                "</span>")
        took = time.monotonic() - started
        self.download.value = (f"<span class='optdesk-ok'>{frame.height:,} contacts exported "
                               "(email and every address; times ISO 8601 in UTC).</span>"
                               f"{link} <span class='optdesk-muted optdesk-took'>written in "
                               f"{took:.1f} s</span>")
        return path

    # -- hand-off to notebook 03 ------------------------------------------------------------------
    def send_to_invitations(self, _button=None) -> None:
        view = self.view
        if not view.selected:
            self.status.info("Select contacts first.")
            return
        sel = set_selection(view.data_group, sorted(view.selected), origin=ORIGIN,
                            path=self.selection_path)
        self.status.ok(f"{len(sel):,} contacts are selected for opt-in invitations: open "
                       f"{INVITATIONS_NOTEBOOK} to write and send them.")

    # -- removal from a media list -------------------------------------------------------------
    def ask_remove(self, _button=None) -> None:
        view = self.view
        if not view.selected or self.remove_list.value is None:
            self.status.info("Select contacts and a list first.")
            return
        self.confirm_text.value = (
            f"Remove {len(view.selected):,} selected contacts from the list "
            f"<b>{esc(self.remove_list.label)}</b>? They stay opted out; this only edits the list.")
        self.confirm_box.layout.display = ""

    def cancel_remove(self, _button=None) -> None:
        self.confirm_box.layout.display = "none"

    def confirm_remove(self, _button=None) -> int:
        view = self.view
        name = self.remove_list.label
        removed = view.store.remove_from_list(self.remove_list.value, sorted(view.selected),
                                              view.data_group, actor=view.actor)
        self.confirm_box.layout.display = "none"
        asked = len(view.selected)
        view.selected.clear()  # they are off the list now; nothing stays ticked by mistake
        view.filters.load_choices()
        self.load_lists()
        view.refresh()
        self.status.ok(f"Removed {removed:,} of {asked:,} selected contacts from {name} (the "
                       "others were not on it); the selection is cleared. A removal can be "
                       "undone from the contact's record for the grace period.")
        return removed


def export_name(data_group: str, now: dt.datetime | None = None) -> str:
    """``opted-out-<group>-2026-12-02-134100-UTC.csv``: what, whose, when (sorts by time)."""
    now = now or dt.datetime.now(dt.UTC)
    return f"opted-out-{_safe(data_group)}-{now:%Y-%m-%d-%H%M%S}-UTC.csv"


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3)):,} kB"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40] or "group"
