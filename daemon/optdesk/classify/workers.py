"""Classify many stored messages on several cores.

The rules are loaded once, in the calling process; the worker processes are forked from it and
share that loaded state (copy-on-write), so each worker costs no second rules load. A worker is
given a file name, reads the file itself, classifies it and sends back one rendered output line;
lines come back in input order. One worker (``jobs=1``) classifies in the calling process.

Classification is pure (no store, no network), so the workers need nothing but the classifier;
the daemon, which also looks invitations up in the store, classifies in its own process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pathlib
from collections.abc import Callable, Iterable, Iterator

from optdesk.classify.classifier import Classifier
from optdesk.classify.decision import Decision

Render = Callable[[str, Decision], str]

# fewer messages than this are not worth starting workers for
PARALLEL_FROM = 200
CHUNK = 16  # messages handed to a worker at a time

_STATE: tuple[Classifier, Render] | None = None  # the forked workers' classifier and renderer


def default_jobs() -> int:
    """The cores this process may use (its CPU affinity), at most 8."""
    try:
        cores = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cores = os.cpu_count() or 1
    return max(1, min(cores, 8))


def decide_file(clf: Classifier, name: str) -> Decision:
    """The decision on one stored message; an unreadable file is left for review, with why."""
    try:
        raw = pathlib.Path(name).read_bytes()
    except OSError as exc:
        return Decision("human", "read", confidence=0.0,
                        evidence={"error": f"read error: {exc.strerror or exc}"}, review=True)
    return clf.classify(raw)


def _line(name: str) -> str:
    assert _STATE is not None, "worker started without a classifier"
    clf, render = _STATE
    return render(name, decide_file(clf, name))


def classify_files(clf: Classifier, names: Iterable[str], render: Render,
                   jobs: int = 1) -> Iterator[str]:
    """``render(name, decision)`` for each file of ``names``, in order, on ``jobs`` processes."""
    names = list(names)
    global _STATE
    # the loaded rules are never collected: the collector (and each worker's) leaves them alone
    gc.freeze()
    try:
        if jobs <= 1 or len(names) < PARALLEL_FROM or "fork" not in multiprocessing.get_all_start_methods():
            for name in names:
                yield render(name, decide_file(clf, name))
            return
        _STATE = (clf, render)
        with multiprocessing.get_context("fork").Pool(jobs) as pool:
            yield from pool.imap(_line, names, chunksize=CHUNK)
    finally:
        _STATE = None
        gc.unfreeze()
