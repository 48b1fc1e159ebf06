"""Notebook 05: the messages the daemon could not decide alone, one click to resolve each.

    from optdesk.views.review_queue import ReviewQueueView
    view = ReviewQueueView.from_settings()
    view.widget
"""

from __future__ import annotations

import ipywidgets as w

from optdesk.views import review_evidence as evidence
from optdesk.views.common import (
    STYLE,
    Status,
    View,
    button,
    default_actor,
    esc,
    fmt_int,
    fmt_when,
)
from optdesk.views.contact_panel import ContactPanel
from optdesk.views.render import table

ALL_GROUPS = ""
ORIGIN = "05-review-queue"
SHOWN = 500  # queue items listed at once (oldest first)
ACTION_LABELS = {"opt_out": "opt-out applied", "human": "human reply", "dismiss": "dismissed"}


def item_label(row: dict) -> str:
    """One line of the queue list (plain text: the Select widget shows it as text)."""
    when = row["received_at"] or row["processed_at"]
    stamp = when.strftime("%Y-%m-%d %H:%M") if when else "?"
    reason = row["review_reason"] or row["error"] or row["kind"] or ""
    decided = ""
    if row.get("review_state") == "resolved":
        label = ACTION_LABELS.get(row["resolution"], row["resolution"])
        decided = f" → {label} by {row['resolved_by']}" + (f": “{row['note']}”" if row.get("note")
                                                             else "")
    return (f"{stamp} · {row['sender'] or 'no sender'} · {row['subject'] or '(no subject)'} · "
            f"{reason}{decided}")


def record_target(row: dict | None) -> tuple[int, str] | None:
    """(contact id, data group) of the record an item can open; None for an unknown sender."""
    if row is None or row.get("contact_id") is None or not row.get("data_group"):
        return None
    return int(row["contact_id"]), str(row["data_group"])


def item_detail(row: dict) -> str:
    """The message as the analyst judges it: new text, evidence, sender and resolved contact."""
    if row["contact_id"] is not None:
        contact = (f"<b>{esc(row['contact_name'])}</b> (contact "
                   f"#{esc(row['contact_external_id'])}); an opt-out applies to all of the "
                   "contact's addresses")
    else:
        contact = ("<i>no contact has this address</i>; an opt-out suppresses the sender's "
                   "address only")
    facts = [
        ["sender", esc(row["sender"])], ["resolved to", contact],
        ["subject", esc(row["subject"])], ["received (UTC)", fmt_when(row["received_at"])],
        ["why in review", f"<b>{esc(row['review_reason'])}</b>"],
        ["classification", f"{esc(row['kind'])} · stage {esc(row['stage'])} · rule "
                           f"{esc(row['rule'])} · confidence {_confidence(row['confidence'])}"],
        ["data group", esc(row["data_group"])],
    ]
    if row["error"]:
        facts.append(["error", f"<span class='optdesk-err'>{esc(row['error'])}</span>"])
    if row["review_state"] == "resolved":
        facts.append(["resolved", f"{esc(ACTION_LABELS.get(row['resolution'], row['resolution']))}"
                                  f" by {esc(row['resolved_by'])}, {fmt_when(row['resolved_at'])}"])
        facts.append(["reviewer's note", esc(row.get("note"))])
    words = evidence.matched_words(evidence.parse(row["evidence"]))
    text = evidence.highlight(row["new_text"], words) or (
        "<span class='optdesk-muted'>none: a delivery notice carries no reply text</span>"
        if (row["kind"] or "").startswith("bounce") else "<span class='optdesk-muted'>none</span>")
    return (
        f"<div class='optdesk-record'>{table(None, facts)}"
        f"<h4>New text of the reply</h4><pre class='optdesk-pre'>{text}</pre>"
        f"<h4>Evidence</h4>{evidence.evidence_html(row)}</div>"
    )


def _confidence(value: float | None) -> str:
    return "—" if value is None else esc(f"{value:.2f}")


