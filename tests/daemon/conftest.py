"""Daemon test helpers: a tiny fake classifier driven by X-Fake-* headers, a small store of
known contacts, and a message builder. The real classifier is exercised in test_cli/test_imap."""

from __future__ import annotations

import datetime as dt
import email
import itertools
import time

import pytest

from fixtures.store import contact_row, write_contacts_csv
from optdesk.classify.decision import Decision
from optdesk.settings import Settings
from optdesk.store import Store

_n = itertools.count(1)


def fake_classify(raw: bytes) -> Decision:
    """Decide from headers: X-Fake-Kind, X-Fake-Address, X-Fake-Confidence, X-Fake-Return,
    X-Fake-Token (contact_id/group), X-Fake-Raise."""
    msg = email.message_from_bytes(raw)
    if msg.get("X-Fake-Raise"):
        raise ValueError("fake classifier told to fail")
    kind = msg.get("X-Fake-Kind", "human")
    sender = email.utils.parseaddr(msg.get("From", ""))[1].lower() or None
    confidence = float(msg.get("X-Fake-Confidence", "0.95"))
    addresses = tuple(a.strip().lower() for a in msg.get("X-Fake-Address", "").split(",") if a.strip())
    if kind == "opt_out" and not addresses and sender:
        addresses = (sender,)
    token = None
    if msg.get("X-Fake-Token"):
        cid, group = msg["X-Fake-Token"].split("/")
        token = {"purpose": "unsubscribe", "contact_id": int(cid), "data_group": group}
    ret = msg.get("X-Fake-Return")
    return Decision(
        kind=kind, stage="fake", rule=f"fake-{kind}", confidence=confidence,
        addresses=addresses, evidence={"fake": True}, language="en",
        review=confidence < 0.75, sender=sender, message_id=msg.get("Message-ID"),
        subject=msg.get("Subject", ""), new_text=msg.get_payload()[:200],
        return_date=dt.date.fromisoformat(ret) if ret else None, token=token,
    )


def make_mail(sender: str = "a@example.org", kind: str | None = None, body: str = "hello",
              **headers: str) -> bytes:
    """A unique small message; ``kind`` and keyword headers become X-Fake-* headers."""
    n = next(_n)
    lines = [f"From: Someone <{sender}>", "To: press@example.org", f"Subject: message {n}",
             f"Message-ID: <{n}.{time.time_ns()}@test.example>"]
    if kind:
        lines.append(f"X-Fake-Kind: {kind}")
    for key, value in headers.items():
        lines.append(f"X-Fake-{key.strip('_').replace('_', '-').title()}: {value}")
    return ("\r\n".join(lines) + f"\r\n\r\n{body} {n}\r\n").encode()


KNOWN = {1: "alice@example.org", 2: "bob@example.org", 3: "shared@example.org",
         4: "shared@example.org"}


@pytest.fixture
def desk(tmp_path) -> Store:
    """A store with four contacts in data group 'demo'; 3 and 4 share one address."""
    rows = [contact_row(cid, addr, email_kind="private" if cid == 4 else "system")
            for cid, addr in KNOWN.items()]
    rows.append(contact_row(2, "bob.private@example.org", email_kind="private"))
    store = Store(tmp_path / "desk.duckdb")
    store.import_contacts(write_contacts_csv(tmp_path / "c.csv", rows), "demo")
    return store


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(db=str(tmp_path / "desk.duckdb"), data_group="demo", fetch_size=50,
                    secret_file=str(tmp_path / "secret.key"))
