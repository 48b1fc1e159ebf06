"""The desk (`optdesk desk`, Voilà) on a 1,000,000-contact demo store in headless Chromium:
everyone opted out selected in 02, exported (progress, then the link), downloaded and read.

The store is built once and cached between runs (fixtures.demo_cache). Screenshot:
tests/artifacts/desk-02-export-1m.png.
"""

from __future__ import annotations

import pathlib
import re
import time
import urllib.error

import polars as pl
import pytest
from playwright.sync_api import Error as PlaywrightError

from fixtures.demo_cache import copy_of_cached_demo
from fixtures.jupyter import ARTIFACTS, NOTEBOOKS, open_app, screenshot, start_desk

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CONTACTS = 1_000_000
ISO_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"

# records whether "Exporting N contacts…" showed, and whether the export button was disabled then
WATCH = """() => {
  window.__export = {progress: null, disabled: null};
  new MutationObserver(() => {
    const shown = document.querySelector('.optdesk-exporting');
    if (shown && window.__export.progress === null) {
      window.__export.progress = shown.innerText;
      const b = [...document.querySelectorAll('.widget-button')]
        .find(x => x.innerText.includes('Export selection to CSV'));
      window.__export.disabled = b ? b.disabled : null;
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


@pytest.fixture(scope="module")
def desk_1m(tmp_path_factory):
    import shutil

    base = tmp_path_factory.mktemp("desk1m")
    root = base / "notebooks"
    root.mkdir()
    shutil.copy(NOTEBOOKS / "02-opted-out-contacts.ipynb", root)
    db = copy_of_cached_demo(CONTACTS, base / "optdesk.duckdb")
    env = {"OPTDESK_SELECTION": str(base / "selection.json"), "OPTDESK_ACTOR": "browser-analyst",
           "OPTDESK_DATA_GROUP": "demo"}
    server = start_desk(db, root, env)
    yield server
    server.stop()


def opted_out_count(db) -> int:
    import duckdb

    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT count(*) FROM optouts WHERE data_group = 'demo'").fetchone()[0]


def test_02_export_everyone_at_1m_and_download_it(desk_1m, browser_page):
    page = browser_page
    open_app(page, desk_1m, "02-opted-out-contacts.ipynb", ".optdesk-card", timeout=180_000)
    page.locator(".widget-button", has_text="Select all matching").click()
    label = page.get_by_text(re.compile(r"^[\d,]+ selected$"))
    label.wait_for(timeout=60_000)
    selected = int(label.inner_text().split()[0].replace(",", ""))
    assert selected > 90_000  # everyone opted out of demo, on every page
    page.evaluate(WATCH)
    started = time.monotonic()
    page.locator(".widget-button", has_text="Export selection to CSV").click()
    shoot_progress(page, "desk-02-exporting-1m")
    link = page.locator("a.optdesk-download")
    link.wait_for(timeout=60_000)
    took = time.monotonic() - started
    seen = page.evaluate("window.__export")
    assert seen["progress"] == f"Exporting {selected:,} contacts…", seen
    assert seen["disabled"] is True, seen
    assert page.locator(".widget-button", has_text="Export selection to CSV").is_enabled()
    page.get_by_text(f"{selected:,} contacts exported").wait_for()
    href = link.get_attribute("href")
    assert re.fullmatch(r"/voila/files/exports/opted-out-demo-\d{4}-\d\d-\d\d-\d{6}-UTC\.csv",
                        href), href
    screenshot(page, "desk-02-export-1m")
    with page.expect_download(timeout=120_000) as info:
        link.click()
    download = info.value
    assert download.suggested_filename == href.rsplit("/", 1)[1]
    csv = pl.read_csv(download.path(), infer_schema=False)
    assert csv.height == selected == opted_out_count(desk_1m.db)
    assert csv.columns[:5] == ["contact_id", "name", "email", "addresses", "outlet"]
    assert "opted_out_at" in csv.columns
    assert csv["email"].null_count() == 0 and csv["email"].str.contains("@").all()
    several = csv.filter(pl.col("addresses").str.contains("; "))
    assert several.height > 0  # contacts with more than one address carry them all
    assert (several["addresses"].str.split("; ").list.first() == several["email"]).all()
    assert csv["opted_out_at"].str.contains(ISO_UTC).all()
    assert page.dialogs == []
    written = page.locator(".optdesk-took").inner_text()
    print(f"export of {selected:,} contacts: click to link {took:.1f} s, {written}")


def shoot_progress(page, name: str) -> None:
    """The export's progress, if it is still running when the picture is taken."""
    try:
        page.locator(".widget-vbox:has(> .widget-hbox .widget-button:text('Export selection'))"
                     ).last.screenshot(path=str(ARTIFACTS / f"{name}.png"), timeout=3_000)
    except PlaywrightError:
        pass


