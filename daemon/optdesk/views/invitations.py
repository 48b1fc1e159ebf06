"""Notebook 03: invite opted-out contacts, once, to opt back in.

    from optdesk.views.invitations import InvitationsView
    InvitationsView.from_settings()

Contacts come from the selection made in 01/02, from a filter over the opted-out, or from typed
contact ids. Preview and send call ``optdesk.outgoing.invitations`` (the same renderer, guardrails and
run of sends as ``optdesk invite``); this view only collects values and shows results.
"""

from __future__ import annotations

import dataclasses
import re
import threading
import time

import ipywidgets as w

from optdesk.errors import InvalidField, NotFound
from optdesk.outgoing import invitations as inv
from optdesk.settings import signing_key
from optdesk.views.common import (
    STYLE,
    Status,
    View,
    button,
    default_actor,
    esc,
    fmt_when,
    store_path,
)
from optdesk.views.render import table
from optdesk.views.selection import get_selection

SOURCES = ("selection from notebook 01/02", "filter", "contact ids")
OUTLET_PREFIX = "outlet:"  # in the ids box, ``outlet:OUT-7`` names an outlet by the team's id
ANY = "(any)"
PREVIEW_COUNT = 3
STATUS_LABELS = ("sent", "accepted", "declined", "expired", "failed", "pending")


