"""Actions of notebook 02 on the selected contacts: CSV export, hand-off to the invitations
notebook (03), removal from a media list (after confirmation)."""

from __future__ import annotations

import base64
import datetime as dt
import os
import pathlib
import urllib.parse

import ipywidgets as w

from optdesk import csv_export
from optdesk.views.common import Status, button, esc, store_path
from optdesk.views.selection import set_selection

ORIGIN = "02-opted-out-contacts"
INVITATIONS_NOTEBOOK = "03-opt-in-invitations.ipynb"
DATA_URL_LIMIT = 5_000_000  # bytes inlined as a data: link when no file server is known


class SelectionActions:
    """The buttons under the opted-out list. ``view`` is the OptedOutView they act for."""

    def __init__(self, view, *, selection_path=None, export_dir=None) -> None:
        self.view = view
        self.selection_path = selection_path
        self.export_dir = pathlib.Path(export_dir) if export_dir else None
        self.last_export: pathlib.Path | None = None
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
        self.remove_list.options = [(str(r["name"]), int(r["list_id"]))
                                    for r in lists.iter_rows(named=True)]
        if keep is not None and keep in lists["list_id"].to_list():
            self.remove_list.value = keep

    def enable(self, on: bool) -> None:
        for b in (self.clear_button, self.export_button, self.invite_button, self.remove_button):
            b.disabled = not on
        if not on:
            self.confirm_box.layout.display = "none"

    # -- export ------------------------------------------------------------------------------
    def _export_dir(self) -> pathlib.Path:
        """Where exports go: the folder given, else $OPTDESK_EXPORT_DIR (notebooks/exports/ under
        `optdesk desk` and `optdesk lab`, which serve it), else exports/ beside the store."""
        if self.export_dir is not None:
            return self.export_dir
        if os.environ.get("OPTDESK_EXPORT_DIR"):
            return pathlib.Path(os.environ["OPTDESK_EXPORT_DIR"])
        return store_path(str(self.view.store.path)).resolve().parent / "exports"

    def export_csv(self, _button=None) -> pathlib.Path | None:
        """Write the selected contacts to a CSV file and offer it for download."""
        view = self.view
        if not view.selected:
            self.status.info("Select contacts first.")
            return None
        frame = view.store.opted_out_export(view.data_group, sorted(view.selected))
        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        folder = self._export_dir()
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"opted-out-{_safe(view.data_group)}-{stamp}.csv"
        csv_export.write_csv(frame, path)  # formula cells neutralised
        self.last_export = path
        href = download_href(path)
        size = path.stat().st_size
        link = (f" <a download='{esc(path.name)}' href='{esc(href)}' class='optdesk-download'"
                f" style='text-decoration:underline;font-weight:600'>Download {esc(path.name)}"
                f" ({_size(size)})</a>") if href else (
                f" <code>{esc(path)}</code>")
        self.download.value = (f"<span class='optdesk-ok'>{frame.height:,} contacts exported "
                               f"(addresses, times in UTC).</span>{link}")
        self.status.clear()
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


def download_href(path: pathlib.Path) -> str | None:
    """A link the browser can download ``path`` from: through the Jupyter (or Voilà) file server
    when $OPTDESK_FILES_URL is set and the file lies under $OPTDESK_EXPORT_DIR's parent (the
    served root), else a data: URL up to DATA_URL_LIMIT bytes; None when neither applies."""
    base, root = os.environ.get("OPTDESK_FILES_URL"), os.environ.get("OPTDESK_EXPORT_DIR")
    if base and root:
        try:
            relative = path.resolve().relative_to(pathlib.Path(root).resolve().parent)
        except ValueError:
            relative = None
        if relative is not None:
            return base + "/".join(urllib.parse.quote(p) for p in relative.parts)
    if path.stat().st_size <= DATA_URL_LIMIT:
        return "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
    return None


def _size(n: int) -> str:
    return f"{n / 1e6:,.1f} MB" if n >= 1e6 else f"{max(1, round(n / 1e3)):,} kB"


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in name)[:40] or "group"
