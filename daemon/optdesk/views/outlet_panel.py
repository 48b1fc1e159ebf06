"""One outlet's record with its actions (notebook 01, when the type-ahead picks an outlet): its
own addresses, its contacts and their opt-out state, its history; opt it out (with or without
its contacts, a reason, in one confirmation) and undo an analyst's manual outlet opt-out within
the grace period.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ipywidgets as w

from optdesk.store.undo import DEFAULT_GRACE
from optdesk.views import render
from optdesk.views.common import button, esc
from optdesk.views.record_panel import RecordPanel


def _own(n: int) -> str:
    return {0: "no address (it has none of its own)", 1: "its own address"}.get(
        n, f"its {n} own addresses")


class OutletPanel(RecordPanel):
    """The record of ``outlet_id`` in the data group ``group()``; ``on_change(outlet_id)`` is
    called after an action changed the outlet's state."""

    CONFIRM = "Confirm outlet opt-out"
    UNDO_CONFIRM = "Confirm outlet undo"
    UNDO_PLACEHOLDER = "required, e.g. 'meant another outlet'"

    def __init__(self, store, group: Callable[[], str], *, actor: str,
                 grace: dt.timedelta = DEFAULT_GRACE,
                 on_change: Callable[[int], None] | None = None) -> None:
        super().__init__(store, group, actor=actor, grace=grace, on_change=on_change)
        self.outlet_id: int | None = None
        g = self.status.guard
        self.optout_button = button("Opt out this outlet", "danger", "ban")
        self.undo_button = button("Undo this outlet opt-out…", "warning", "undo")
        self.with_contacts = w.Checkbox(value=False, indent=False,
                                        description="also opt out every contact at it")
        self.reason = w.Text(placeholder="e.g. 'asked by the editor' (optional)",
                             description="Reason", layout=w.Layout(width="420px"))
        self.confirm_box = self.confirm_parts(self.with_contacts, self.reason)
        self.actions = w.HBox([self.optout_button, self.undo_button, self.note],
                              layout=w.Layout(display="none", align_items="center"))
        self.optout_button.on_click(g(self.ask_opt_out))
        self.undo_button.on_click(g(self.ask_undo))
        self.widget = w.VBox([self.actions, self.status.widget, self.confirm_box, self.undo_box,
                              self.record_html], layout=w.Layout(display="none"))

    def show(self, outlet_id: int, *, keep_status: bool = False) -> None:
        if not keep_status:
            self.status.clear()
        self._hide_boxes()
        self.record = self.store.outlet(outlet_id, self.data_group)
        self.outlet_id = int(outlet_id)
        self.record_html.value = render.outlet_record(self.record, self.data_group)
        optout = self.record["optout"]
        undoable, why = (self.store.undoable_outlet_opt_out(outlet_id, self.data_group,
                                                            grace=self.grace)
                         if optout is not None else (False, ""))
        self.optout_button.layout.display = "none" if optout else ""
        self.undo_button.layout.display = "" if undoable else "none"
        self.note.value = (f"<span class='optdesk-muted'>Manual outlet opt-out: {esc(why)}."
                           "</span>" if undoable else "")
        self.actions.layout.display = ""
        self.widget.layout.display = ""

    def clear(self) -> None:
        self.outlet_id, self.record = None, None
        self.record_html.value = ""
        self.actions.layout.display = "none"
        self.widget.layout.display = "none"
        self._hide_boxes()
        self.status.clear()

    # -- opt out -------------------------------------------------------------------------
    def ask_opt_out(self, _button=None) -> None:
        """One confirmation: with or without its contacts, and a reason."""
        if self.record is None:
            return
        o = self.record["outlet"]
        contacts = self.record["contacts"]
        mailable = contacts.height - int(contacts["opted_out"].sum() or 0)
        self.confirm_text.value = (
            f"Opt the outlet <b>{esc(o['name'])}</b> out of all email from "
            f"<b>{esc(self.data_group)}</b>? This suppresses {_own(self.record['addresses'].height)}."
            " Tick the box to opt out its "
            f"{contacts.height} contacts too ({mailable} of them can be mailed now); each then "
            "gets its own opt-out, reason “outlet opt-out”.")
        self.with_contacts.value = False
        self.with_contacts.description = f"also opt out its {contacts.height} contacts"
        self.reason.value = ""
        self.undo_box.layout.display = "none"
        self.confirm_box.layout.display = ""

    def confirm_opt_out(self, _button=None) -> None:
        if self.outlet_id is None:
            return
        outlet_id, with_contacts = self.outlet_id, bool(self.with_contacts.value)
        result = self.store.opt_out_outlet(outlet_id, self.data_group, source="manual",
                                           actor=self.actor, with_contacts=with_contacts,
                                           reason=self.reason.value.strip() or None)
        self.show(outlet_id)
        name = self.record["outlet"]["name"]
        if result["changed"]:
            also = (f" with {result['contacts']} of its contacts (the others were opted out "
                    "already)" if with_contacts else "; its contacts are unchanged")
            self.status.ok(f"The outlet {name} is opted out of {self.data_group}{also}.")
        else:
            self.status.info(f"The outlet {name} was already opted out of {self.data_group}; "
                             "nothing changed.")
        self.on_change(outlet_id)

    # -- undo ----------------------------------------------------------------------------
    def ask_undo(self, _button=None) -> None:
        if self.record is None or self.record["optout"] is None:
            return
        o = self.record["optout"]
        also = (" and the opt-outs of its contacts made with it" if o["with_contacts"] else "")
        self._show_undo(
            f"Undo the manual opt-out of the outlet <b>{esc(self.record['outlet']['name'])}"
            f"</b>{also}, made by {esc(o['actor'])} ({esc(o['reason'])})? The undo is recorded "
            "with your name and reason.")

    def confirm_undo(self, _button=None) -> None:
        if self.outlet_id is None:
            return
        outlet_id = self.outlet_id
        done = self.store.undo_outlet_opt_out(outlet_id, self.data_group, actor=self.actor,
                                              reason=self.undo_reason.value, grace=self.grace)
        self.show(outlet_id)
        self.status.ok(f"The opt-out of the outlet {self.record['outlet']['name']} is undone "
                       f"({done['contacts']} contact opt-outs made with it lifted).")
        self.on_change(outlet_id)