class ReviewQueueView(View):
    """The queue (oldest first), the chosen message, and the three decisions."""

    def __init__(self, store, data_group: str | None = None, *, actor: str | None = None,
                 selection_path=None) -> None:
        self.store = store
        self.actor = actor or default_actor()
        self.rows: list[dict] = []
        self.current: dict | None = None
        self._quiet = False
        self.status = Status()
        g = self.status.guard
        groups = sorted({*store.data_groups(), *([data_group] if data_group else [])})
        self.group = w.Dropdown(options=[("all data groups", ALL_GROUPS)] + [(x, x) for x in groups],
                                value=data_group or ALL_GROUPS, description="Data group")
        self.state = w.ToggleButtons(options=[("Open", "open"), ("Resolved", "resolved")],
                                     value="open", style={"button_width": "90px"})
        self.refresh_button = button("Refresh", icon="refresh")
        self.summary = w.HTML("")
        self.items = w.Select(options=[], rows=8, layout=w.Layout(width="95%"))
        self.detail = w.HTML("")
        self.reason = w.Text(placeholder="optional note for the audit log", description="Note",
                             layout=w.Layout(width="420px"))
        self.optout_button = button("Apply opt-out", "danger", "ban")
        self.human_button = button("Human reply", "info", "user")
        self.dismiss_button = button("Dismiss", "", "times")
        self.decisions = w.VBox([w.HBox([self.optout_button, self.human_button,
                                         self.dismiss_button]), self.reason],
                                layout=w.Layout(display="none"))
        self.reopen_reason = w.Text(placeholder="why reopen (optional)", description="Note",
                                    layout=w.Layout(width="420px"))
        self.reopen_button = button("Reopen this decision", "warning", "undo")
        self.reopening = w.VBox([w.HBox([self.reopen_button, self.reopen_reason]),
                                 w.HTML("<span class='optdesk-muted'>The message goes back to "
                                        "Open. An opt-out it applied stays: undo a manual one "
                                        "from the contact's record.</span>")],
                                layout=w.Layout(display="none"))
        self.reopen_button.on_click(g(lambda _b: self.reopen()))
        # the contact of the item: its record (as in 01, with its actions), opened in place
        self._record_group = data_group or ""
        self.panel = ContactPanel(store, lambda: self._record_group, actor=self.actor,
                                  origin=ORIGIN, selection_path=selection_path)
        self.open_record_button = button("Open the contact's record", "", "folder-open")
        self.open_record_button.layout.display = "none"
        self.close_record_button = button("Close the record", icon="times")
        self.record_box = w.VBox([self.close_record_button, self.panel.widget],
                                 layout=w.Layout(display="none", border="2px solid #0969da",
                                                 padding="6px", margin="4px 0"))
        self.record_box.add_class("optdesk-opened-record")
        self.open_record_button.on_click(g(lambda _b: self.open_record()))
        self.close_record_button.on_click(g(lambda _b: self.close_record()))
        self.group.observe(g(lambda _c: self.refresh()), names="value")
        self.state.observe(g(lambda _c: self.refresh()), names="value")
        self.refresh_button.on_click(g(lambda _b: self.refresh()))
        self.items.observe(g(self._on_pick), names="value")
        self.optout_button.on_click(g(lambda _b: self.resolve("opt_out")))
        self.human_button.on_click(g(lambda _b: self.resolve("human")))
        self.dismiss_button.on_click(g(lambda _b: self.resolve("dismiss")))
        self.widget = w.VBox([
            w.HTML(STYLE + "<style>.optdesk-pre{white-space:pre-wrap;background:#f6f8fa;"
                   "padding:6px;max-height:320px;overflow:auto;margin:0}</style>"
                   f"<span class='optdesk-muted'>Acting as <b>{esc(self.actor)}</b></span>"),
            w.HBox([self.group, self.state, self.refresh_button]), self.summary, self.items,
            self.decisions, self.reopening, self.status.widget, w.HBox([self.open_record_button]),
            self.record_box, self.detail,
        ])
        g(self.refresh)()

    @classmethod
    def for_settings(cls, store, settings, **kwargs):
        return cls(store, None, **kwargs)

    def refresh(self, keep_position: int = 0) -> None:
        """Reload the queue and show the message at ``keep_position`` (the next one to judge)."""
        frame = self.store.review_queue(self.group.value or None, state=self.state.value)
        self.rows = frame.head(SHOWN).to_dicts()
        if self.state.value == "resolved":
            notes = self.store.review_notes([r["message_hash"] for r in self.rows])
            for r in self.rows:
                r["note"] = notes.get(r["message_hash"])
        more = (f" (the {SHOWN:,} oldest are listed)" if frame.height > SHOWN else "")
        noun = "waiting for a decision" if self.state.value == "open" else "resolved"
        plural = "message" if frame.height == 1 else "messages"
        self.summary.value = f"<b>{fmt_int(frame.height)}</b> {plural} {noun}{more}"
        self._quiet = True
        try:
            self.items.index = None
            self.items.options = [(item_label(r), i) for i, r in enumerate(self.rows)]
        finally:
            self._quiet = False
        if self.rows:
            self.items.value = min(keep_position, len(self.rows) - 1)
        else:
            self.show(None)

    def _on_pick(self, change) -> None:
        if not self._quiet and change["new"] is not None:
            self.show(self.rows[change["new"]])

    def open_record(self) -> None:
        """Show the record of the contact the item resolved to, under the item's buttons."""
        target = record_target(self.current)
        if target is None:
            return
        contact_id, self._record_group = target
        self.panel.show(contact_id)
        self.record_box.layout.display = ""

    def close_record(self) -> None:
        self.panel.clear()
        self.record_box.layout.display = "none"

    def show(self, row: dict | None) -> None:
        if self.panel.contact_id is not None and record_target(row) != (
                self.panel.contact_id, self._record_group):
            self.close_record()  # the record follows the item shown
        self.current = row
        self.open_record_button.layout.display = "" if record_target(row) else "none"
        self.detail.value = item_detail(row) if row else (
            "<span class='optdesk-muted'>Nothing to review.</span>")
        is_open = row is not None and row["review_state"] == "open"
        self.decisions.layout.display = "" if is_open else "none"
        resolved = row is not None and row["review_state"] == "resolved"
        self.reopening.layout.display = "" if resolved else "none"

    def reopen(self) -> bool:
        """Put the resolved message shown back in the open queue."""
        if self.current is None:
            return False
        row, position = self.current, self.items.index or 0
        done = self.store.reopen_review(row["message_hash"], actor=self.actor,
                                        reason=self.reopen_reason.value.strip() or None)
        self.reopen_reason.value = ""
        self.refresh(keep_position=position)
        who = row["contact_name"] or row["sender"] or row["message_hash"]
        if done:
            self.status.ok(f"{who}: reopened; it is in Open again.")
        else:
            self.status.info(f"{who}: open already; nothing changed.")
        return done

    def resolve(self, action: str) -> bool:
        """Record the analyst's decision for the message shown, then show the next one."""
        if self.current is None:
            return False
        row, position = self.current, self.items.index or 0
        done = self.store.resolve_review(row["message_hash"], action, self.actor,
                                         reason=self.reason.value.strip() or None)
        self.reason.value = ""
        self.refresh(keep_position=position)
        who = row["contact_name"] or row["sender"] or row["message_hash"]
        if done:
            self.status.ok(f"{who}: {ACTION_LABELS[action]}.")
        else:
            self.status.info(f"{who}: already resolved by someone else; nothing changed.")
        return done
