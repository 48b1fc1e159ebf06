"""Real bounces no one here wrote: the samples of the flufl.bounce 6.0.0 sdist, with the
expected addresses from its own tests/test_detectors.py table.

flufl.bounce's table says which addresses failed, not why. optdesk must find every one of them
(flufl.bounce is its address finder where the notice is not a DSN); what happens to each then
depends on the reason (rules/2x-bounce-*.yaml): an address reason counts against it, a
sending-side or transit reason (or none that can be read) becomes a sending incident and never
counts.

The sdist is downloaded with pip at test time into data/cache/flufl (kept between runs).
"""

from __future__ import annotations

import ast
import email
import pathlib
import subprocess
import sys
import tarfile

import pytest
from classify_mailgen import message
from flufl.bounce import all_failures

from optdesk.classify import Classifier, load_rules

ROOT = pathlib.Path(__file__).resolve().parents[2]
CACHE = ROOT / "data" / "cache" / "flufl"
VERSION = "6.0.0"
# Read one by one: each reports a full mailbox or an exceeded quota. flufl.bounce calls them
# permanent; optdesk treats a full mailbox as soft (it empties again).
MAILBOX_FULL = {"simple_07.txt", "simple_09.txt", "simple_38.txt", "dsn_04.txt", "qmail_06.txt",
                "yahoo_02.txt", "yahoo_04.txt"}
# Gmail refusing our mail as unsolicited (550 5.7.1): flufl's table expects no address.
POLICY = {"simple_42.txt"}


def _sdist_dir() -> pathlib.Path:
    target = CACHE / f"flufl_bounce-{VERSION}"
    if (target / "tests" / "test_detectors.py").exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    tarballs = list(CACHE.glob(f"flufl_bounce-{VERSION}.tar.gz"))
    if not tarballs:
        cmd = [sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
               f"flufl.bounce=={VERSION}", "-d", str(CACHE)]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        assert done.returncode == 0, done.stderr[-2000:]
        tarballs = list(CACHE.glob(f"flufl_bounce-{VERSION}.tar.gz"))
    with tarfile.open(tarballs[0]) as tar:
        tar.extractall(CACHE, filter="data")
    return target


@pytest.fixture(scope="module")
def sdist() -> pathlib.Path:
    return _sdist_dir()


def _table(sdist: pathlib.Path) -> dict[str, tuple[set[str], bool]]:
    """file → (expected addresses, lower-cased; temporary?) merged over the detector rows."""
    tree = ast.parse((sdist / "tests" / "test_detectors.py").read_text(encoding="utf-8"))
    rows = next(ast.literal_eval(node.value) for node in tree.body
                if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "DETECTORS")
    table: dict[str, tuple[set[str], bool]] = {}
    for _module, filename, addresses, temporary in rows:
        found, _ = table.setdefault(filename, (set(), temporary))
        found.update(a.decode().lower() for a in addresses)
    return table


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier(load_rules(ROOT / "rules"), signing_key=b"k")


def test_table_is_big_enough(sdist):
    table = _table(sdist)
    assert len(table) > 100
    assert sum(1 for addrs, _ in table.values() if addrs) > 100


def test_every_bounce_in_the_table(sdist, clf):
    failures, effects = [], {}
    for filename, (expected, _temporary) in sorted(_table(sdist).items()):
        d = clf.classify((sdist / "tests" / "data" / filename).read_bytes())
        by_address = {r["address"]: r for r in d.recipients}
        if filename in POLICY:
            ok = d.kind.startswith("bounce_") and d.addresses == () and d.evidence["policy_refusals"]
        elif not expected:  # nothing counted, unless a person is asked to check the guess
            ok = d.kind != "opt_out" and (d.addresses == () or d.review)
        else:
            ok = d.kind in ("bounce_hard", "bounce_soft") and expected <= set(by_address)
            for address in expected & set(by_address):
                effect = by_address[address]["effect"]
                effects[effect] = effects.get(effect, 0) + 1
                # counted if and only if the reason is about the address
                ok = ok and (address in d.addresses) == (effect in ("undeliverable", "soft"))
                ok = ok and (address in d.evidence["policy_refusals"]) == (effect == "incident")
            if filename in MAILBOX_FULL:
                ok = ok and all(by_address[a]["effect"] == "soft" for a in expected)
        if not ok:
            failures.append((filename, sorted(expected), d.kind, d.addresses, d.rule))
    assert not failures, failures
    # most of flufl's samples are about the address; the rest are incidents (no reason, delays)
    assert effects.get("undeliverable", 0) + effects.get("soft", 0) >= 85, effects


def test_policy_refusal_is_a_sending_incident(sdist, clf):
    d = clf.classify((sdist / "tests" / "data" / "simple_42.txt").read_bytes())
    assert d.addresses == () and d.evidence["policy_refusals"] == ["david...@gmail.com"]
    assert [i["reason"] for i in d.incidents] == ["spamdetected"]
    assert d.incidents[0]["recipients"] == ["david...@gmail.com"]
    assert d.incidents[0]["family"] == "sending"


def test_reply_quoting_a_bounce_is_not_a_bounce(clf):
    body = ("Hi, I tried to forward your release to my colleague, see below. Can you help?\n\n"
            "-----Original Message-----\nFrom: Mail Delivery Subsystem\n"
            "Subject: Returned mail\n\n"
            "   ----- The following addresses had permanent fatal errors -----\n"
            "<colleague@example.net>\n    (reason: 550 5.1.1 User unknown)\n")
    raw = message(body, subject="Re: your press release")
    temporary, permanent = all_failures(email.message_from_bytes(raw))
    assert permanent or temporary, "flufl.bounce, ungated, should see a failure here"
    d = clf.classify(raw)
    assert d.kind == "human" and d.addresses == ()
    assert d.evidence.get("review_reasons") is None
