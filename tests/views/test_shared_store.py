"""While another process writes to the store (as the daemon does), the views keep working:
no lock error reaches the analyst, and no write is lost on either side."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from optdesk.views.opted_out import OptedOutView
from optdesk.views.optout_contact import OptOutContactView

WRITER = textwrap.dedent("""
    import sys, time
    from optdesk.store import Store
    store = Store(sys.argv[1])
    ids = [int(x) for x in sys.argv[2].split(",")]
    print("ready", flush=True)
    for i, cid in enumerate(ids):
        with store.transaction():
            store.opt_out(cid, "demo", source="reply", actor="daemon", reason=f"batch {i}")
            time.sleep(0.05)  # a batch holding the file, as the daemon's does
        store.release()
        time.sleep(0.02)
    print("done", len(ids), flush=True)
""")


@pytest.mark.slow
def test_views_work_while_another_process_writes(demo_store):
    found = demo_store.find_contacts("a", "demo", 200)
    mailable = [r["contact_id"] for r in found.iter_rows(named=True) if not r["opted_out"]]
    daemon_ids, mine = mailable[:40], mailable[40:45]
    demo_store.release()
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(demo_store.path),
                             ",".join(map(str, daemon_ids))], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        contact = OptOutContactView(demo_store, "demo", actor="ana", debounce=0)
        listing = OptedOutView(demo_store, "demo", actor="ana", debounce=0, page_size=10)
        errors = []
        for i, cid in enumerate(mine):
            contact.search.value = ["du", "mar", "sch", "lu", "an"][i]
            contact.show_contact(cid)
            contact.optout_button.click()
            contact.confirm_button.click()
            listing.next_button.click()
            listing.filters.sort_by.value = ["reach", "name", "outlet", "opted_out_at", "name"][i]
            errors += [v.status.text for v in (contact, listing) if "optdesk-err" in v.status.text]
            demo_store.release()
        assert errors == []
        assert proc.wait(60) == 0 and proc.stdout.readline().strip() == f"done {len(daemon_ids)}"
    finally:
        if proc.poll() is None:
            proc.kill()
    for cid in daemon_ids:
        assert demo_store.contact(cid, "demo")["optout"]["actor"] == "daemon"
    for cid in mine:
        assert demo_store.contact(cid, "demo")["optout"]["actor"] == "ana"
    print("LOCK_WAITS", demo_store.db.lock_waits)
    assert demo_store.db.lock_waits > 0, "the test must make the views wait for the file"
