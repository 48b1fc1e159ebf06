"""The import of a sending tool's export in notebook 06 (the app's way to ``optdesk import
engagement``): a file, its preset, the distribution's name; the counts the store returns."""

from __future__ import annotations

import pathlib
import tempfile
from collections.abc import Callable

import ipywidgets as w

from optdesk.engagement.presets import preset, presets
from optdesk.views.common import Status, button, default_actor, esc, uploaded

SUFFIXES = (".csv", ".xlsx")


class EngagementImport:
    """``on_done(distribution)`` is called after an import (to show that distribution)."""

    def __init__(self, store, group: Callable[[], str], on_done: Callable[[str], None]) -> None:
        self.store = store
        self.group = group
        self.on_done = on_done
        self.status = Status()
        self.upload = w.FileUpload(accept=",".join(SUFFIXES), multiple=False,
                                   description="Export file")
        self.preset = w.Dropdown(options=list(presets()), value="generic", description="Preset")
        self.name = w.Text(placeholder="e.g. launch-2026-03", description="Distribution")
        self.import_button = button("Import engagement", "primary", "upload")
        self.import_button.on_click(self.status.guard(lambda _b: self.run()))
        self.widget = w.VBox([w.HBox([self.upload, self.preset, self.name, self.import_button]),
                              self.status.widget])

    def run(self) -> dict | None:
        chosen = uploaded(self.upload)
        if chosen is None:
            self.status.error("Choose the export file first (CSV or XLSX).")
            return None
        filename, content = chosen
        suffix = pathlib.Path(filename).suffix.lower()
        if suffix not in SUFFIXES:
            self.status.error(f"{filename}: not a CSV or XLSX file.")
            return None
        distribution = self.name.value.strip() or pathlib.Path(filename).stem
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / f"export{suffix}"
            path.write_bytes(content)
            counts = self.store.import_engagement(
                path, self.group(), distribution, preset(self.preset.value),
                actor=f"{default_actor()} (engagement import)")
        self.show(filename, distribution, counts)
        self.on_done(distribution)
        return counts

    def show(self, filename: str, distribution: str, counts: dict) -> None:
        kinds = ", ".join(f"{n:,} {k}" for k, n in counts["events"].items()) or "no events"
        new = counts["opt_outs"]
        self.status.widget.value = (
            f"<span class='optdesk-ok'>{esc(filename)}: {counts['rows']:,} rows imported into "
            f"{esc(distribution)} ({esc(kinds)}).</span> <span class='optdesk-muted'>"
            f"{counts['prefetch']:,} opens by a privacy proxy not counted; {counts['unknown']:,} "
            f"addresses are no contact's or outlet's; unsubscribes and complaints opted out "
            f"{new['contacts']:,} contacts, {new['outlets']:,} outlets and {new['addresses']:,} "
            "addresses.</span>")
