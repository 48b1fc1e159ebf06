"""Shared pytest configuration. Fixture modules live in tests/fixtures/ and are listed here."""

import pathlib
import sys

TESTS = pathlib.Path(__file__).resolve().parent
if str(TESTS) not in sys.path:
    sys.path.insert(0, str(TESTS))

pytest_plugins = [
    # one line per fixture module in tests/fixtures/; keep sorted
    "fixtures.dovecot",
    "fixtures.jupyter",
    "fixtures.serve",
    "fixtures.smtp",
    "fixtures.store",
]
