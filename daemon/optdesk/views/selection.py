"""Hand a selection of contacts from one notebook to another (01/02 → 03 invitations).

Each notebook runs in its own kernel, so ``set_selection`` keeps the selection in this module
AND writes it to a small JSON file; ``get_selection`` reads the file (the newest selection from
any kernel) and falls back to this module's copy. The file is ``$OPTDESK_SELECTION`` when set,
else ``data/cache/selection.json`` under the repository root; pass ``path=`` to override.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import os
import pathlib
from collections.abc import Iterable

from optdesk.errors import OptdeskError

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class Selection:
    """Contacts picked by an analyst in one data group; ``origin`` names the notebook."""

    data_group: str
    contact_ids: tuple[int, ...]
    origin: str = ""
    created_at: str = ""

    def __len__(self) -> int:
        return len(self.contact_ids)


_current: Selection | None = None


def selection_path(path: str | os.PathLike | None = None) -> pathlib.Path:
    """The hand-off file: ``path``, else $OPTDESK_SELECTION, else data/cache/selection.json."""
    if path is not None:
        return pathlib.Path(path)
    if os.environ.get("OPTDESK_SELECTION"):
        return pathlib.Path(os.environ["OPTDESK_SELECTION"])
    from optdesk.settings import REPO_ROOT

    return REPO_ROOT / "data" / "cache" / "selection.json"


def set_selection(data_group: str, contact_ids: Iterable[int], origin: str = "",
                  path: str | os.PathLike | None = None) -> Selection:
    """Remember these contacts for the invitation notebook; returns the stored selection."""
    global _current
    if not data_group:
        raise ValueError("a selection needs a data group")
    ids = tuple(dict.fromkeys(int(i) for i in contact_ids))
    now = dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat()
    selection = Selection(data_group, ids, origin, now)
    _current = selection
    target = selection_path(path)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".tmp")
        tmp.write_text(json.dumps(dataclasses.asdict(selection)), encoding="utf-8")
        os.replace(tmp, target)
    except OSError as exc:
        raise OptdeskError(f"cannot write the selection file {target}: {exc}") from exc
    return selection


def get_selection(path: str | os.PathLike | None = None) -> Selection | None:
    """The latest selection from any notebook, or None when there is none."""
    source = selection_path(path)
    try:
        data = json.loads(source.read_text(encoding="utf-8"))
        return Selection(
            data_group=str(data["data_group"]),
            contact_ids=tuple(int(i) for i in data["contact_ids"]),
            origin=str(data.get("origin", "")),
            created_at=str(data.get("created_at", "")),
        )
    except FileNotFoundError:
        return _current
    except (OSError, ValueError, KeyError, TypeError) as exc:
        log.warning("ignoring unreadable selection file %s: %s", source, exc)
        return _current


def clear_selection(path: str | os.PathLike | None = None) -> None:
    """Forget the selection, here and in the file."""
    global _current
    _current = None
    selection_path(path).unlink(missing_ok=True)
