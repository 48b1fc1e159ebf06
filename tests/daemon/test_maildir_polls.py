"""Whole polls over a Maildir that another program changes (issue 12, item 6): a directory
where a message should be, a file renamed away between reading and moving."""

from __future__ import annotations

import logging
import os

import pytest

from optdesk.daemon.ingest import Ingestor
from optdesk.sources.maildir import MaildirSource

from .conftest import fake_classify, make_mail


@pytest.fixture
def root(tmp_path):
    path = tmp_path / "Maildir"
    for sub in ("cur", "new", "tmp"):
        (path / sub).mkdir(parents=True)
    return path


def deliver(root, data: bytes, n: int) -> None:
    name = f"{1790000000 + n}.M{n}P1.test"
    (root / "tmp" / name).write_bytes(data)
    os.rename(root / "tmp" / name, root / "new" / name)


def test_a_poll_goes_on_past_a_directory_in_new(root, desk, settings):
    (root / "new" / "1790000000.M1P1.host").mkdir()  # named like a message
    deliver(root, make_mail("alice@example.org", "opt_out"), 1)
    with MaildirSource(root) as src:
        res = Ingestor(desk, src, fake_classify, settings).poll()
    assert res.applied == 1 and res.moved == 1 and res.errors == 0


def test_a_file_renamed_away_during_a_poll_is_skipped(root, desk, settings, caplog):
    mails = [make_mail(f"s{i}@example.net", "auto_reply") for i in range(3)]
    for n, data in enumerate(mails):
        deliver(root, data, n)

    class Racing(MaildirSource):
        """Another program takes UID 2's file away after it was read, before the move."""

        def move(self, uids, folder):
            for sub in ("new", "cur"):
                for name in os.listdir(self.root / sub):
                    if (self.root / sub / name).read_bytes() == mails[1]:
                        os.rename(self.root / sub / name, root / "tmp" / name)
            return super().move(uids, folder)

    caplog.set_level(logging.INFO)
    with Racing(root) as src:
        res = Ingestor(desk, src, fake_classify, settings).poll()
    assert res.applied == 3 and res.errors == 0
    assert len(os.listdir(root / ".optdesk.auto_reply" / "new")) == 2
    assert "UID 2 (" in caplog.text and "vanished before it could be moved" in caplog.text
