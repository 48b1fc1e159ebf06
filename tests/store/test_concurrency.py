"""Two real processes writing one store file at once: nothing lost, no error surfaced."""

import subprocess
import sys
import textwrap

WRITER = textwrap.dedent("""
    import sys, time
    from optdesk.store import Store
    path, ids, who = sys.argv[1], [int(x) for x in sys.argv[2].split(",")], sys.argv[3]
    store = Store(path)
    for cid in ids:
        assert store.opt_out(cid, "demo", source="manual", actor=who, reason="concurrency")
        store.find_contacts("a", "demo", limit=5)          # reads interleave with writes
        store.suppress_address(f"{who}-{cid}@stranger.example", "demo", source="reply", actor=who)
        if cid % 7 == 0:
            time.sleep(0.01)                               # idle moments, as in real use
    print("done", store.db.lock_waits)
""")


def test_two_processes_write_at_once(tmp_path, demo_store):
    already = set(demo_store.opted_out("demo", limit=None)["contact_id"])
    demo_store.release()
    free = [c for c in range(1, 2001) if c not in already][:120]
    daemon_ids, analyst_ids = free[:60], free[60:]
    script = tmp_path / "writer.py"
    script.write_text(WRITER)
    procs = [
        subprocess.Popen(
            [sys.executable, str(script), str(demo_store.path), ",".join(map(str, ids)), who],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for who, ids in (("daemon", daemon_ids), ("analyst", analyst_ids))
    ]
    outputs = [p.communicate(timeout=300) for p in procs]
    for p, (out, err) in zip(procs, outputs, strict=True):
        assert p.returncode == 0, err
        assert "Error" not in err and "Traceback" not in err
        assert out.startswith("done")
    events = demo_store.events(kinds=["opt_out"], data_group="demo")
    mine = events.filter(events["reason"] == "concurrency")
    assert sorted(mine["contact_id"].to_list()) == sorted(free)
    assert set(mine.filter(mine["actor"] == "daemon")["contact_id"]) == set(daemon_ids)
    assert demo_store.events(kinds=["address_suppressed"]).height == len(free)
    assert set(free) <= set(demo_store.opted_out("demo", limit=None)["contact_id"])
    waits = sum(int(out.split()[1]) for out, _ in outputs)
    assert waits > 0, "the two writers never met each other's lock; the test proved nothing"


def test_lock_held_too_long_is_a_clear_error(tmp_path):
    import pytest

    from optdesk.errors import StoreBusy
    from optdesk.store import Store

    path = tmp_path / "held.duckdb"
    Store(path).release()
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); print('held', flush=True);"
         " time.sleep(5)", str(path)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(StoreBusy, match="locked"):
            Store(path, busy_timeout=0.5)
    finally:
        holder.kill()
        holder.wait()