class InvitationsView(View):
    """Who → fields → preview → send (with progress) → per-contact results → statuses."""

    def __init__(self, store, settings, data_group: str | None = None, *,
                 actor: str | None = None, selection_path=None, connect=None,
                 key: bytes | None = None, background: bool = False) -> None:
        self.store, self.settings = store, settings
        self.actor = actor or default_actor()
        self.selection_path, self.connect = selection_path, connect
        self.key = key if key is not None else _signing_key(settings)
        self.contact_ids: list[int] = []
        self.planned: list = []  # the plan of what was loaded last (load, preview, send ask)
        self.outlet_ids: list[int] = []  # outlets named in the ids box (``outlet:ID``)
        self.shown_ids: dict[int, str] = {}  # internal key -> the team's id, as shown
        self.shown_outlets: dict[int, str] = {}  # the same for outlets
        self.confirmed_outlets: list[int] = []
        self.confirmed_ids: list[int] | None = None  # what the confirmation named
        self.results: list[inv.InviteResult] = []
        self.background = background  # send in a thread, so that Stop can be clicked
        self._stop = threading.Event()
        self._sending: threading.Thread | None = None
        self._started = 0.0
        self.status = Status()
        group = data_group or settings.data_group
        self.group = w.Dropdown(options=sorted({*store.data_groups(), group}), value=group,
                                description="Data group")
        self._who_widgets()
        self._field_widgets()
        g = self.status.guard
        self.load_button.on_click(g(self.load_contacts))
        self.preview_button.on_click(g(self.show_preview))
        self.send_button.on_click(g(self.ask_send))
        self.confirm_button.on_click(g(self.start_send))
        self.cancel_button.on_click(g(self.cancel_send))
        self.stop_button.on_click(g(self.stop_send))
        for widget in (self.source, self.list_filter, self.language_filter, self.text_filter,
                       self.ids):
            widget.observe(g(self._who_changed), names="value")
        self.refresh_button.on_click(g(self.refresh_statuses))
        self.source.observe(g(self._on_source), names="value")
        self.language.observe(g(self._on_language), names="value")
        self.group.observe(g(self._on_group), names="value")
        self.widget = self._layout()
        self._on_source({"new": self.source.value})
        self.refresh_statuses()

    @classmethod
    def for_settings(cls, store, settings, **kwargs):
        kwargs.setdefault("background", True)
        return cls(store, settings, **kwargs)

    # -- widgets -------------------------------------------------------------------------------
    def _who_widgets(self) -> None:
        self.source = w.RadioButtons(options=SOURCES, value=SOURCES[0], description="Contacts")
        self.selection_info = w.HTML("")
        self.list_filter = w.Dropdown(description="Media list")
        self.language_filter = w.Dropdown(options=[ANY, *inv.LANGUAGES], value=ANY,
                                          description="Contact language",
                                          style={"description_width": "120px"})
        self.text_filter = w.Text(description="Name", placeholder="part of a name or outlet")
        self.filter_box = w.VBox([self.list_filter, self.language_filter, self.text_filter])
        self.ids = w.Textarea(description="Contact ids", placeholder="the team's ids, e.g. c-12, 003Aa00000XyZ12 57; an outlet: outlet:OUT-7",
                              layout=w.Layout(width="420px"))
        self.load_button = button("Load contacts", "", "users")
        self.who_html = w.HTML("")

    def _field_widgets(self) -> None:
        d = inv.default_fields(self.settings)
        wide, label = w.Layout(width="620px"), {"description_width": "130px"}
        self.sender_name = w.Text(value=d.sender_name, description="Sender name", layout=wide,
                                  style=label)
        self.sender_email = w.Text(value=d.sender_email, description="Sender email",
                                   layout=wide, style=label)
        self.language = w.Dropdown(options=[("each contact's own language", inv.EACH),
                                            *((lang, lang) for lang in inv.LANGUAGES)],
                                   value=inv.EACH,
                                   description="Message language", style=label,
                                   layout=w.Layout(width="420px"))
        self.subject = w.Text(value="", description="Subject", layout=wide, style=label,
                              placeholder="the default subject, in each contact's language")
        self.comments = w.Textarea(description="Comments", style=label,
                                   layout=w.Layout(width="620px", height="90px"),
                                   placeholder="a paragraph added to the message (optional)")
        self.preview_button = button("Preview", "info", "eye")
        self.send_button = button("Send invitations", "warning", "paper-plane")
        self.confirm_text = w.HTML("")
        self.confirm_button = button("Confirm: send", "danger", "check")
        self.cancel_button = button("Cancel")
        self.confirm_box = w.VBox([self.confirm_text,
                                   w.HBox([self.confirm_button, self.cancel_button])],
                                  layout=w.Layout(display="none", border="1px solid #b42318",
                                                  padding="6px"))
        self.preview_html = w.HTML("")
        self.progress = w.IntProgress(value=0, min=0, max=1, description="Sent",
                                      layout=w.Layout(display="none"))
        self.stop_button = button("Stop after this message", "danger", "stop")
        self.stop_button.layout.display = "none"
        self.progress_label = w.HTML("")
        self.results_html = w.HTML("")
        self.refresh_button = button("Refresh statuses", "", "refresh")
        self.statuses_html = w.HTML("")

    def _layout(self) -> w.VBox:
        head = w.HTML(STYLE + f"<span class='optdesk-muted'>Acting as <b>{esc(self.actor)}</b>. "
                      "Only contacts opted out of the data group are invited, never after a "
                      f"complaint, and at most once every {self.settings.invitations.cooloff_days}"
                      " days.</span>")
        return w.VBox([
            head, self.group, w.HTML("<h4>1. Who</h4>"),
            w.HBox([self.source, self.load_button], layout=w.Layout(align_items="flex-start")),
            self.selection_info, self.filter_box, self.ids, self.who_html,
            w.HTML("<h4>2. The message</h4>"), self.sender_name, self.sender_email,
            self.language, self.subject, self.comments,
            w.HBox([self.preview_button, self.send_button]), self.status.widget,
            self.confirm_box, w.HBox([self.progress, self.progress_label, self.stop_button],
                                     layout=w.Layout(align_items="center")), self.results_html,
            self.preview_html, w.HTML("<h4>3. Invitations and answers</h4>"),
            self.refresh_button, self.statuses_html,
        ])

    # -- who -----------------------------------------------------------------------------------
    def _on_source(self, change) -> None:
        chosen = change["new"]
        self.selection_info.layout.display = "" if chosen == SOURCES[0] else "none"
        self.filter_box.layout.display = "" if chosen == SOURCES[1] else "none"
        self.ids.layout.display = "" if chosen == SOURCES[2] else "none"
        if chosen == SOURCES[0]:
            self._show_selection()
        if chosen == SOURCES[1]:
            names = self.store.list_names(self.data_group)
            self.list_filter.options = [ANY, *names]
            self.list_filter.value = ANY

    def _on_group(self, _change) -> None:
        self._who_changed()
        self.who_html.value = ""
        self._on_source({"new": self.source.value})
        self.refresh_statuses()

    def _who_changed(self, _change=None) -> None:
        """Who is on screen changed: what was loaded, previewed or confirmed no longer holds."""
        if (not self.contact_ids and not self.outlet_ids and self.confirmed_ids is None
                and not self.preview_html.value):
            return
        self.contact_ids, self.outlet_ids, self.confirmed_ids = [], [], None
        self.confirm_box.layout.display = "none"
        self.preview_html.value = ""
        self.who_html.value = ("<p class='optdesk-muted'>The contacts changed: <b>Load "
                               "contacts</b>, <b>Preview</b> or <b>Send</b> uses what is shown "
                               "now.</p>")

    def _show_selection(self) -> None:
        sel = get_selection(self.selection_path)
        if sel is None or not sel.contact_ids:
            self.selection_info.value = ("<span class='optdesk-muted'>No selection yet: select "
                                         "contacts in notebook 02 (or 01), or use a filter.</span>")
        elif sel.data_group != self.data_group:
            self.selection_info.value = (
                f"<span class='optdesk-muted'>The selection ({len(sel)} contacts) is in data "
                f"group <b>{esc(sel.data_group)}</b>; choose that group to use it.</span>")
        else:
            self.selection_info.value = (
                f"<span class='optdesk-muted'>{len(sel)} contacts selected in "
                f"{esc(sel.origin or 'another notebook')} at {esc(sel.created_at)}.</span>")

    def _chosen_ids(self) -> list[int]:
        chosen = self.source.value
        if chosen == SOURCES[0]:
            sel = get_selection(self.selection_path)
            if sel is None or sel.data_group != self.data_group:
                return []
            return list(sel.contact_ids)
        if chosen == SOURCES[1]:
            df = self.store.opted_out(
                self.data_group, limit=None,
                lists=None if self.list_filter.value in (ANY, None) else [self.list_filter.value],
                languages=None if self.language_filter.value == ANY else [self.language_filter.value],
                text=self.text_filter.value or None)
            return df["contact_id"].to_list()
        words = [x for x in re.split(r"[\s,;]+", self.ids.value)
                 if x and not x.lower().startswith(OUTLET_PREFIX)]
        try:
            return self.store.contact_keys(words)  # the team's own ids
        except NotFound as exc:
            raise InvalidField(str(exc)) from None

    def _chosen_outlets(self) -> list[int]:
        """The outlets named in the ids box as ``outlet:ID`` (the team's outlet id)."""
        if self.source.value != SOURCES[2]:
            return []
        words = [x[len(OUTLET_PREFIX):] for x in re.split(r"[\s,;]+", self.ids.value)
                 if x.lower().startswith(OUTLET_PREFIX) and len(x) > len(OUTLET_PREFIX)]
        try:
            return self.store.outlet_keys(words)
        except NotFound as exc:
            raise InvalidField(str(exc)) from None

    def load_contacts(self, _button=None) -> list[int]:
        """Resolve the chosen contacts and say how many can be invited and why others cannot."""
        self.status.clear()
        if self.source.value == SOURCES[0]:
            self._show_selection()  # the selection may have changed in another notebook
        self.contact_ids = list(dict.fromkeys(self._chosen_ids()))
        self.outlet_ids = list(dict.fromkeys(self._chosen_outlets()))
        self.shown_ids = self.store.external_ids(self.contact_ids)
        self.shown_outlets = self.store.outlet_external_ids(self.outlet_ids)
        self.planned = self._plan(self.contact_ids, self.outlet_ids)
        self.who_html.value = who_summary(self.planned, self.language.value, self._label)
        return self.contact_ids

    def _plan(self, contacts, outlets):
        return inv.plan(self.store, self.data_group, contacts, outlet_ids=outlets,
                        cooloff_days=self.settings.invitations.cooloff_days)

    def _label(self, item) -> str:
        """``c-12`` for a contact, ``outlet OUT-7`` for an outlet (a row, Preview or result)."""
        get = item.get if isinstance(item, dict) else (lambda k: getattr(item, k))
        if get("contact_id") is None and get("outlet_id") is not None:
            return f"outlet {self.shown_outlets.get(get('outlet_id'), get('outlet_id'))}"
        return str(self.shown_ids.get(get("contact_id"), get("contact_id")))

    # -- fields, preview, send -----------------------------------------------------------------
    def _on_language(self, change) -> None:
        """A subject left at the old language's default follows the new language."""
        def default(language):
            return "" if language == inv.EACH else inv.default_subject(language, org)

        org = self.settings.invitations.organisation
        if change["old"] and self.subject.value == default(change["old"]):
            self.subject.value = default(change["new"])
        if self.contact_ids:
            self.load_contacts()  # the list shows each contact's message language

    def fields(self) -> inv.InvitationFields:
        return inv.InvitationFields(self.sender_name.value, self.sender_email.value,
                                    self.subject.value, self.comments.value, self.language.value)

    def _ids_or_load(self) -> list[int]:
        """The contacts shown now, resolved and planned again (a filter may match others by
        now); ``self.planned`` is their plan."""
        self.load_contacts()
        if not self.contact_ids and not self.outlet_ids:
            raise InvalidField("no contacts chosen: load a selection, a filter or contact ids")
        return self.contact_ids

    def show_preview(self, _button=None) -> None:
        """Render the messages the first contacts to be mailed would get (the send's renderer);
        who is skipped, and why, is in the list under "Who". What Load planned is used while the
        filter or ids on screen are unchanged (any change empties it); a selection made in
        another notebook is read again, as it may have changed there."""
        if self.source.value == SOURCES[0] or not (self.contact_ids or self.outlet_ids):
            self._ids_or_load()
        planned = self.planned
        mailed = [row["contact_id"] for row, reason in planned
                  if reason is None and row["contact_id"] is not None]
        outlets = [row["outlet_id"] for row, reason in planned
                   if reason is None and row["contact_id"] is None]
        if not mailed and not outlets:
            inv.check_fields(self.fields(), self.settings)
            self.preview_html.value = ("<p class='optdesk-muted'>Nobody here can be invited; "
                                       "the list above says why.</p>")
            return
        items = inv.preview(self.store, self.settings, self.data_group, mailed,
                            self.fields(), limit=PREVIEW_COUNT, key=self.key,
                            outlet_ids=outlets)
        note = ("<p class='optdesk-muted'>The first contacts' messages, as they will read them. "
                "Each message gets its own reply address and number when sent (under "
                "<i>details</i>).</p>")
        self.preview_html.value = note + "".join(
            preview_card(p, self._label(p)) for p in items)

    def ask_send(self, _button=None) -> None:
        """Check the fields (a refused field stops here) and ask for confirmation."""
        fields = inv.check_fields(self.fields(), self.settings)
        ids = self._ids_or_load()
        planned = self.planned
        mailed = sum(1 for _, reason in planned if reason is None)
        subject = esc(fields.subject) if fields.subject else "the default subject"
        language = ("each in the contact's own language" if fields.language == inv.EACH
                    else f"in {esc(fields.language)}")
        self.confirm_text.value = (
            f"Send “{subject}” from {esc(fields.sender_email)}, {language}, to the "
            f"<b>{mailed:,}</b> contacts listed above as mailed, of <b>{esc(self.data_group)}"
            f"</b>? {len(planned) - mailed:,} are skipped, as listed.")
        self.confirmed_ids, self.confirmed_outlets = list(ids), list(self.outlet_ids)
        self.confirm_box.layout.display = ""

    def cancel_send(self, _button=None) -> None:
        self.confirm_box.layout.display = "none"

    def start_send(self, _button=None) -> None:
        """Confirm: send the confirmed contacts, in a thread when ``background`` (Stop works)."""
        if self._sending is not None and self._sending.is_alive():
            self.status.info("A send is running; stop it first.")
            return
        if not self.background:
            self.send()
            return
        self._sending = threading.Thread(target=self.status.guard(self.send), daemon=True,
                                         name="optdesk-invitations")
        self._sending.start()

    def stop_send(self, _button=None) -> None:
        """Stop after the message in hand; the contacts left are not mailed."""
        self._stop.set()
        self.stop_button.disabled = True
        self.progress_label.value = ("<span class='optdesk-muted'>Stopping after the message "
                                     "in hand…</span>")

    def send(self, _button=None) -> list[inv.InviteResult]:
        """Send, with the progress bar moving per contact; show one result per contact."""
        self.confirm_box.layout.display = "none"
        self.preview_html.value = ""
        fields = self.fields()
        if self.confirmed_ids is not None:
            ids, outlets = self.confirmed_ids, self.confirmed_outlets
        else:
            ids = self._ids_or_load()
            outlets = self.outlet_ids
        self.confirmed_ids, self.confirmed_outlets = None, []
        self._stop.clear()
        self.progress.max, self.progress.value = max(len(ids) + len(outlets), 1), 0
        self.progress.layout.display = ""
        self.stop_button.disabled, self.stop_button.layout.display = False, ""
        self._started = time.monotonic()
        try:
            self.results = inv.send_invitations(
                self.store, self.settings, self.data_group, ids, fields, actor=self.actor,
                progress=self._on_progress, connect=self.connect, key=self.key,
                stop=self._stop.is_set, outlet_ids=outlets)
        finally:
            self.stop_button.layout.display = "none"
        self.results_html.value = results_table(self.results, self.shown_ids, self._label)
        counts = inv.summary(self.results)
        message = ", ".join(f"{n} {status}" for status, n in counts.items())
        (self.status.error if counts.get("failed") else self.status.ok)(message)
        self.contact_ids = []
        self.refresh_statuses()
        return self.results

    def _on_progress(self, done: int, total: int, result: inv.InviteResult) -> None:
        self.progress.value = done
        self.progress_label.value = (
            f"<span class='optdesk-muted'>{done:,}/{total:,}: "
            f"{'' if result.contact_id is None else 'contact '}{esc(self._label(result))} "
            f"{esc(result.status)}{esc(time_left(done, total, time.monotonic() - self._started), '')}"
            "</span>")

    # -- statuses ------------------------------------------------------------------------------
    def refresh_statuses(self, _button=None) -> None:
        """Counts per status and the latest invitations of the data group."""
        counts = self.store.invitation_counts(self.data_group)
        badges = " ".join(f"<span class='optdesk-badge'>{esc(s)}: {counts.get(s, 0)}</span>"
                          for s in STATUS_LABELS)
        df = self.store.invitations(self.data_group, limit=50)
        rows = [[esc(r["invitation_id"]), esc(r["name"]), esc(r["email"]), esc(r["status"]),
                 esc(r["language"]), fmt_when(r["sent_at"]), fmt_when(r["expires_at"]),
                 fmt_when(r["answered_at"]), esc(r["error"])]
                for r in df.iter_rows(named=True)]
        self.statuses_html.value = f"<p>{badges}</p>" + table(
            ["#", "contact", "address", "status", "language", "sent", "expires", "answered",
             "error"], rows, empty="no invitations yet")


