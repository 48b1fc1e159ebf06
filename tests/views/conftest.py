"""Fixtures for the notebook views: a demo store with a hostile contact, a private selection file."""

from __future__ import annotations

import pathlib

import pytest

from fixtures.store import contact_row, write_contacts_csv

HOSTILE = "<img src=x onerror=alert(1)>"
HOSTILE_ID = 990001


@pytest.fixture(autouse=True)
def selection_file(tmp_path: pathlib.Path, monkeypatch) -> pathlib.Path:
    """Every test gets its own hand-off file (never the repository's data/cache/)."""
    path = tmp_path / "selection.json"
    monkeypatch.setenv("OPTDESK_SELECTION", str(path))
    from optdesk.views import selection

    monkeypatch.setattr(selection, "_current", None)  # nor an earlier test's in-process copy
    return path


@pytest.fixture(autouse=True)
def release_stores(request):
    """Close the stores' files at teardown, so no burst timer thread is left closing a
    connection while the interpreter exits (DuckDB then aborts the process)."""
    stores = [request.getfixturevalue(name) for name in ("store", "demo_store", "hostile_store")
              if name in request.fixturenames]
    yield
    for s in stores:
        s.release()


@pytest.fixture
def hostile_store(demo_store, tmp_path: pathlib.Path):
    """The demo store plus a contact whose name, outlet and list are HTML, opted out."""
    rows = [
        contact_row(HOSTILE_ID, "hostile@example.org", first_name=HOSTILE, last_name="",
                    outlet="<b>Bold</b> & Co", lists="<script>x()</script>", reach=999999),
    ]
    demo_store.import_contacts(write_contacts_csv(tmp_path / "hostile.csv", rows), "demo")
    demo_store.opt_out(HOSTILE_ID, "demo", source="manual", actor="<i>tester</i>",
                       reason="<script>alert(2)</script>")
    return demo_store


def mailable_contact(store, text: str = "ma") -> dict:
    """A demo contact that is not opted out, found by name."""
    found = store.find_contacts(text, "demo", limit=50)
    return next(r for r in found.iter_rows(named=True) if not r["opted_out"])


def opted_out_contact(store, text: str = "ma") -> dict:
    found = store.find_contacts(text, "demo", limit=50)
    return next(r for r in found.iter_rows(named=True) if r["opted_out"])
