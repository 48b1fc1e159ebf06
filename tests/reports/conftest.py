"""Fixtures for the report tests: a store loaded with generated rows of known answers."""

from __future__ import annotations

import pytest

from optdesk.store import Store

from . import gen


@pytest.fixture(params=[1, 2, 3], ids=lambda s: f"seed{s}")
def generated(request, tmp_path):
    """(store, rows) for one seed."""
    rows = gen.generate(request.param)
    store = Store(tmp_path / "gen.duckdb")
    gen.load(store, rows)
    return store, rows


@pytest.fixture(scope="session")
def small_generated(tmp_path_factory):
    """(store, rows) for seed 7, shared by the tests that only read it."""
    rows = gen.generate(7)
    store = Store(tmp_path_factory.mktemp("gen") / "gen.duckdb")
    gen.load(store, rows)
    return store, rows