def _signing_key(settings) -> bytes:
    """The daemon's key: a relative ``secret_file`` is taken from the repository root (a
    notebook runs in notebooks/), as the store path is."""
    resolved = dataclasses.replace(settings, secret_file=str(store_path(settings.secret_file)))
    return signing_key(resolved)


def time_left(done: int, total: int, elapsed: float) -> str:
    """" · about 3 min left" from the pace so far ('' at the end or before any pace is known)."""
    if done <= 0 or done >= total or elapsed <= 0:
        return ""
    left = elapsed / done * (total - done)
    if left < 90:
        return f" · about {max(1, round(left))} s left"
    if left < 5400:
        return f" · about {round(left / 60)} min left"
    return f" · about {left / 3600:.1f} h left"


WHO_ROWS = 50


def who_summary(planned: list[tuple[dict, str | None]], language: str, label=None) -> str:
    """Who will be mailed (address, message language) and who is skipped and why; ``label(row)``
    names each (default: its contact id)."""
    label = label or (lambda row: row["contact_id"])
    mailed = [row for row, reason in planned if reason is None]
    skipped = [(row, reason) for row, reason in planned if reason]

    def lang(row):
        return inv.contact_language(row) if language == inv.EACH else language

    def more(n):
        return f"<p class='optdesk-muted'>and {n - WHO_ROWS:,} more</p>" if n > WHO_ROWS else ""

    head = (f"<p><b>{len(planned)}</b> contacts: <b>{len(mailed)}</b> can be invited, "
            f"<b>{len(skipped)}</b> will be skipped.</p>")
    will = table(["contact", "name", "address", "message language"],
                 [[esc(label(r)), esc(r["name"]), esc(r["email"]), esc(lang(r))]
                  for r in mailed[:WHO_ROWS]], empty="nobody")
    skip = table(["contact", "name", "skipped because"],
                 [[esc(label(r)), esc(r["name"]), esc(why)]
                  for r, why in skipped[:WHO_ROWS]], empty="nobody")
    return (head + "<div class='optdesk-who'><h5>Will be mailed</h5>" + will + more(len(mailed))
            + "<h5>Skipped</h5>" + skip + more(len(skipped)) + "</div>")


