"""Maildir under hostile conditions (issue 12, item 6): entries of new/ and cur/ that are not
files, file names that break lines, a damaged uidlist, files renamed away in the middle of a
poll. None of them may stop a poll; each is skipped or repaired and said once. (Whole polls over
such a Maildir: tests/daemon/test_maildir_polls.py.)"""

from __future__ import annotations

import logging
import os
import pathlib

import pytest

from optdesk.sources import uidlist as uidlist_mod

from .conftest import MaildirBackend, make_message


@pytest.fixture
def box(tmp_path) -> MaildirBackend:
    return MaildirBackend(tmp_path / "Maildir")


def _put(box: MaildirBackend, name: str, data: bytes, sub: str = "new") -> pathlib.Path:
    path = box.root / sub / name
    path.write_bytes(data)
    return path


def test_directories_symlinks_and_fifos_in_new_and_cur_are_skipped_with_one_warning(box, caplog):
    caplog.set_level(logging.WARNING)
    box.deliver(make_message())
    (box.root / "new" / "a-directory").mkdir()
    (box.root / "cur" / "another-directory").mkdir()
    os.symlink(box.root / "tmp", box.root / "new" / "link-to-a-directory")
    os.symlink(box.root / "nowhere", box.root / "cur" / "broken-link")
    os.mkfifo(box.root / "new" / "a-fifo")  # reading it would block for ever
    target = _put(box, "outside", make_message(), sub="tmp")
    os.symlink(target, box.root / "cur" / "link-to-a-file:2,S")  # a file all the same
    with box.source() as src:
        uids = src.new_uids(0)
        assert len(uids) == 2
        assert len(list(src.fetch(uids))) == 2
        src.new_uids(0)  # a second look says nothing new
        src.wait_for_new(0.01)
    skipped = [r.getMessage() for r in caplog.records if "not a message file" in r.getMessage()]
    assert len(skipped) == 5, skipped
    for name in ("new/a-directory", "cur/another-directory", "new/link-to-a-directory",
                 "cur/broken-link", "new/a-fifo"):
        assert sum(name + " is " in m for m in skipped) == 1, name
    assert any("new/a-directory is a directory" in m for m in skipped)
    assert any("new/link-to-a-directory is a symlink to a directory" in m for m in skipped)


NAMES = [
    "1790000001.M1P1.host\rwith-cr",
    "1790000002.M2P1.host\u2028with-line-separator",
    "1790000003.M3P1.host\nwith-lf",
    "1790000004.M4P1.host with space and 100% odd",
    "1790000005.M5P1.host\x85\x0b\x0c\x1c\u2029",
    os.fsdecode(b"1790000006.M6P1.not-utf8-\xff\xfe"),
]


def test_file_names_that_break_lines_keep_stable_uids(box, caplog):
    caplog.set_level(logging.WARNING)
    for i, name in enumerate(NAMES):
        _put(box, name, make_message(), sub="cur" if i % 2 else "new")
    with box.source() as src:
        first = src.new_uids(0)
        assert len(first) == len(NAMES)
        assert len(list(src.fetch(first))) == len(NAMES)
    raw = (box.root / uidlist_mod.FILENAME).read_bytes()
    assert raw.isascii() and raw.count(b"\n") == len(NAMES) + 1  # one line per name, all ASCII
    for _ in range(2):
        with box.source() as src:
            assert src.new_uids(0) == first  # the same UIDs on every poll
    assert "bad uidlist" not in caplog.text
    with box.source() as src:
        src.move(first, "done")
    assert sorted(os.listdir(box.root / ".done" / "new") + os.listdir(box.root / ".done" / "cur")) \
        == sorted(NAMES)


def test_a_version_1_uidlist_is_read_line_by_line_on_lf_only(box):
    names = ["1790000001.M1P1.plain", "1790000002.M2P1.with\rcr", "1790000003.M3P1.with\u2028ls"]
    for name in names:
        _put(box, name, make_message())
    lines = ["optdesk-uidlist v1 77 10"] + [f"{i + 3} {n}" for i, n in enumerate(names)]
    (box.root / uidlist_mod.FILENAME).write_bytes(("\n".join(lines) + "\n").encode())
    with box.source() as src:
        assert src.folder_state().uidvalidity == 77
        assert src.new_uids(0) == [3, 4, 5]  # the UIDs of the old file, kept
        box.deliver(make_message())
        assert src.new_uids(0) == [3, 4, 5, 10]
    assert (box.root / uidlist_mod.FILENAME).read_text().startswith("optdesk-uidlist v2 77 11\n")


def test_uidlist_damage_is_repaired_without_reusing_a_uid(box, caplog):
    for _ in range(3):
        box.deliver(make_message())
    with box.source() as src:
        uids = src.new_uids(0)
    path = box.root / uidlist_mod.FILENAME
    lines = path.read_text().splitlines()
    head, rows = lines[0].split(), lines[1:]
    # the second row's UID repeated, a row above uidnext, a row without a name
    bad = [f"optdesk-uidlist v2 {head[2]} 2", rows[0], rows[1], rows[1].split()[0] + " dup", "7"]
    path.write_text("\n".join(bad) + "\n")
    with box.source() as src:
        got = src.new_uids(0)
        assert got[:2] == uids[:2] and len(got) == 3
        assert got[2] > uids[1] and got[2] not in uids[:2]  # the dropped one has a new, higher UID
        box.deliver(make_message())
        assert src.new_uids(0)[-1] > got[2]
    text = caplog.text
    assert f"{path}:4: bad uidlist line" in text and "and 1 more" in text
    assert "uidnext 2 is not above UID" in text


def test_a_file_renamed_within_the_inbox_is_still_moved(box):
    box.deliver(make_message())
    with box.source() as src:
        (uid,) = src.new_uids(0)
        (name,) = os.listdir(box.root / "new")
        os.rename(box.root / "new" / name, box.root / "cur" / f"{name}:2,S")  # a client read it
        src.move([uid], "done")
    assert os.listdir(box.root / ".done" / "cur") == [f"{name}:2,S"]


def test_a_name_already_in_the_target_is_left_in_the_inbox_not_fatal(box, caplog):
    box.deliver(make_message())
    box.deliver(make_message())
    with box.source() as src:
        uids = src.new_uids(0)
        first = sorted(os.listdir(box.root / "new"))[0]
        (box.root / ".done" / "new").mkdir(parents=True)
        (box.root / ".done" / "new" / first).write_bytes(b"someone else's file")
        src.move(uids, "done")
    assert os.listdir(box.root / "new") == [first]
    assert (box.root / ".done" / "new" / first).read_bytes() == b"someone else's file"
    assert len(os.listdir(box.root / ".done" / "new")) == 2
    assert "already exists; not overwriting it" in caplog.text
