"""1,000 one-click POSTs while the daemon polls a mailbox, in one process (``optdesk run
--serve``, one writer of the store) and in two (``optdesk serve`` beside ``optdesk run``, sharing
the file by the open-write-close discipline): every request answered 200 is in the store, and the
poll's messages are all there too."""

from __future__ import annotations

import datetime as dt
import shutil

import pytest

from fixtures.dovecot import free_port
from fixtures.serve import OptdeskProcess, post_all, primary_addresses, reply_mail, url_for
from optdesk.demo_mailbox import demo_people, write_maildir
from optdesk.store import Store

pytestmark = pytest.mark.slow
_TEMPLATE = {}


def _setup(tmp_path, tmp_path_factory, posts: int, mails: int):
    if "db" not in _TEMPLATE:
        path = tmp_path_factory.mktemp("burst") / "t.duckdb"
        store = Store(path)
        store.init_demo(posts + mails + 500)
        store.release()
        _TEMPLATE["db"] = path
    db = tmp_path / "optdesk.duckdb"
    shutil.copy(_TEMPLATE["db"], db)
    store = Store(db)
    people = demo_people(store, wanted=posts + mails)
    clickers = {cid for cid, _, _ in people[:posts]}
    # replies from the others: every third one asks to be removed
    writers = people[posts:]
    mail = (reply_mail(writers[::3], "Please remove me from your list.", "oo")
            + reply_mail([p for i, p in enumerate(writers) if i % 3], "Thanks, noted.", "hi"))
    write_maildir(tmp_path / "inbox", mail)
    addresses = {cid: email for cid, email, _ in primary_addresses(store, 100_000)}
    _TEMPLATE["before"] = _opt_outs_by_source(store)
    store.release()
    config = tmp_path / "optdesk.toml"
    config.write_text(
        f'db = "{db}"\nmailbox = "maildir:{tmp_path / "inbox"}"\ndata_group = "demo"\n'
        f'poll_interval = 3600\nsecret_file = "{tmp_path / "secret.key"}"\n'
        f"[serve]\nport = {free_port()}\nrate_per_second = 100000.0\nrate_burst = 100000\n")
    return db, config, sorted(clickers), addresses, len(writers[::3]), len(mail)


def _opt_outs_by_source(store) -> dict[str, int]:
    by_source = store.events(data_group="demo", kinds=["opt_out"]).group_by("source").len()
    return dict(zip(by_source["source"], by_source["len"], strict=True))


def _check(db, results, clickers, opt_out_mails, mails, poll_detail: str):
    assert [r["status"] for r in results] == [200] * len(clickers)
    assert {r["heading"] for r in results} == {"You are unsubscribed"}
    store = Store(db)
    before, after = _TEMPLATE["before"], _opt_outs_by_source(store)
    added = {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}
    assert added == {"one_click": len(clickers), "reply": opt_out_mails}
    assert store.db.scalar("SELECT count(*) FROM messages") == mails
    assert store.db.scalar("SELECT count(*) FROM one_click_requests WHERE outcome = 'applied'"
                           ) == len(clickers)
    run = store.last_runs(["poll"])["poll"]
    first = dt.datetime.fromtimestamp(min(r["sent"] for r in results), dt.UTC).replace(tzinfo=None)
    last = dt.datetime.fromtimestamp(max(r["sent"] for r in results), dt.UTC).replace(tzinfo=None)
    # the POSTs came while the poll ran (not before, not after)
    assert run["started_at"] <= last and run["finished_at"] >= first, (run, first, last)
    assert f"{mails} messages" in poll_detail
    store.release()


def test_a_thousand_posts_while_the_daemon_polls_in_one_process(tmp_path, tmp_path_factory,
                                                                 serve_env):
    db, config, clickers, addresses, opt_outs, mails = _setup(tmp_path, tmp_path_factory,
                                                              1000, 3000)
    proc = OptdeskProcess.start(["--config", str(config), "run", "--serve"], tmp_path, serve_env)
    try:
        base = proc.address
        results = post_all([url_for(base, cid, addresses[cid]) for cid in clickers])
        detail = proc.wait_for(f"{mails} messages", timeout=300)
    finally:
        assert proc.stop() == 0, proc.output()
    _check(db, results, clickers, opt_outs, mails, detail)


def test_posts_to_optdesk_serve_while_optdesk_run_polls_the_same_file(tmp_path, tmp_path_factory,
                                                                     serve_env):
    db, config, clickers, addresses, opt_outs, mails = _setup(tmp_path, tmp_path_factory,
                                                              1000, 3000)
    daemon = OptdeskProcess.start(["--config", str(config), "run"], tmp_path, serve_env)
    serve = None
    try:
        daemon.wait_for("optdesk daemon:")
        serve = OptdeskProcess.start(["--config", str(config), "serve"], tmp_path, serve_env)
        results = post_all([url_for(serve.address, cid, addresses[cid]) for cid in clickers])
        detail = daemon.wait_for(f"{mails} messages", timeout=300)
    finally:
        if serve is not None:
            assert serve.stop() == 0, serve.output()
        assert daemon.stop() == 0, daemon.output()
    _check(db, results, clickers, opt_outs, mails, detail)
