"""The data of this folder: column presets (presets.yaml), timestamp formats (timestamps.yaml)
and the privacy-prefetch rule (prefetch.yaml)."""

from __future__ import annotations

import functools
import pathlib
import re
from dataclasses import dataclass, field

import yaml

from optdesk.errors import ImportFailed

HERE = pathlib.Path(__file__).resolve().parent
EVENTS = ("delivered", "open", "click", "bounce", "unsubscribe", "complaint")
EVENT_FIELDS = ("email", "event", "timestamp", "user_agent", "url", "machine_open")
COUNT_FIELDS = ("email", "opens", "clicks", "timestamp")
FIELDS = tuple(dict.fromkeys(EVENT_FIELDS + COUNT_FIELDS))


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    columns: dict[str, str]  # export column -> field
    events: dict[str, str] = field(default_factory=dict)  # export value (lower) -> event
    skip: tuple[str, ...] = ()
    timestamp: str = "text"

    def with_map(self, pairs: list[str]) -> Preset:
        """This preset with ``COLUMN=FIELD`` pairs added (a field mapped again moves)."""
        columns = dict(self.columns)
        for pair in pairs:
            column, sep, target = pair.rpartition("=")
            if not sep or not column or target not in FIELDS:
                raise ImportFailed(f"--map {pair!r}: write COLUMN=FIELD, FIELD one of "
                                   f"{', '.join(FIELDS)}")
            columns = {c: f for c, f in columns.items() if f != target}
            columns[column] = target
        return Preset(self.name, self.description, columns, self.events, self.skip,
                      self.timestamp)


def _load(name: str):
    with (HERE / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


@functools.cache
def presets() -> dict[str, Preset]:
    out = {}
    for name, spec in _load("presets.yaml").items():
        events = {str(k).lower(): v for k, v in (spec.get("events") or {}).items()}
        bad = [v for v in list(spec["columns"].values()) if v not in FIELDS]
        bad += [v for v in events.values() if v not in EVENTS]
        if bad or spec.get("timestamp", "text") not in ("text", "unix"):
            raise ImportFailed(f"presets.yaml: preset {name}: unknown field or event {bad}")
        out[name] = Preset(name, spec.get("description", ""), dict(spec["columns"]), events,
                           tuple(str(s).lower() for s in spec.get("skip") or ()),
                           spec.get("timestamp", "text"))
    return out


def preset(name: str) -> Preset:
    known = presets()
    if name not in known:
        raise ImportFailed(f"unknown preset {name!r}; one of {', '.join(known)}")
    return known[name]


@functools.cache
def timestamp_formats() -> tuple[str, ...]:
    return tuple(_load("timestamps.yaml")["formats"])


@dataclass(frozen=True)
class PrefetchRule:
    window_seconds: float
    user_agents: tuple[re.Pattern, ...]


@functools.cache
def prefetch_rule() -> PrefetchRule:
    spec = _load("prefetch.yaml")
    return PrefetchRule(float(spec["window_seconds"]),
                        tuple(re.compile(p) for p in spec["user_agents"]))
