"""One contact's record with its actions: opt out (confirmed, with a reason), undo an analyst's
manual opt-out within the grace period, hand over to the invitations notebook.

Used by notebook 01 under the search, and by 02 and 05 where clicking a contact opens it in place.
Feedback shows right under the buttons it answers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ipywidgets as w

from optdesk.store.undo import DEFAULT_GRACE
from optdesk.views import render
from optdesk.views.common import button, esc
from optdesk.views.record_panel import RecordPanel
from optdesk.views.selection import set_selection

INVITATIONS_NOTEBOOK = "03-opt-in-invitations.ipynb"
NEVER_INVITED = "complaint"  # a spam complaint: the contact is never invited back


class ContactPanel(RecordPanel):
    """The record of ``contact_id`` in the data group ``group()``; ``on_change(contact_id)`` is
    called after an action changed the contact's state."""

    def __init__(self, store, group: Callable[[], str], *, actor: str, origin: str,
                 grace: dt.timedelta = DEFAULT_GRACE, selection_path=None,
                 on_change: Callable[[int], None] | None = None) -> None:
        super().__init__(store, group, actor=actor, grace=grace, on_change=on_change)
        self.origin = origin
        self.selection_path = selection_path
        self.contact_id: int | None = None
        g = self.status.guard
        self.optout_button = button("Opt out from email", "danger", "ban")
        self.optin_button = button("Request to opt back in", "info", "envelope")
        self.undo_button = button("Undo this opt-out…", "warning", "undo")
        self.reason = w.Text(placeholder="optional, e.g. 'asked by phone'", description="Reason",
                             layout=w.Layout(width="420px"))
        self.confirm_box = self.confirm_parts(self.reason)
        self.restore_list = w.Dropdown(description="Put back on", layout=w.Layout(width="420px"))
        self.restore_reason = w.Text(placeholder="required, e.g. 'removed from the wrong list'",
                                     description="Why", layout=w.Layout(width="420px"))
        self.restore_button = button("Undo the removal", "warning", "undo")
        self.restore_box = w.VBox(
            [w.HTML("<span class='optdesk-muted'>Removed from a list recently; undo:</span>"),
             w.HBox([self.restore_list, self.restore_reason, self.restore_button])],
            layout=w.Layout(display="none"))
        self.restore_button.on_click(g(self.undo_removal))
        self.actions = w.HBox([self.optout_button, self.optin_button, self.undo_button, self.note],
                              layout=w.Layout(display="none", align_items="center"))
        self.optout_button.on_click(g(self.ask_opt_out))
        self.optin_button.on_click(g(self.request_opt_in))
        self.undo_button.on_click(g(self.ask_undo))
        self.widget = w.VBox([self.actions, self.status.widget, self.confirm_box, self.undo_box,
                              self.restore_box, self.record_html])

    def show(self, contact_id: int, *, keep_status: bool = False) -> None:
        """Show one contact's record and the actions that fit its state."""
        if not keep_status:
            self.status.clear()
        self._hide_boxes()
        self.record = self.store.contact(contact_id, self.data_group)
        self.contact_id = int(contact_id)
        self.record_html.value = render.contact_record(self.record, self.data_group)
        optout = self.record["optout"]
        complaint = optout is not None and optout["source"] == NEVER_INVITED
        undoable, why = (self.store.undoable_opt_out(contact_id, self.data_group, grace=self.grace)
                         if optout is not None else (False, ""))
        self.optout_button.layout.display = "none" if optout else ""
        self.optin_button.layout.display = "" if optout and not complaint else "none"
        self.undo_button.layout.display = "" if undoable else "none"
        if complaint:
            self.note.value = ("<span class='optdesk-muted'>A spam complaint: this contact can "
                               "never be invited to opt back in.</span>")
        elif undoable:
            self.note.value = f"<span class='optdesk-muted'>Manual opt-out: {esc(why)}.</span>"
        else:
            self.note.value = ""
        removals = self.store.list_removals(self.data_group, [contact_id], grace=self.grace)
        self.restore_list.options = [
            (f"{r['list']} (removed {r['occurred_at']:%Y-%m-%d %H:%M} UTC by {r['actor']})",
             int(r["event_id"])) for r in removals.iter_rows(named=True)]
        self.restore_list.value = self.restore_list.options[0][1] if removals.height else None
        self.restore_box.layout.display = "" if removals.height else "none"
        self.actions.layout.display = ""

    def undo_removal(self, _button=None) -> None:
        """Put the contact back on the chosen list (within the grace period)."""
        if self.contact_id is None or self.restore_list.value is None:
            return
        name = self.restore_list.label.split(" (removed ")[0]
        self.store.undo_list_removal(self.restore_list.value, actor=self.actor,
                                     reason=self.restore_reason.value, grace=self.grace)
        self.restore_reason.value = ""
        self.show(self.contact_id)
        self.status.ok(f"{self.record['contact']['name']} is back on {name}.")
        self.on_change(self.contact_id)

    def clear(self) -> None:
        self.contact_id, self.record = None, None
        self.record_html.value = ""
        self.actions.layout.display = "none"
        self._hide_boxes()
        self.status.clear()

    # -- opt out ---------------------------------------------------------------------------
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
        self.undo_box.layout.display = "none"
        self.confirm_box.layout.display = ""

    def confirm_opt_out(self, _button=None) -> None:
        """Apply the manual opt-out and update the record in place."""
        if self.contact_id is None:
            return
        contact_id = self.contact_id
        changed = self.store.opt_out(contact_id, self.data_group, source="manual",
                                     actor=self.actor, reason=self.reason.value.strip() or None)
        self.show(contact_id)
        name = self.record["contact"]["name"]
        if changed:
            self.status.ok(f"{name} is opted out of {self.data_group}.")
        else:
            self.status.info(f"{name} was already opted out of {self.data_group}; nothing changed.")
        self.on_change(contact_id)

    # -- undo ------------------------------------------------------------------------------
    def ask_undo(self, _button=None) -> None:
        if self.record is None or self.record["optout"] is None:
            return
        o = self.record["optout"]
        self._show_undo(
            f"Undo the manual opt-out of <b>{esc(self.record['contact']['name'])}</b> made by "
            f"{esc(o['actor'])} ({esc(o['reason'])})? The contact can be mailed again; the undo "
            "is recorded with your name and reason.")

    def confirm_undo(self, _button=None) -> None:
        if self.contact_id is None:
            return
        contact_id = self.contact_id
        self.store.undo_opt_out(contact_id, self.data_group, actor=self.actor,
                                reason=self.undo_reason.value, grace=self.grace)
        self.show(contact_id)
        self.status.ok(f"The opt-out of {self.record['contact']['name']} is undone; the contact "
                       f"can be mailed from {self.data_group} again.")
        self.on_change(contact_id)

    # -- hand-over to 03 -------------------------------------------------------------------
    def request_opt_in(self, _button=None) -> None:
        """Hand this contact to the invitations notebook (03)."""
        if self.contact_id is None:
            return
        set_selection(self.data_group, [self.contact_id], origin=self.origin,
                      path=self.selection_path)
        name = self.record["contact"]["name"] if self.record else self.contact_id
        self.status.ok(f"{name} is selected for an opt-in invitation: open {INVITATIONS_NOTEBOOK} "
                       "to write and send it.")
