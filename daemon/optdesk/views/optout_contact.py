"""Notebook 01: find a contact by name, see the record, opt them out (or ask them back in).

    from optdesk.views.optout_contact import OptOutContactView
    view = OptOutContactView.from_settings()
    view.widget
"""

from __future__ import annotations

import ipywidgets as w

from optdesk.views import render
from optdesk.views.common import STYLE, Debouncer, Status, View, button, default_actor, esc
from optdesk.views.selection import set_selection

ORIGIN = "01-opt-out-a-contact"
INVITATIONS_NOTEBOOK = "03-opt-in-invitations.ipynb"


class OptOutContactView(View):
    """Search box → matching contacts → the chosen contact's record, with the opt-out action."""

    def __init__(self, store, data_group: str, *, actor: str | None = None,
                 debounce: float = 0.08, limit: int = 20, selection_path=None) -> None:
        self.store = store
        self.actor = actor or default_actor()
        self.limit = limit
        self.selection_path = selection_path
        self.contact_id: int | None = None
        self.record: dict | None = None
        self._quiet = False
        self.status = Status()
        g = self.status.guard
        groups = store.data_groups()
        self.group = w.Dropdown(options=sorted({*groups, data_group}), value=data_group,
                                description="Data group")
        self.search = w.Text(placeholder="Type part of a name, e.g. 'dup' or 'amé mar'",
                             description="Contact", continuous_update=True,
                             layout=w.Layout(width="420px"))
        self.hint = w.HTML("<span class='optdesk-muted'>Type to search by name.</span>")
        self.results = w.Select(options=[], rows=8, layout=w.Layout(width="640px"))
        self.record_html = w.HTML("")
        self.optout_button = button("Opt out from email", "danger", "ban")
        self.optin_button = button("Request to opt back in", "info", "envelope")
        self.reason = w.Text(placeholder="optional, e.g. 'asked by phone'", description="Reason",
                             layout=w.Layout(width="420px"))
        self.confirm_button = button("Confirm opt-out", "danger", "check")
        self.cancel_button = button("Cancel")
        self.confirm_text = w.HTML("")
        self.confirm_box = w.VBox(
            [self.confirm_text, self.reason, w.HBox([self.confirm_button, self.cancel_button])],
            layout=w.Layout(display="none", border="1px solid #b42318", padding="6px"),
        )
        self.actions = w.HBox([self.optout_button, self.optin_button],
                              layout=w.Layout(display="none"))
        self._debouncer = Debouncer(g(self.refresh_results), debounce)
        self._connect(g)
        self.widget = w.VBox([
            w.HTML(STYLE + f"<span class='optdesk-muted'>Acting as <b>{esc(self.actor)}</b>"
                   "</span>"),
            w.HBox([self.group, self.search]), self.hint, self.results, self.status.widget,
            self.actions, self.confirm_box, self.record_html,
        ])

    def _connect(self, g) -> None:
        """Wire the widgets' events to the handlers, each wrapped by the status guard ``g``."""
        self.search.observe(self._debouncer.trigger, names="value")
        self.results.observe(g(self._on_pick), names="value")
        self.group.observe(g(self._on_group), names="value")
        self.optout_button.on_click(g(self.ask_opt_out))
        self.confirm_button.on_click(g(self.confirm_opt_out))
        self.cancel_button.on_click(g(self.cancel_opt_out))
        self.optin_button.on_click(g(self.request_opt_in))

    # -- search ----------------------------------------------------------------------------
    def refresh_results(self) -> None:
        """Run the search for the text typed so far and list the matches."""
        text = self.search.value
        found = self.store.find_contacts(text, self.data_group, self.limit) if text.strip() else None
        options = [] if found is None else [
            (render.contact_label(r), int(r["contact_id"])) for r in found.iter_rows(named=True)
        ]
        self._quiet = True
        try:
            self.results.index = None
            self.results.options = options
            if self.contact_id is not None and any(v == self.contact_id for _, v in options):
                self.results.value = self.contact_id  # keep the shown contact highlighted
        finally:
            self._quiet = False
        if found is None:
            self.hint.value = "<span class='optdesk-muted'>Type to search by name.</span>"
        elif not options:
            self.hint.value = f"<span class='optdesk-muted'>No contact matches “{esc(text)}”.</span>"
        else:
            more = " (the first ones, biggest reach first)" if len(options) >= self.limit else ""
            self.hint.value = (f"<span class='optdesk-muted'>{len(options)} contacts{more}; "
                               "click one to see the record.</span>")

    def _on_pick(self, change) -> None:
        if self._quiet or change["new"] is None:
            return
        self.show_contact(int(change["new"]))

    def _on_group(self, _change) -> None:
        self.refresh_results()
        if self.contact_id is not None:
            self.show_contact(self.contact_id)

    # -- the record --------------------------------------------------------------------------
    def show_contact(self, contact_id: int) -> None:
        """Show one contact's record and the action that fits its state."""
        self.status.clear()
        self.confirm_box.layout.display = "none"
        self.record = self.store.contact(contact_id, self.data_group)
        self.contact_id = int(contact_id)
        self.record_html.value = render.contact_record(self.record, self.data_group)
        opted_out = self.record["optout"] is not None
        self.optout_button.layout.display = "none" if opted_out else ""
        self.optin_button.layout.display = "" if opted_out else "none"
        self.actions.layout.display = ""

    @property
    def is_opted_out(self) -> bool:
        return self.record is not None and self.record["optout"] is not None

    def ask_opt_out(self, _button=None) -> None:
        """Ask for confirmation (and an optional reason) before opting out."""
        if self.record is None:
            return
        name = self.record["contact"]["name"]
        n = self.record["addresses"].height
        self.confirm_text.value = (
            f"Opt <b>{esc(name)}</b> out of all email from <b>{esc(self.data_group)}</b>? "
            f"This covers all {n} of the contact's addresses (system and private).")
        self.reason.value = ""
        self.confirm_box.layout.display = ""

    def cancel_opt_out(self, _button=None) -> None:
        self.confirm_box.layout.display = "none"

    def confirm_opt_out(self, _button=None) -> None:
        """Apply the manual opt-out and update the record in place."""
        if self.contact_id is None:
            return
        contact_id = self.contact_id
        changed = self.store.opt_out(
            contact_id, self.data_group, source="manual", actor=self.actor,
            reason=self.reason.value.strip() or None,
        )
        self.show_contact(contact_id)
        name = self.record["contact"]["name"]
        if changed:
            self.status.ok(f"{name} is opted out of {self.data_group}.")
        else:
            self.status.info(f"{name} was already opted out of {self.data_group}; nothing changed.")
        self._relabel(contact_id)

    def _relabel(self, contact_id: int) -> None:
        """Mark the contact's line in the results as the record now shows it (no new search)."""
        c = self.record["contact"]
        label = render.contact_label({**c, "opted_out": self.is_opted_out})
        options = [(label if v == contact_id else text, v) for text, v in self.results.options]
        self._quiet = True
        try:
            self.results.index = None
            self.results.options = options
            if any(v == contact_id for _, v in options):
                self.results.value = contact_id
        finally:
            self._quiet = False

    def request_opt_in(self, _button=None) -> None:
        """Hand this contact to the invitations notebook (03)."""
        if self.contact_id is None:
            return
        set_selection(self.data_group, [self.contact_id], origin=ORIGIN, path=self.selection_path)
        name = self.record["contact"]["name"] if self.record else self.contact_id
        self.status.ok(f"{name} is selected for an opt-in invitation: open {INVITATIONS_NOTEBOOK} "
                       "to write and send it.")
