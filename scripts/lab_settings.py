"""Silence JupyterLab's news pop-up in this venv (it would try the network and cover widgets)."""

import json
import pathlib
import sys

settings = pathlib.Path(sys.prefix) / "share/jupyter/lab/settings"
settings.mkdir(parents=True, exist_ok=True)
(settings / "overrides.json").write_text(
    json.dumps(
        {
            "@jupyterlab/apputils-extension:notification": {
                "fetchNews": "false",
                "checkForUpdates": False,
            }
        },
        indent=2,
    )
)