SHOWN_HEADERS = ("From", "To", "Subject", "Date")
DETAIL_HEADERS = ("Reply-To", "Message-ID", "Content-Language", "List-Unsubscribe",
                  "List-Unsubscribe-Post", "Auto-Submitted")


def preview_card(p: inv.Preview, shown_id: str | None = None) -> str:
    """One contact's message as a mail program shows it; the technical headers under details.
    The contact is named by ``shown_id`` (the team's id) when given."""
    name = shown_id if shown_id is not None else p.contact_id
    word = "" if str(name).startswith("outlet ") else "contact "
    title = f"{word}{esc(name)} — {esc(p.email)}"
    if p.skip_reason:
        return f"<p><b>{title}</b>: skipped: {esc(p.skip_reason)}</p>"
    heads = "".join(f"<tr><td class='optdesk-muted'>{esc(h)}</td><td>{esc(v)}</td></tr>"
                    for h, v in p.headers(SHOWN_HEADERS))
    details = table(["header", "value"], [[esc(h), esc(v)] for h, v in p.headers(DETAIL_HEADERS)])
    return (f"<div class='optdesk-mail' style='border:1px solid #d0d7de;border-radius:6px;"
            f"padding:8px 12px;margin:8px 0;max-width:760px'><table>{heads}</table><hr>"
            f"<div style='white-space:pre-wrap;word-break:normal;overflow-wrap:break-word;"
            f"font-family:sans-serif'>{esc(p.body)}</div>"
            f"<details><summary class='optdesk-muted'>details</summary>{details}</details></div>")


def results_table(results: list[inv.InviteResult], shown_ids: dict[int, str] | None = None,
                  label=None) -> str:
    """The results, each contact named by the team's id (``shown_ids``) when known, or by
    ``label(result)`` (outlets: ``outlet OUT-7``)."""
    shown_ids = shown_ids or {}
    label = label or (lambda r: shown_ids.get(r.contact_id, r.contact_id))
    rows = [[esc(label(r)), esc(r.name), esc(r.email), esc(r.status), esc(r.reason),
             esc(r.invitation_id)] for r in results]
    return table(["#", "contact", "address", "result", "why", "invitation"], rows,
                 empty="no contacts")
