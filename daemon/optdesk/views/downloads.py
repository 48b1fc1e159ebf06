"""Where a view writes an export, and the link that downloads it, wherever the view runs.

In order:

1. ``optdesk desk`` / ``optdesk lab`` set $OPTDESK_EXPORT_DIR (notebooks/exports/) and
   $OPTDESK_FILES_URL (``/voila/files/``, ``/files/``): the file goes there and is served by the
   app's file handler (``DESK_FILES`` allowlist of the desk).
2. A kernel of some other Jupyter server (Lab, Notebook, Voilà as a server extension): the file
   goes to exports/ beside the notebook (inside the server's root) and the link goes through the
   server's files handler, ``{base_url}files/<path from the root>``. The server is the running
   one (``jpserver-*.json`` in Jupyter's runtime folder) whose root holds the notebook.
3. A stand-alone Voilà (``voila notebook.ipynb``): exports/ beside the notebook, linked through
   ``/voila/files/`` when Voilà answers for the file (its ``file_allowlist`` decides).
4. Anything else (a plain kernel, a script, VS Code): exports/ beside the store; a ``data:``
   link up to ``DATA_URL_LIMIT`` bytes, else a message saying no server can serve the file and
   how to get one — never a bare server path posing as a link.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import pathlib
import urllib.error
import urllib.parse
import urllib.request

DATA_URL_LIMIT = 5_000_000  # bytes inlined as a data: link when no file server is known
PROBE_TIMEOUT = 2.0  # seconds to wait for a stand-alone Voilà to answer for a file


@dataclasses.dataclass(frozen=True)
class Place:
    """Where exports go (``folder``) and how the browser reaches them.

    ``root``/``base``: files under ``root`` are served at ``base`` + their path from ``root``
    (``base`` ends with ``/``); None when no server is known. ``probe``: the URL prefix the kernel
    asks (HEAD) before offering a link, for servers whose allowlist it cannot know.
    """

    folder: pathlib.Path
    root: pathlib.Path | None = None
    base: str | None = None
    probe: str | None = None
    server: str = "none"  # "desk", "jupyter", "voila", "none": who serves, for messages

    def href(self, path: pathlib.Path) -> str | None:
        """The link that downloads ``path``, or None when nothing can serve it."""
        served = self._served(path)
        if served is not None:
            return served
        if path.stat().st_size <= DATA_URL_LIMIT:
            return "data:text/csv;base64," + base64.b64encode(path.read_bytes()).decode("ascii")
        return None

    def _served(self, path: pathlib.Path) -> str | None:
        if self.root is None or self.base is None:
            return None
        try:
            relative = path.resolve().relative_to(self.root.resolve())
        except ValueError:
            return None
        if self.server == "jupyter" and any(p.startswith(".") for p in relative.parts):
            return None  # Jupyter's files handler refuses hidden paths (allow_hidden is off)
        quoted = "/".join(urllib.parse.quote(p) for p in relative.parts)
        if self.probe is not None and not _answers(self.probe + quoted):
            return None
        return self.base + quoted

    def unserved_message(self, path: pathlib.Path) -> str:
        """Why there is no link for ``path`` and how to get one (plain text)."""
        size = path.stat().st_size / 1e6
        if self.server == "voila":
            return (f"The file ({size:,.1f} MB) is too big to hand over in the page, and this Voilà "
                    "does not serve exports/ (start it with `optdesk desk`, or add "
                    "'exports/.*\\.csv' to its file_allowlist). It is saved on the server as "
                    f"{path.name} in {path.parent}.")
        return (f"The file ({size:,.1f} MB) is too big to hand over in the page, and no Jupyter "
                "server serves this notebook's folder: open the desk with `optdesk desk` (or "
                f"`optdesk lab`) to download it. It is saved on the server as {path.name} in "
                f"{path.parent}.")


def export_place(fallback: pathlib.Path, folder: pathlib.Path | None = None,
                 env: dict[str, str] | None = None, cwd: pathlib.Path | None = None,
                 in_kernel: bool | None = None, runtime_dir: pathlib.Path | None = None) -> Place:
    """Where this process's exports go and how they are served (see the module's text).

    ``folder``: the folder asked for (kept; linked when it lies under the served root);
    ``fallback``: where exports go when nothing serves them (beside the store). The other
    arguments are for tests: the environment, the notebook's folder, whether this runs in a
    Jupyter kernel, Jupyter's runtime folder.
    """
    env = os.environ if env is None else env
    cwd = (cwd or pathlib.Path.cwd()).resolve()
    if env.get("OPTDESK_FILES_URL") and env.get("OPTDESK_EXPORT_DIR"):
        exports = pathlib.Path(env["OPTDESK_EXPORT_DIR"])
        return Place(folder or exports, exports.resolve().parent, env["OPTDESK_FILES_URL"],
                     server="desk")
    if in_kernel is None:
        in_kernel = _in_kernel()
    if in_kernel:
        place = _voila_place(env, cwd, folder)
        if place is None:
            place = _jupyter_place(env, cwd, folder, runtime_dir)
        if place is not None:
            return place
    return Place(folder or fallback)


def _voila_place(env, cwd: pathlib.Path, folder) -> Place | None:
    """A stand-alone Voilà (its request in the kernel's environment, on a port no Jupyter server
    of the runtime folder has); None otherwise."""
    if not env.get("SERVER_SOFTWARE", "").startswith("voila/"):
        return None
    port = env.get("SERVER_PORT", "")
    if port and any(str(s.get("port")) == port for s in running_servers()):
        return None  # Voilà as an extension of a Jupyter server: its files handler serves
    script = env.get("SCRIPT_NAME", "/")
    if "/voila/render/" in script:
        prefix, notebook = script.split("/voila/render/", 1)
        base = prefix.rstrip("/") + "/"
        depth = len(pathlib.PurePosixPath(urllib.parse.unquote(notebook)).parts) - 1
        if depth > len(cwd.parents):
            return Place(folder or cwd / "exports", server="voila")
        root = cwd.parents[depth - 1] if depth > 0 else cwd
    else:  # one notebook: Voilà's root is the notebook's folder
        base, root = script.rsplit("/", 1)[0] + "/", cwd
    if not port:  # nothing to ask whether it serves the file: no link rather than a dead one
        return Place(folder or cwd / "exports", server="voila")
    host = env.get("SERVER_NAME") or "127.0.0.1"
    probe = f"http://{host}:{port}{base}voila/files/"
    return Place(folder or cwd / "exports", root, base + "voila/files/", probe=probe,
                 server="voila")


def _jupyter_place(env, cwd: pathlib.Path, folder, runtime_dir) -> Place | None:
    """The running Jupyter server whose root holds the notebook's folder, if any."""
    notebook_dir = cwd
    session = env.get("JPY_SESSION_NAME")
    if session and os.path.isabs(session):
        notebook_dir = pathlib.Path(session).resolve().parent
    best: tuple[int, dict] | None = None
    for info in running_servers(runtime_dir):
        root = pathlib.Path(info.get("root_dir") or info.get("notebook_dir") or "/").resolve()
        if notebook_dir == root or root in notebook_dir.parents:
            depth = len(root.parts)
            if best is None or depth > best[0]:
                best = (depth, info)
    if best is None:
        return None
    info = best[1]
    root = pathlib.Path(info.get("root_dir") or info.get("notebook_dir")).resolve()
    base = (info.get("base_url") or "/").rstrip("/") + "/"
    return Place(folder or notebook_dir / "exports", root, base + "files/", server="jupyter")


def running_servers(runtime_dir: pathlib.Path | None = None) -> list[dict]:
    """The live Jupyter servers' info files (``jpserver-*.json``), read without side effects."""
    if runtime_dir is None:
        try:
            from jupyter_core.paths import jupyter_runtime_dir
        except ImportError:
            return []
        runtime_dir = pathlib.Path(jupyter_runtime_dir())
    found = []
    for info_file in sorted(pathlib.Path(runtime_dir).glob("jpserver-*.json")):
        try:
            info = json.loads(info_file.read_text(encoding="utf-8"))
            pid = int(info["pid"])
            os.kill(pid, 0)
        except (OSError, ValueError, KeyError, TypeError):
            continue  # half-written, or its server is gone
        found.append(info)
    return found


def _in_kernel() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and getattr(shell, "kernel", None) is not None


def _answers(url: str) -> bool:
    """Whether the server gives the file at ``url`` (HEAD, 200)."""
    request = urllib.request.Request(url, method="HEAD")
    try:
        with urllib.request.urlopen(request, timeout=PROBE_TIMEOUT) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False
