"""Providers' own notice formats (not RFC 3464): Amazon SES notifications delivered by mail
(SNS, a JSON document in the body).

``ses_notification(text)`` returns the parsed JSON when the body is one (bounce, complaint or
delivery); ``provider_failures(notice)`` turns a bounce or delivery notification into Failures.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from optdesk.classify.bounce.notice import Notice

_SES_TYPES = ("Bounce", "Complaint", "Delivery")
_SES_START = re.compile(r'\{\s*"(?:notificationType|eventType)"\s*:\s*"(Bounce|Complaint|Delivery)"')
# Sendmail and others fold long lines of a plain body with "!\n " (a bang and a newline); some
# gateways just wrap. Both are undone before parsing the JSON.
_BANG_FOLD = re.compile(r"!\r?\n ?")
_NEWLINE = re.compile(r"\r?\n")


def ses_notification(text: str) -> dict[str, Any] | None:
    """The SES notification a body carries (Bounce, Complaint or Delivery), else None."""
    m = _SES_START.search(text)
    if not m:
        return None
    chunk = text[m.start():]
    unfolded = _BANG_FOLD.sub("", chunk)
    for candidate in (chunk, unfolded, _NEWLINE.sub("", unfolded)):
        try:
            value, _ = json.JSONDecoder().raw_decode(candidate)
        except ValueError:
            continue
        if isinstance(value, dict):
            return value
    return None


_SES_WRAP = re.compile(r"^\s*[245]\.\d{1,3}\.\d{1,3} - [^']{0,80}?\s*[245]\d\d-'(.*)'"
                       r"(?:\s*\(delivery attempts: \d+\))?\s*$", re.DOTALL)


def remote_reply(diag: str) -> str:
    """SES wraps the remote server's reply in its own words ("5.1.0 - Unknown address error
    550-'…' (delivery attempts: 0)"): the reply is what the server said."""
    m = _SES_WRAP.match(diag)
    return m.group(1) if m else diag


def _kind(doc: dict[str, Any]) -> str:
    return str(doc.get("notificationType") or doc.get("eventType") or "")


def provider_failures(notice: Notice) -> list:
    from optdesk.classify.bounce.recipients import Failure

    doc = ses_notification(notice.full_text)
    if doc is None:
        return []
    kind = _kind(doc)
    out = []
    if kind == "Bounce":
        bounce = doc.get("bounce") or {}
        permanent = str(bounce.get("bounceType", "")).lower() == "permanent"
        subtype = str(bounce.get("bounceSubType", ""))
        remote = str(bounce.get("reportingMTA", "")).split(";", 1)[-1].strip().lower()
        for rec in bounce.get("bouncedRecipients") or []:
            if not isinstance(rec, dict) or "@" not in str(rec.get("emailAddress", "")):
                continue
            diag = remote_reply(str(rec.get("diagnosticCode") or ""))
            if not diag and subtype and subtype != "General":
                diag = f"Amazon SES bounce: {subtype}"
            out.append(Failure(str(rec["emailAddress"]).strip().lower(), "ses",
                               action=str(rec.get("action") or "failed").lower(),
                               status=str(rec.get("status") or ""), diagnostic=diag,
                               remote=remote, permanent=permanent))
    elif kind == "Delivery":
        delivery = doc.get("delivery") or {}
        for address in delivery.get("recipients") or []:
            if "@" in str(address):
                out.append(Failure(str(address).strip().lower(), "ses", action="delivered",
                                   diagnostic=str(delivery.get("smtpResponse") or ""),
                                   remote=str(delivery.get("remoteMtaIp") or ""),
                                   permanent=False))
    return out


def ses_complaint(text: str) -> tuple[list[str], str] | None:
    """(complained recipients, feedback type) of an SES complaint notification, else None."""
    doc = ses_notification(text)
    if doc is None or _kind(doc) != "Complaint":
        return None
    complaint = doc.get("complaint") or {}
    rcpts = [str(r.get("emailAddress", "")).strip().lower()
             for r in complaint.get("complainedRecipients") or [] if isinstance(r, dict)]
    return [r for r in rcpts if "@" in r], str(complaint.get("complaintFeedbackType") or "abuse")
