"""Maildir specifics: the uidlist file, Maildir++ layout, reading leaves files alone."""

from __future__ import annotations

import os
import pathlib

import pytest

from optdesk.errors import ConfigError, MailboxError, MailboxUnavailable
from optdesk.sources import open_source
from optdesk.sources import uidlist as uidlist_mod
from optdesk.sources.maildir import MaildirSource, flags_of, folder_dir, split_name

from .conftest import MaildirBackend, make_message


@pytest.fixture
def box(tmp_path) -> MaildirBackend:
    return MaildirBackend(tmp_path / "Maildir")


def listing(root: pathlib.Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file())


def test_open_source_parses_maildir_url(tmp_path):
    src = open_source(f"maildir:{tmp_path}")
    assert isinstance(src, MaildirSource) and src.root == tmp_path
    assert open_source(f"maildir://{tmp_path}").root == tmp_path
    with pytest.raises(ConfigError, match="needs a path"):
        open_source("maildir:")
    with pytest.raises(ConfigError, match="unknown scheme"):
        open_source("pop3://x@y")


def test_missing_maildir_is_unavailable(tmp_path):
    with pytest.raises(MailboxUnavailable, match=str(tmp_path / "nope")):
        MaildirSource(tmp_path / "nope").connect()


def test_file_names_and_folders():
    assert split_name("123.M4P5.host:2,FS") == ("123.M4P5.host", "FS")
    assert split_name("123.M4P5.host") == ("123.M4P5.host", "")
    assert flags_of("1.x:2,RST") == {"\\Answered", "\\Seen", "\\Deleted"}
    root = pathlib.Path("/m")
    assert folder_dir(root, "optdesk/opt_out") == root / ".optdesk.opt_out"
    assert folder_dir(root, "INBOX") == root
    with pytest.raises(ConfigError, match="separator"):
        folder_dir(root, "optdesk.opt_out")
    with pytest.raises(ConfigError, match="empty part"):
        folder_dir(root, "optdesk//x")


def test_reading_renames_nothing(box):
    box.deliver(make_message())
    box.deliver(make_message(), flags=("\\Seen",))
    with box.source() as src:
        list(src.fetch(src.new_uids(0)))
    before = listing(box.root)
    with box.source() as src:
        list(src.fetch(src.new_uids(0)))
        src.folder_state()
    assert listing(box.root) == before
    assert len(os.listdir(box.root / "new")) == 1


def test_uids_survive_flag_change_by_a_mail_client(box):
    box.deliver(make_message())
    with box.source() as src:
        (uid,) = src.new_uids(0)
        name = os.listdir(box.root / "new")[0]
        os.rename(box.root / "new" / name, box.root / "cur" / f"{name}:2,S")  # client read it
        assert src.new_uids(0) == [uid]
        assert [m.uid for m in src.fetch([uid])] == [uid]
        src.move([uid], "done")
    assert os.listdir(box.root / ".done" / "cur") == [f"{name}:2,S"]
    assert (box.root / ".done" / "maildirfolder").exists()


def test_uidlist_file_is_stable_and_atomic(box):
    for _ in range(3):
        box.deliver(make_message())
    with box.source() as src:
        state, uids = src.folder_state(), src.new_uids(0)
    text = (box.root / uidlist_mod.FILENAME).read_text()
    assert text.startswith(f"optdesk-uidlist v2 {state.uidvalidity} {state.uidnext}\n")
    assert not [p for p in box.root.iterdir() if p.name.endswith(".tmp")]
    box.deliver(make_message())
    with box.source() as src:
        assert src.new_uids(0)[:3] == uids and src.new_uids(0)[3] == state.uidnext


def test_deleting_uidlist_changes_uidvalidity_even_within_a_second(box):
    box.deliver(make_message())
    with box.source() as src:
        first = src.folder_state()
        src.move(src.new_uids(0), "done")
        box.deliver(make_message())
        assert src.new_uids(0) == [2]
    for _ in range(3):  # faster than the clock ticks
        (box.root / uidlist_mod.FILENAME).unlink()
        with box.source() as src:
            again = src.folder_state()
            assert again.uidvalidity > first.uidvalidity and src.new_uids(0) == [1]
        first = again


def test_corrupt_uidlist_is_reported_by_file_and_line_and_repaired(box, caplog):
    box.deliver(make_message())
    with box.source() as src:
        (uid,) = src.new_uids(0)
    path = box.root / uidlist_mod.FILENAME
    good = path.read_text().splitlines()
    path.write_text("\n".join([good[0], "zz def", good[1]]) + "\n")
    with box.source() as src:
        assert src.new_uids(0) == [uid]  # the good line kept its UID
    assert f"{path}:2: bad uidlist line 'zz def'" in caplog.text
    assert path.read_text().splitlines() == good  # repaired: the next load has nothing to say
    caplog.clear()
    with box.source() as src:
        assert src.new_uids(0) == [uid]
    assert "bad uidlist" not in caplog.text
    path.write_text("garbage\n")
    with box.source() as src:
        state = src.folder_state()
        assert src.new_uids(0) == [1]
    assert f"{path}:1: not an optdesk uidlist header" in caplog.text
    assert state.uidvalidity > int(good[0].split()[2])  # a new UIDVALIDITY: readers re-scan


def test_two_sources_never_share_a_uid(box):
    a, b = box.source(), box.source()
    box.deliver(make_message())
    ua = a.new_uids(0)
    box.deliver(make_message())
    ub = b.new_uids(0)
    assert ub[0] == ua[0] and len(ub) == 2 and a.new_uids(0) == ub


def test_move_refuses_inbox_and_keeps_new_subdir(box):
    box.deliver(make_message())
    with box.source() as src:
        uids = src.new_uids(0)
        with pytest.raises(MailboxError, match="into itself"):
            src.move(uids, "INBOX")
        src.move(uids, "optdesk/opt_out")
    assert len(os.listdir(box.root / ".optdesk.opt_out" / "new")) == 1
