"""The daemon's destination folders (``[folders]``), checked and created before the first poll.

A poll commits a batch to the store and only then moves its messages. A destination folder the
server cannot take — the inbox itself, a name the server refuses, a part holding its hierarchy
separator — used to fail at that move: the opt-outs applied, the mail never filed, ``last_uid``
stuck, on every poll. So before anything is applied, every folder is checked (the name itself,
then by the source: ``ensure_folder``, which creates what is missing) and a bad one is refused
with one line naming the setting and where it came from.
"""

from __future__ import annotations

import logging

from optdesk.errors import ConfigError
from optdesk.settings import Settings, origin
from optdesk.settings_checks import folder_problem

log = logging.getLogger(__name__)


def prepare_folders(source, settings: Settings, *, create: bool = True) -> None:
    """Check every ``settings.folders`` entry; with ``create``, make the missing ones.

    Raises ConfigError (``optdesk.toml: folders.opt_out = "INBOX": …``) for a folder that
    cannot be used; mailbox errors (server down, login refused) propagate as they are. A source
    without ``ensure_folder`` (the test fake) gets the name checks only.
    """
    ensure = getattr(source, "ensure_folder", None)
    for kind, name in settings.folders.items():
        key = f"folders.{kind}"
        reason = folder_problem(name)
        if reason is None and ensure is not None:
            try:
                ensure(name, create=create)
            except ConfigError as exc:
                reason = str(exc)
        if reason is not None:
            raise ConfigError(f"{origin(settings, key)}: {key} = {name!r}: {reason}")
