"""Fixtures for the invitation tests: a small store with known contacts, settings, an SMTP sink.

Contacts in data group ``g``:
1 opted out (reply), system a1@news.example (primary) + private p1@own.example
2 opted out by a complaint          3 not opted out
4 opted out (manual), but complained earlier (complaint, opted in, opted out again)
5 opted out (manual), primary address undeliverable
6 opted out (list_unsubscribe), French-speaking, a second system address b6@news.example
"""

from __future__ import annotations

import pathlib
import shutil
import threading
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller

from fixtures.dovecot import free_port
from fixtures.store import contact_row, write_contacts_csv
from optdesk.settings import load_settings
from optdesk.store import Store

GROUP = "g"
KEY = b"test-signing-key-of-32-bytes-or-more"


def build_store(path: pathlib.Path) -> Store:
    store = Store(path)
    rows = [
        contact_row(1, "a1@news.example", first_name="Ann", last_name="One", language="en"),
        contact_row(1, "p1@own.example", first_name="Ann", last_name="One", language="en",
                    email_kind="private"),
        contact_row(2, "a2@news.example"),
        contact_row(3, "a3@news.example"),
        contact_row(4, "a4@news.example"),
        contact_row(5, "a5@news.example"),
        contact_row(6, "a6@news.example", first_name="Élodie", last_name="Six", language="fr"),
        contact_row(6, "b6@news.example", first_name="Élodie", last_name="Six", language="fr"),
    ]
    store.import_contacts(write_contacts_csv(path.parent / "contacts.csv", rows), GROUP)
    store.opt_out(1, GROUP, source="reply", actor="t", reason="remove me")
    store.opt_out(2, GROUP, source="complaint", actor="t", reason="spam report")
    store.opt_out(4, GROUP, source="complaint", actor="t", reason="spam report")
    store.opt_in(4, GROUP, source="manual", actor="t", reason="phoned us")
    store.opt_out(4, GROUP, source="manual", actor="t", reason="asked again")
    store.opt_out(5, GROUP, source="manual", actor="t")
    store.opt_out(6, GROUP, source="list_unsubscribe", actor="t")
    with store.db.transaction() as con:
        con.execute("INSERT INTO deliverability (email, undeliverable) VALUES (?, true)",
                    ["a5@news.example"])
    return store


@pytest.fixture(autouse=True, scope="session")
def _cancel_store_timers():
    """Cancel the stores' pending close-timers before the interpreter exits.

    A store closes an idle connection from a daemon ``threading.Timer``; one that fires while
    Python finalises dies inside DuckDB and aborts the process (exit 134). See the report.
    """
    yield
    for thread in threading.enumerate():
        if isinstance(thread, threading.Timer):
            thread.cancel()
            thread.join(timeout=2)


@pytest.fixture(scope="session")
def _inv_template(tmp_path_factory) -> pathlib.Path:
    path = tmp_path_factory.mktemp("inv-template") / "inv.duckdb"
    build_store(path).release()
    return path


@pytest.fixture
def inv_store(_inv_template: pathlib.Path, tmp_path: pathlib.Path) -> Store:
    """A copy of the fixture store described above (built once per session)."""
    target = tmp_path / "inv.duckdb"
    shutil.copy(_inv_template, target)
    return Store(target)


def make_settings(db: pathlib.Path | str, smtp_url: str = "smtp://127.0.0.1:1", **inv):
    values = {"reply_domain": "reply.example", "organisation": "Acme PR",
              "sender_name": "Acme Press", "sender_email": "press@acme.example", **inv}
    return load_settings(env={"OPTDESK_SECRET": KEY.decode()}, overrides={
        "db": str(db), "data_group": GROUP, "invitations": values,
        "smtp": {"url": smtp_url, "rate_per_second": 1000.0},
    })


@pytest.fixture
def settings(tmp_path):
    """Settings with known invitation values; the store path is a copy's (``inv.duckdb``)."""
    return make_settings(tmp_path / "inv.duckdb")


class Sink:
    """aiosmtpd handler keeping every message (envelope and parsed)."""

    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.messages.append({
                "mail_from": envelope.mail_from, "rcpt_tos": list(envelope.rcpt_tos),
                "smtputf8": envelope.smtp_utf8, "data": envelope.content,
                "msg": message_from_bytes(envelope.content, policy=policy.default),
            })
        return "250 OK"


def _serve(**options):
    sink = Sink()
    port = free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield sink, f"smtp://127.0.0.1:{port}"
    finally:
        controller.stop()


@pytest.fixture
def smtp_sink():
    """A real SMTP server on 127.0.0.1 (offering SMTPUTF8, as aiosmtpd's Controller does):
    yields (Sink, url)."""
    yield from _serve()


@pytest.fixture
def smtp_utf8_sink():
    """A server that says it offers SMTPUTF8 (non-ASCII local parts): (Sink, url)."""
    yield from _serve(enable_SMTPUTF8=True)


@pytest.fixture
def smtp_ascii_sink():
    """A server that does not offer SMTPUTF8: (Sink, url)."""
    yield from _serve(enable_SMTPUTF8=False)
