"""`optdesk lab`: JupyterLab on notebooks/ with the configured store (demo store when absent);
`optdesk desk`: the same notebooks as an app (Voilà: widgets only, no code)."""

from __future__ import annotations

import argparse
import os
import pathlib
import sys

from optdesk.cli.common import stderr


def register(sub: argparse._SubParsersAction) -> None:
    from optdesk.settings import REPO_ROOT

    p = sub.add_parser("lab", help="open the analysts' notebooks in JupyterLab")
    p.add_argument("--notebooks", default=str(REPO_ROOT / "notebooks"),
                   help="folder Lab opens (default: the repository's notebooks/)")
    p.add_argument("--port", type=int, default=None, help="port (default: Jupyter's, 8888)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--token", default=None, help="access token (default: Jupyter makes one)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--demo-contacts", type=int, default=2000,
                   help="contacts of the demo store made when the store does not exist")
    p.set_defaults(func=cmd_lab)

    p = sub.add_parser("desk", help="the analysts' desk: the notebooks as an app (Voilà)")
    p.add_argument("--notebooks", default=str(REPO_ROOT / "notebooks"),
                   help="folder of the notebooks (default: the repository's notebooks/)")
    p.add_argument("--port", type=int, default=8866, help="port (default: 8866)")
    p.add_argument("--ip", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    p.add_argument("--token", default=None, help="access token (default: none on 127.0.0.1)")
    p.add_argument("--no-browser", action="store_true", help="do not open a browser")
    p.add_argument("--demo-contacts", type=int, default=2000,
                   help="contacts of the demo store made when the store does not exist")
    p.set_defaults(func=cmd_desk)


def lab_command(args: argparse.Namespace, notebooks: pathlib.Path) -> list[str]:
    """The jupyter-lab command line for these options."""
    cmd = [sys.executable, "-m", "jupyterlab", f"--ServerApp.root_dir={notebooks}",
           f"--ServerApp.ip={args.ip}"]
    if args.port is not None:
        cmd += [f"--ServerApp.port={args.port}", "--ServerApp.port_retries=0"]
    if args.token is not None:
        cmd.append(f"--IdentityProvider.token={args.token}")
    if args.no_browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    return cmd


# what the app serves besides the notebooks: the exports of 02 (notebooks/exports/)
DESK_FILES = r"exports/[^/]+\.(csv|parquet)$"


def desk_command(args: argparse.Namespace, notebooks: pathlib.Path) -> list[str]:
    """The voila command line for these options (tree of the notebooks, sources stripped)."""
    cmd = [sys.executable, "-m", "voila", str(notebooks), f"--Voila.ip={args.ip}",
           f"--port={args.port}", "--Voila.port_retries=0", "--strip_sources=True",
           f"--VoilaConfiguration.file_allowlist={DESK_FILES}",
           "--VoilaConfiguration.file_allowlist=.*\\.(png|jpg|gif|svg)$"]
    if args.token is not None:
        cmd.append(f"--token={args.token}")
    if args.no_browser:
        cmd.append("--no-browser")
    return cmd


def lab_environment(settings, db: pathlib.Path, config: str | None) -> dict[str, str]:
    """The kernels' environment: the store, data group and config this command was given."""
    env = dict(os.environ)
    env["OPTDESK_DB"] = str(db)
    env["OPTDESK_DATA_GROUP"] = settings.data_group
    if config:
        env["OPTDESK_CONFIG"] = str(pathlib.Path(config).resolve())
    # the kernels must be this venv's python3
    env["PATH"] = os.pathsep.join([str(pathlib.Path(sys.executable).parent), env.get("PATH", "")])
    return env


def _store_or_demo(settings, contacts: int, who: str) -> pathlib.Path:
    from optdesk.store import Store

    db = pathlib.Path(settings.db).expanduser().resolve()
    if not db.exists():
        stderr(f"{who}: {db} does not exist; creating a demo store ({contacts:,} contacts)")
        store = Store(db)
        store.init_demo(contacts, progress=lambda m: stderr(f"{who}: {m}"))
        store.release()
    return db


def cmd_desk(args, settings) -> int:
    db = _store_or_demo(settings, args.demo_contacts, "desk")
    notebooks = pathlib.Path(args.notebooks).resolve()
    env = lab_environment(settings, db, args.config)
    env["OPTDESK_EXPORT_DIR"] = str(notebooks / "exports")
    env["OPTDESK_FILES_URL"] = "/voila/files/"
    cmd = desk_command(args, notebooks)
    stderr(f"desk: http://{args.ip}:{args.port}/ — notebooks in {notebooks}, store {db}, "
           f"data group {settings.data_group!r}")
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)
    return 0  # not reached


def cmd_lab(args, settings) -> int:
    db = _store_or_demo(settings, args.demo_contacts, "lab")
    notebooks = pathlib.Path(args.notebooks).resolve()
    env = lab_environment(settings, db, args.config)
    env["OPTDESK_EXPORT_DIR"] = str(notebooks / "exports")
    env["OPTDESK_FILES_URL"] = "/files/"
    cmd = lab_command(args, notebooks)
    stderr(f"lab: notebooks in {notebooks}, store {db}, data group {settings.data_group!r}")
    sys.stdout.flush()
    os.execve(sys.executable, cmd, env)
    return 0  # not reached
