"""YAML data files (rules, lexicons, quoting vocabulary) read as node trees, so that every error
names the file and the line."""

from __future__ import annotations

import pathlib

import yaml

from optdesk.errors import RuleError

Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def compose_text(text: str, name: str) -> yaml.Node | None:
    """The node tree of ``text``; a YAML error as ``name:line: YAML error: …``."""
    try:
        return yaml.compose(text, Loader=Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        raise RuleError(f"{name}:{mark.line + 1 if mark else 1}: YAML error: {exc.problem or exc}") from None
    except yaml.YAMLError as exc:
        raise RuleError(f"{name}:1: YAML error: {exc}") from None


def compose_file(path: pathlib.Path, name: str) -> yaml.Node | None:
    """The node tree of a UTF-8 file; an unreadable file as ``name:1: cannot read: …``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RuleError(f"{name}:1: cannot read: {exc}") from None
    return compose_text(text, name)
