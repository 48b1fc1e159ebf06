"""Where exports of 02 go and the link that downloads them: the desk, another Jupyter server, a
stand-alone Voilà, nothing (optdesk.views.downloads); progress of a long export."""

from __future__ import annotations

import http.server
import json
import os
import pathlib
import threading

import polars as pl
import pytest

from optdesk.views import downloads
from optdesk.views.opted_out import OptedOutView


def write(path: pathlib.Path, size: int = 10) -> pathlib.Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"a" * size)
    return path


def server_info(runtime: pathlib.Path, root: pathlib.Path, *, pid: int | None = None,
                base_url: str = "/", port: int = 8888, name: str = "1") -> None:
    runtime.mkdir(parents=True, exist_ok=True)
    info = {"pid": pid or os.getpid(), "root_dir": str(root), "base_url": base_url,
            "port": port, "url": f"http://127.0.0.1:{port}{base_url}"}
    (runtime / f"jpserver-{name}.json").write_text(json.dumps(info), encoding="utf-8")


def test_the_desk_serves_its_exports_folder(tmp_path):
    env = {"OPTDESK_FILES_URL": "/voila/files/", "OPTDESK_EXPORT_DIR": str(tmp_path / "exports")}
    place = downloads.export_place(tmp_path / "beside-store", env=env, in_kernel=True)
    assert place.folder == tmp_path / "exports" and place.server == "desk"
    path = write(place.folder / "opted-out demo.csv", 6_000_000)
    assert place.href(path) == "/voila/files/exports/opted-out%20demo.csv"


def test_another_jupyter_server_links_through_its_files_handler(tmp_path):
    runtime, root = tmp_path / "runtime", tmp_path / "home"
    notebooks = root / "work" / "optdesk"
    notebooks.mkdir(parents=True)
    server_info(runtime, tmp_path, name="outer", port=9000)  # a server on a wider root
    server_info(runtime, root, base_url="/user/ana/", name="inner")
    server_info(runtime, notebooks, pid=2**22 + 12345, name="dead")  # its process is gone
    place = downloads.export_place(tmp_path / "beside-store", env={}, cwd=notebooks,
                                   in_kernel=True, runtime_dir=runtime)
    assert place.server == "jupyter" and place.folder == notebooks / "exports"
    path = write(place.folder / "x.csv", 6_000_000)  # over the data: limit, still a link
    assert place.href(path) == "/user/ana/files/work/optdesk/exports/x.csv"


def test_a_hidden_folder_is_not_linked_through_jupyter(tmp_path):
    runtime, notebooks = tmp_path / "runtime", tmp_path / ".work" / "nb"
    notebooks.mkdir(parents=True)
    server_info(runtime, tmp_path)
    place = downloads.export_place(tmp_path / "beside-store", env={}, cwd=notebooks,
                                   in_kernel=True, runtime_dir=runtime)
    assert place.href(write(place.folder / "x.csv", 100)).startswith("data:")


def test_a_notebook_outside_every_server_root_gets_no_served_link(tmp_path):
    runtime = tmp_path / "runtime"
    server_info(runtime, tmp_path / "elsewhere")
    place = downloads.export_place(tmp_path / "beside-store", env={}, cwd=tmp_path,
                                   in_kernel=True, runtime_dir=runtime)
    assert place.server == "none" and place.folder == tmp_path / "beside-store"


class FilesServer(http.server.BaseHTTPRequestHandler):
    """A stand-in for Voilà's /voila/files/: serves *.csv under exports/ only."""

    def do_HEAD(self):  # noqa: N802 - the handler's name
        ok = self.path.startswith("/voila/files/exports/") and self.path.endswith(".csv")
        self.send_response(200 if ok else 403)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def voila_port():
    server = http.server.HTTPServer(("127.0.0.1", 0), FilesServer)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_port
    server.shutdown()
    server.server_close()


def test_a_stand_alone_voila_links_only_what_it_serves(tmp_path, voila_port):
    nb = tmp_path / "nb"
    nb.mkdir()
    env = {"SERVER_SOFTWARE": "voila/0.5.13", "SERVER_PORT": str(voila_port),
           "SERVER_NAME": "127.0.0.1", "SCRIPT_NAME": "/voila/render/02.ipynb"}
    place = downloads.export_place(tmp_path / "beside-store", env=env, cwd=nb, in_kernel=True,
                                   runtime_dir=tmp_path / "runtime")
    assert place.server == "voila" and place.folder == nb / "exports"
    big = write(place.folder / "x.csv", 6_000_000)
    assert place.href(big) == "/voila/files/exports/x.csv"
    refused = write(place.folder / "x.parquet", 6_000_000)  # not allowed: no dead link
    assert place.href(refused) is None
    assert "file_allowlist" in place.unserved_message(refused)


def test_without_a_server_a_small_file_is_inlined_and_a_big_one_explained(tmp_path):
    place = downloads.export_place(tmp_path / "beside-store", env={}, in_kernel=False)
    small = write(place.folder / "s.csv", 100)
    assert place.href(small).startswith("data:text/csv;base64,")
    big = write(place.folder / "b.csv", downloads.DATA_URL_LIMIT + 1)
    assert place.href(big) is None
    message = place.unserved_message(big)
    assert "optdesk desk" in message and "5.0 MB" in message


def test_a_big_export_without_a_server_says_how_to_download_it(demo_store, tmp_path,
                                                               monkeypatch):
    monkeypatch.delenv("OPTDESK_FILES_URL", raising=False)
    monkeypatch.setattr(downloads, "DATA_URL_LIMIT", 100)
    view = OptedOutView(demo_store, "demo", actor="ana", debounce=0,
                        export_dir=tmp_path / "exports")
    view.select(view.page_ids)
    path = view.actions.export_csv()
    html = view.actions.download.value
    assert "<a " not in html and "optdesk desk" in html and "optdesk-unserved" in html
    assert path.name.startswith("opted-out-demo-") and path.name.endswith("-UTC.csv")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")  # Excel reads the accents right
    frame = pl.read_csv(path)
    assert frame.columns[:5] == ["contact_id", "name", "email", "addresses", "outlet"]
    assert frame.height == len(view.page_ids)


def test_a_long_export_shows_progress_with_the_button_disabled(demo_store, tmp_path,
                                                               monkeypatch):
    monkeypatch.setenv("OPTDESK_EXPORT_DIR", str(tmp_path / "nb" / "exports"))
    monkeypatch.setenv("OPTDESK_FILES_URL", "/voila/files/")
    view = OptedOutView(demo_store, "demo", actor="ana", debounce=0, background=True)
    view.select_all_matching()
    release, real = threading.Event(), demo_store.opted_out_export

    def slow_export(*args):
        release.wait(10)
        return real(*args)

    monkeypatch.setattr(demo_store, "opted_out_export", slow_export)
    actions = view.actions
    assert actions.export_csv() is None  # in a thread
    assert f"Exporting {len(view.selected):,} contacts…" in actions.download.value
    assert actions.export_button.disabled and actions.exporting
    view.show_selection()  # a re-render while it runs keeps the button disabled
    assert actions.export_button.disabled
    actions.export_csv()  # a second click meanwhile starts nothing
    assert "An export is running" in actions.status.text
    release.set()
    actions._export_thread.join(10)
    assert not actions.exporting and not actions.export_button.disabled
    assert f"{len(view.selected):,} contacts exported" in actions.download.value
    assert "href='/voila/files/exports/opted-out-demo-" in actions.download.value
    assert pl.read_csv(actions.last_export).height == len(view.selected)