def start_plain(kind, cmd: list[str], url: str, token: str, root, db, base, ready: str):
    """Start a Jupyter server as an analyst might (not through optdesk): no OPTDESK_FILES_URL
    or export folder, the store and actor in the environment; return once ``ready`` answers."""
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items()
           if k not in ("OPTDESK_FILES_URL", "OPTDESK_EXPORT_DIR", "OPTDESK_CONFIG")}
    env.update(OPTDESK_DB=str(db), OPTDESK_DATA_GROUP="demo", OPTDESK_ACTOR="browser-analyst",
               OPTDESK_SELECTION=str(base / "selection.json"),
               PATH=f"{pathlib.Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}")
    log = base / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                start_new_session=True)
    server = kind(url, token, root, db, proc, log)
    deadline = time.monotonic() + 60
    while True:
        try:
            server.get(ready)
            return server
        except (urllib.error.URLError, OSError):
            if time.monotonic() > deadline or proc.poll() is not None:
                server.stop()
                raise RuntimeError(f"{cmd[2]} did not start: {log.read_text()[-2000:]}") from None
            time.sleep(0.2)


@pytest.fixture(scope="module")
def plain_lab(tmp_path_factory):
    """JupyterLab started as an analyst might (`jupyter lab`, not `optdesk lab`): served root
    above the notebooks' folder, no OPTDESK_FILES_URL, a 2,000-contact demo store."""
    import os
    import secrets
    import shutil
    import sys

    from fixtures.jupyter import Lab, free_port
    from optdesk.store import Store

    base = tmp_path_factory.mktemp("plainlab")
    root = base / "home"
    notebooks = root / "team" / "notebooks"
    notebooks.mkdir(parents=True)
    shutil.copy(NOTEBOOKS / "02-opted-out-contacts.ipynb", notebooks)
    db = base / "optdesk.duckdb"
    store = Store(db)
    store.init_demo(2000)
    store.release()
    port, token = free_port(), secrets.token_hex(8)
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={root}",
           "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
           f"--IdentityProvider.token={token}", "--no-browser"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    lab = start_plain(Lab, cmd, f"http://127.0.0.1:{port}", token, root, db, base, "/api/status")
    yield lab
    lab.stop()


def test_02_in_a_plain_jupyter_lab_the_export_links_through_its_files_handler(plain_lab,
                                                                              browser_page):
    from fixtures.jupyter import open_and_run

    page = browser_page
    open_and_run(page, plain_lab, "team/notebooks/02-opted-out-contacts.ipynb")
    page.locator(".widget-button", has_text="Select page").click()
    page.get_by_text("24 selected").wait_for(timeout=15_000)
    page.locator(".widget-button", has_text="Export selection to CSV").click()
    shoot_progress(page, "lab-02-exporting")
    link = page.locator("a.optdesk-download")
    link.wait_for(timeout=30_000)
    href = link.get_attribute("href")
    assert href.startswith("/files/team/notebooks/exports/opted-out-demo-"), href
    screenshot(page, "lab-02-export-files-handler")
    with page.expect_download() as info:
        link.click()
    csv = pl.read_csv(info.value.path())
    assert csv.height == 24 and csv["email"].null_count() == 0
    assert (plain_lab.root / "team" / "notebooks" / "exports" / href.rsplit("/", 1)[1]).exists()


@pytest.fixture(scope="module")
def plain_voila(tmp_path_factory):
    """A stand-alone `voila` (not `optdesk desk`) over a folder with 02, told to serve exports/
    *.csv (its file_allowlist), a 2,000-contact demo store, no OPTDESK_FILES_URL."""
    import secrets
    import shutil
    import sys

    from fixtures.jupyter import Desk, free_port
    from optdesk.store import Store

    base = tmp_path_factory.mktemp("plainvoila")
    root = base / "desk"
    (root / "views").mkdir(parents=True)
    shutil.copy(NOTEBOOKS / "02-opted-out-contacts.ipynb", root / "views")
    db = base / "optdesk.duckdb"
    store = Store(db)
    store.init_demo(2000)
    store.release()
    port, token = free_port(), secrets.token_hex(8)
    cmd = [sys.executable, "-m", "voila", str(root), "--Voila.ip=127.0.0.1", f"--port={port}",
           "--Voila.port_retries=0", "--no-browser", f"--token={token}",
           r"--VoilaConfiguration.file_allowlist=.*exports/[^/]+\.csv$"]
    voila = start_plain(Desk, cmd, f"http://127.0.0.1:{port}", token, root, db, base, "/")
    yield voila
    voila.stop()


def test_02_in_a_stand_alone_voila_the_export_links_through_its_files(plain_voila,
                                                                      browser_page):
    page = browser_page
    open_app(page, plain_voila, "views/02-opted-out-contacts.ipynb", ".optdesk-card")
    page.locator(".widget-button", has_text="Select page").click()
    page.get_by_text("24 selected").wait_for(timeout=15_000)
    page.locator(".widget-button", has_text="Export selection to CSV").click()
    link = page.locator("a.optdesk-download")
    link.wait_for(timeout=30_000)
    href = link.get_attribute("href")
    assert href.startswith("/voila/files/views/exports/opted-out-demo-"), href
    with page.expect_download() as info:
        link.click()
    assert pl.read_csv(info.value.path()).height == 24
    screenshot(page, "voila-02-export-files")
