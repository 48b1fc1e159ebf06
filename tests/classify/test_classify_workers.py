"""optdesk.classify.workers: many files on several forked processes, lines in input order."""

from __future__ import annotations

import os
import pathlib

from classify_mailgen import reply

from optdesk.classify import Classifier, load_rules
from optdesk.classify.workers import PARALLEL_FROM, classify_files, decide_file

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _files(tmp_path, count):
    texts = ["Bitte austragen.", "Thanks, could you send the photos?", "Merci de me désinscrire."]
    names = []
    for i in range(count):
        path = tmp_path / f"{i:04d}.eml"
        path.write_bytes(reply(texts[i % 3], ("de", "en", "fr")[i % 3], "gt"))
        names.append(str(path))
    return names


def _render(name, decision):
    return f"{os.getpid()}\t{os.path.basename(name)}\t{decision.kind}"


def test_workers_are_other_processes_and_keep_the_order(tmp_path):
    clf = Classifier(load_rules(ROOT / "rules"), signing_key=b"k" * 32)
    names = _files(tmp_path, PARALLEL_FROM + 10)
    lines = [line.split("\t") for line in classify_files(clf, names, _render, jobs=2)]
    assert [b for _, b, _ in lines] == [os.path.basename(n) for n in names]
    assert {int(pid) for pid, _, _ in lines} - {os.getpid()}, "no line came from a worker"
    assert [k for _, _, k in lines[:3]] == ["opt_out", "human", "opt_out"]
    alone = [line.split("\t") for line in classify_files(clf, names, _render, jobs=1)]
    assert {int(pid) for pid, _, _ in alone} == {os.getpid()}
    assert [k for _, _, k in alone] == [k for _, _, k in lines]


def test_few_files_are_classified_in_process(tmp_path):
    clf = Classifier(load_rules(ROOT / "rules"), signing_key=b"k" * 32)
    lines = list(classify_files(clf, _files(tmp_path, 5), _render, jobs=4))
    assert {int(line.split("\t")[0]) for line in lines} == {os.getpid()}


def test_an_unreadable_file_is_left_for_review(tmp_path):
    clf = Classifier(load_rules(ROOT / "rules"), signing_key=b"k" * 32)
    decision = decide_file(clf, str(tmp_path / "gone.eml"))
    assert (decision.kind, decision.stage, decision.review) == ("human", "read", True)
    assert decision.evidence["error"].startswith("read error: ")
