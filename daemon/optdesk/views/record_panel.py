"""What the record of a contact (contact_panel.py) and of an outlet (outlet_panel.py) share:
the store and data group, the feedback line, the opt-out confirmation and the undo box."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import ipywidgets as w

from optdesk.store.undo import DEFAULT_GRACE
from optdesk.views.common import Status, button


def red_box(*children) -> w.VBox:
    return w.VBox(list(children), layout=w.Layout(display="none", border="1px solid #b42318",
                                                  padding="6px"))


class RecordPanel:
    """Base of the record panels. Subclasses set the labels, build ``confirm_box`` from
    ``confirm_parts`` and define ``confirm_opt_out``, ``ask_undo`` and ``confirm_undo``."""

    CONFIRM = "Confirm opt-out"
    UNDO_CONFIRM = "Confirm undo"
    UNDO_PLACEHOLDER = "required, e.g. 'wrong Amélie Dupont'"

    def __init__(self, store, group: Callable[[], str], *, actor: str,
                 grace: dt.timedelta = DEFAULT_GRACE,
                 on_change: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.group = group
        self.actor = actor
        self.grace = grace
        self.on_change = on_change or (lambda _id: None)
        self.record: dict | None = None
        self.status = Status()
        g = self.status.guard
        self.note = w.HTML("")
        self.confirm_text = w.HTML("")
        self.confirm_button = button(self.CONFIRM, "danger", "check")
        self.cancel_button = button("Cancel")
        self.undo_text = w.HTML("")
        self.undo_reason = w.Text(placeholder=self.UNDO_PLACEHOLDER, description="Why undo",
                                  layout=w.Layout(width="420px"))
        self.undo_confirm_button = button(self.UNDO_CONFIRM, "warning", "check")
        self.undo_cancel_button = button("Cancel")
        self.undo_box = red_box(self.undo_text, self.undo_reason,
                                w.HBox([self.undo_confirm_button, self.undo_cancel_button]))
        self.record_html = w.HTML("")
        self.confirm_button.on_click(g(self.confirm_opt_out))
        self.cancel_button.on_click(g(lambda _b: self._hide_boxes()))
        self.undo_confirm_button.on_click(g(self.confirm_undo))
        self.undo_cancel_button.on_click(g(lambda _b: self._hide_boxes()))

    def confirm_parts(self, *middle: w.Widget) -> w.VBox:
        """The confirmation box: its text, ``middle`` (a reason, a choice), the buttons."""
        return red_box(self.confirm_text, *middle,
                       w.HBox([self.confirm_button, self.cancel_button]))

    @property
    def data_group(self) -> str:
        return self.group()

    @property
    def is_opted_out(self) -> bool:
        return self.record is not None and self.record["optout"] is not None

    def _hide_boxes(self) -> None:
        self.confirm_box.layout.display = "none"
        self.undo_box.layout.display = "none"

    def _show_undo(self, text: str) -> None:
        self.undo_text.value = text
        self.undo_reason.value = ""
        self.confirm_box.layout.display = "none"
        self.undo_box.layout.display = ""

    def confirm_opt_out(self, _button=None) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError

    def confirm_undo(self, _button=None) -> None:  # pragma: no cover - subclasses
        raise NotImplementedError
