"""The pages of the one-click endpoint: texts from ``pages/<language>.yaml``, every text escaped.

``page(kind, language)`` is a whole HTML page: a heading and a paragraph, and for ``confirm`` one
button (a POST form to the same URL, carrying ``List-Unsubscribe=One-Click``). No scripts, no
outside files.
"""

from __future__ import annotations

import functools
import pathlib
from html import escape

import yaml

from optdesk.errors import ConfigError

PAGES = pathlib.Path(__file__).resolve().parent / "pages"
DEFAULT = "en"
KINDS = ("confirm", "done", "already", "reused", "bad", "expired", "unknown", "not_one_click",
         "busy", "too_many", "too_large")

CSS = ("body{font-family:system-ui,Arial,sans-serif;max-width:34em;margin:3em auto;padding:0 1em;"
       "color:#222;line-height:1.5}button{font-size:1.1em;padding:.5em 1.4em;cursor:pointer}")


@functools.cache
def texts() -> dict[str, dict[str, str]]:
    """language → key → text, each file checked to have every key of the English one."""
    found: dict[str, dict[str, str]] = {}
    for path in sorted(PAGES.glob("*.yaml")):
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"{path}: cannot read the page texts: {exc}") from None
        if not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values()):
            raise ConfigError(f"{path}: must be a mapping of key: text")
        found[path.stem] = data
    need = set(found.get(DEFAULT, {}))
    for language, data in found.items():
        missing = need - set(data)
        if missing:
            raise ConfigError(f"{PAGES / language}.yaml: missing {', '.join(sorted(missing))}")
    return found


def language_of(*candidates: str | None, accept: str | None = None) -> str:
    """The first candidate we have texts for (``fr``, ``fr-CA``, ``FR``), else the best of an
    Accept-Language header, else English."""
    have = texts()
    for value in candidates:
        code = (value or "").strip().lower().replace("_", "-").split("-")[0]
        if code in have:
            return code
    weighted = []
    for part in (accept or "")[:500].split(","):
        tag, _, q = part.strip().partition(";q=")
        try:
            weight = float(q) if q else 1.0
        except ValueError:
            continue
        weighted.append((-weight, tag))
    for _, tag in sorted(weighted):
        code = tag.strip().lower().split("-")[0]
        if code in have:
            return code
    return DEFAULT


def page(kind: str, language: str) -> str:
    """The whole page of ``kind`` (one of KINDS) in ``language`` (one language_of gave)."""
    if kind not in KINDS:
        raise ValueError(f"unknown page {kind!r}")
    t = texts()[language]
    body = f"<h1>{escape(t[kind + '_heading'])}</h1><p>{escape(t[kind + '_text'])}</p>"
    if kind == "confirm":
        body += ('<form method="post"><input type="hidden" name="List-Unsubscribe" '
                 'value="One-Click"><input type="hidden" name="lang" '
                 f'value="{escape(language)}"><button type="submit">{escape(t["button"])}'
                 "</button></form>")
    return (f'<!doctype html><html lang="{escape(language)}"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            '<meta name="robots" content="noindex">'
            f"<title>{escape(t['title'])}</title><style>{CSS}</style></head>"
            f"<body>{body}</body></html>")
