"""Which column of a contact export is which field of the import: presets (presets.yaml) and
``--map COLUMN=FIELD``."""

from __future__ import annotations

import functools
import pathlib
from dataclasses import dataclass

import yaml

from optdesk.errors import ImportFailed

HERE = pathlib.Path(__file__).resolve().parent
CONTACT_FIELDS = ("contact_id", "first_name", "last_name", "outlet", "outlet_id", "outlet_reach",
                  "title", "lists", "country", "language", "reach")
# the fields a contact's other rows must repeat unchanged (outlet_reach is the outlet's)
RECORD_FIELDS = ("first_name", "last_name", "outlet", "outlet_id", "title", "country", "language",
                 "reach")
LONG_FIELDS = ("email", "email_kind")  # one row per address, its kind in a column
WIDE_FIELDS = ("email_primary", "email_system", "email_private")  # one column per address
FIELDS = CONTACT_FIELDS + LONG_FIELDS + WIDE_FIELDS
MANY = ("email_system", "email_private")  # fields that several columns may carry


@dataclass(frozen=True)
class Mapping:
    name: str
    description: str
    columns: tuple[tuple[str, str], ...]  # (export column, field), in the preset's order

    def with_map(self, pairs: list[str]) -> Mapping:
        """This mapping with ``COLUMN=FIELD`` pairs added: a single field mapped again moves to
        the new column; email_system and email_private collect columns."""
        columns = list(self.columns)
        for pair in pairs:
            column, sep, target = pair.rpartition("=")
            column, target = column.strip(), target.strip()
            if not sep or not column or target not in FIELDS:
                raise ImportFailed(f"--map {pair!r}: write COLUMN=FIELD, FIELD one of "
                                   f"{', '.join(FIELDS)}")
            columns = [(c, f) for c, f in columns
                       if c != column and (f != target or target in MANY)]
            columns.append((column, target))
        return Mapping(self.name, self.description, tuple(columns))

    def present(self, header: list[str]) -> list[tuple[str, str]]:
        """The (column, field) pairs whose column is in this header."""
        return [(c, f) for c, f in self.columns if c in header]


def check(name: str, columns: list[tuple[str, str]], where: str) -> None:
    """ImportFailed when a mapping cannot be read: an unknown field, a single field given two
    columns, or both address shapes at once."""
    fields = [f for _, f in columns]
    unknown = sorted({f for f in fields if f not in FIELDS})
    if unknown:
        raise ImportFailed(f"{where}: preset {name}: unknown field(s) {', '.join(unknown)}")
    twice = sorted({f for f in fields if f not in MANY and fields.count(f) > 1})
    if twice:
        raise ImportFailed(f"{where}: preset {name}: field(s) {', '.join(twice)} given more "
                           "than one column")


@functools.cache
def presets() -> dict[str, Mapping]:
    with (HERE / "presets.yaml").open(encoding="utf-8") as fh:
        spec = yaml.safe_load(fh)
    out = {}
    for name, body in spec.items():
        columns = [(str(c), str(f)) for c, f in body["columns"].items()]
        check(name, columns, "presets.yaml")
        out[name] = Mapping(name, body.get("description", ""), tuple(columns))
    return out


def preset(name: str) -> Mapping:
    known = presets()
    if name not in known:
        raise ImportFailed(f"unknown preset {name!r}; one of {', '.join(known)}")
    return known[name]


def mapping_for(preset_name: str | None, pairs: list[str] | None) -> Mapping:
    """The preset (default ``generic``) with the ``--map`` pairs applied."""
    return preset(preset_name or "generic").with_map(list(pairs or []))
