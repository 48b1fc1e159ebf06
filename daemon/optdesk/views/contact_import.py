"""Notebook 07, the app's way to ``optdesk import contacts``: the team's own export (CSV, XLSX or
Parquet), its preset and extra column mappings; **Preview** says what would change (the dry
run: new, updated, unchanged and refused contacts, per column) before **Import** writes it.

Import is offered only for the file, preset, mapping and data group just previewed, and only
when the preview refused nothing (the import is all or nothing, as on the command line)."""

from __future__ import annotations

import pathlib
import tempfile

import ipywidgets as w

from optdesk.contact_exports.mapping import presets
from optdesk.errors import OptdeskError
from optdesk.store.import_preview import describe
from optdesk.views.common import STYLE, Status, View, button, esc, uploaded

SUFFIXES = (".csv", ".xlsx", ".parquet")


def mapping_pairs(text: str) -> list[str]:
    """``COLUMN=FIELD`` pairs typed one per line (a column name may hold commas)."""
    return [line.strip() for line in text.splitlines() if line.strip()]


class ContactImportView(View):
    """Choose a file, preview, import; the lines under the buttons say what happened."""

    def __init__(self, store, data_group: str, **_ignored) -> None:
        self.store = store
        self.status = Status()
        g = self.status.guard
        groups = sorted({*store.data_groups(), data_group})
        self.group = w.Dropdown(options=groups, value=data_group, description="Data group")
        self.upload = w.FileUpload(accept=",".join(SUFFIXES), multiple=False,
                                   description="Export file")
        choices = presets()
        self.preset = w.Dropdown(options=[(f"{name} — {m.description}"[:90], name)
                                          for name, m in choices.items()],
                                 value="generic", description="Preset",
                                 layout=w.Layout(width="520px"))
        self.mapping = w.Textarea(placeholder="COLUMN=FIELD, one per line (optional)",
                                  description="Columns", rows=5, layout=w.Layout(width="520px"))
        self.preview_button = button("Preview", "info", "search")
        self.import_button = button("Import", "primary", "upload")
        self.import_button.disabled = True
        self.report = w.HTML("")
        self.previewed: tuple | None = None
        self.preview_button.on_click(g(lambda _b: self.preview()))
        self.import_button.on_click(g(lambda _b: self.run()))
        for control in (self.group, self.upload, self.preset, self.mapping):
            control.observe(lambda _c: self._changed(), names="value")
        self.widget = w.VBox([
            w.HTML(STYLE), w.HBox([self.group, self.upload]), self.preset, self.mapping,
            w.HBox([self.preview_button, self.import_button]), self.status.widget, self.report])

    # -- what is chosen ---------------------------------------------------------------------
    def chosen(self) -> tuple[str, bytes] | None:
        return uploaded(self.upload)

    def _key(self, chosen: tuple[str, bytes]) -> tuple:
        return (chosen[0], hash(chosen[1]), self.preset.value, self.mapping.value,
                self.group.value)

    def _changed(self) -> None:
        """Anything changed since the preview: preview again before importing."""
        self.previewed = None
        self.import_button.disabled = True

    def _counts(self, dry_run: bool) -> tuple[str, dict] | None:
        chosen = self.chosen()
        if chosen is None:
            self.status.error("Choose the export file first (CSV, XLSX or Parquet).")
            return None
        filename, content = chosen
        suffix = pathlib.Path(filename).suffix.lower()
        if suffix not in SUFFIXES:
            self.status.error(f"{filename}: not a CSV, XLSX or Parquet file.")
            return None
        with tempfile.TemporaryDirectory() as tmp:
            path = pathlib.Path(tmp) / pathlib.Path(filename).name
            path.write_bytes(content)
            try:
                counts = self.store.import_contacts(
                    path, self.group.value, preset=self.preset.value,
                    mapping=mapping_pairs(self.mapping.value), dry_run=dry_run)
            except OptdeskError as exc:  # named by the analyst's file, not the copy's path
                raise type(exc)(str(exc).replace(str(path), filename)) from None
        if dry_run:
            counts["problems"] = [p.replace(str(path), filename) for p in counts["problems"]]
        return filename, counts

    # -- the two steps ----------------------------------------------------------------------
    def preview(self) -> dict | None:
        self._changed()
        self.report.value = ""
        found = self._counts(dry_run=True)
        if found is None:
            return None
        filename, counts = found
        lines = describe(counts, self.group.value)
        self.report.value = "<div class='optdesk-muted'>" + "<br>".join(
            esc(line) for line in lines[1:]) + "</div>"
        if counts["refused_contacts"]:
            self.status.error(f"{filename}: {lines[0]}")
            return counts
        self.previewed = self._key(self.chosen())
        self.import_button.disabled = False
        self.status.info(f"{filename}: {lines[0]}. Import writes it.")
        return counts

    def run(self) -> dict | None:
        chosen = self.chosen()
        if chosen is None or self.previewed != self._key(chosen):
            self._changed()
            self.status.error("Preview this file first: Import writes what the preview showed.")
            return None
        found = self._counts(dry_run=False)
        if found is None:
            return None
        filename, counts = found
        self._changed()
        self.report.value = ""
        self.status.ok(f"{filename}: imported {counts['rows']:,} rows: {counts['contacts']:,} "
                       f"contacts ({counts['new_contacts']:,} new) into data group "
                       f"{self.group.value}.")
        return counts
