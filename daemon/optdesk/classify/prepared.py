"""The rules as the classifier uses them, prepared once and kept between runs.

Loading ``rules/`` means parsing YAML, validating every rule, indexing 13 lexicons for stems and
typos, compiling some 600 regular expressions, analysing the bounce patterns for their anchors
and literals, and (on the first bounce) parsing the Public Suffix List: about 0.7 s of every
start. ``prepared_rules`` does all of it, and keeps the result in a cache file keyed by the
SHA-256 of everything it was built from (every file of the rules directory with its path, the
optdesk package's source, the Python and publicsuffixlist versions). A later start with the same
inputs reads that file instead; a change to any rules file, to optdesk or to Python makes a new
key, so a cached state is never used for other rules. Only rules that loaded without error are
ever stored, so errors are always reported from the files themselves, with file and line.

Regular expressions are stored as what the stdlib's regex compiler makes of them (the
engine's instruction list, groups and flags) and handed straight back to the engine: some 600
patterns are ready in milliseconds instead of the 0.4 s their compilation takes, in every
worker process. Where this Python lays its engine out otherwise, a pattern is stored as its
source and compiled on first use (``LazyPattern``).

The cache is a pickle, trusted like Python's own ``.pyc`` files: it is written only by this
module, into ``OPTDESK_CACHE_DIR`` (default ``$XDG_CACHE_HOME/optdesk`` or ``~/.cache/optdesk``),
a directory of mode 0700, file mode 0600, atomically (written aside, then renamed). A cache that
cannot be read or written is skipped (logged at DEBUG): the rules are then loaded from the files.
``OPTDESK_CACHE_DIR=off`` turns it off.
"""

from __future__ import annotations

import gc
import hashlib
import io
import logging
import os
import pathlib
import pickle
import re
import sys
import tempfile
from array import array
from contextlib import contextmanager

from optdesk.classify.rules import RuleSet, load_rules

log = logging.getLogger(__name__)

FORMAT = 1  # bump when what is stored changes shape
KEEP = 8  # prepared states kept (several rules directories, or versions, in use)
_COMPILED = ("search", "match", "fullmatch", "finditer", "findall", "sub", "subn", "split",
             "groupindex", "groups", "scanner")


class LazyPattern:
    """A regular expression kept as source and flags, compiled on first use; then its methods
    are the compiled pattern's own (no extra call on the hot path)."""

    def __init__(self, pattern: str, flags: int) -> None:
        self.pattern = pattern
        self.flags = flags

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        compiled = re.compile(self.pattern, self.flags)
        for attr in _COMPILED:
            setattr(self, attr, getattr(compiled, attr))
        return getattr(compiled, name)

    def __reduce__(self):
        return (LazyPattern, (self.pattern, self.flags))

    def __repr__(self) -> str:
        return f"LazyPattern({self.pattern!r}, {self.flags})"


def _compiled_state(pattern: re.Pattern) -> tuple | None:
    """What the regular-expression engine builds from a pattern (its instruction list, groups
    and flags), as the stdlib's ``re._compiler.compile`` passes them to ``_sre.compile``; None
    where this Python's engine is not laid out so. Stored with the rules, it makes the compiled
    pattern again in microseconds. It is valid for this Python only, which is in the cache key."""
    try:
        import _sre
        from re import _compiler, _parser

        if _sre.CODESIZE != 4:
            return None
        parsed = _parser.parse(pattern.pattern, pattern.flags)
        code = _compiler._code(parsed, pattern.flags)
        groupindex = dict(parsed.state.groupdict)
        indexgroup = [None] * parsed.state.groups
        for name, index in groupindex.items():
            indexgroup[index] = name
        state = (pattern.pattern, pattern.flags | parsed.state.flags, array("I", code).tobytes(),
                 parsed.state.groups - 1, groupindex, tuple(indexgroup))
        return state if _restored(*state).flags == pattern.flags else None
    except Exception:  # noqa: BLE001 - another engine layout: compiled on first use instead
        return None


def _restored(pattern: str, flags: int, code: bytes, groups: int, groupindex: dict,
              indexgroup: tuple) -> re.Pattern:
    """The compiled pattern from its stored state (``_sre`` validates the instructions); on
    any doubt, compiled from its source on first use."""
    import _sre

    try:
        return _sre.compile(pattern, flags, array("I", code).tolist(), groups, groupindex, indexgroup)
    except Exception:  # noqa: BLE001
        return LazyPattern(pattern, flags)  # type: ignore[return-value]


class _Pickler(pickle.Pickler):
    def reducer_override(self, obj):
        if isinstance(obj, re.Pattern):
            state = _compiled_state(obj)
            return (_restored, state) if state else (LazyPattern, (obj.pattern, obj.flags))
        return NotImplemented


def cache_dir() -> pathlib.Path | None:
    """Where prepared rules are kept; None when ``OPTDESK_CACHE_DIR=off``."""
    chosen = os.environ.get("OPTDESK_CACHE_DIR")
    if chosen:
        return None if chosen.lower() == "off" else pathlib.Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return pathlib.Path(base) / "optdesk"


def rules_key(rules_dir: str | pathlib.Path) -> str:
    """SHA-256 of everything the prepared rules are built from."""
    import publicsuffixlist

    import optdesk

    digest = hashlib.sha256(f"{FORMAT}\0{sys.version}\0".encode())
    digest.update(str(getattr(publicsuffixlist, "__version__", "")).encode() + b"\0")
    folder = pathlib.Path(rules_dir).resolve()
    digest.update(str(folder).encode() + b"\0")
    for tree, pattern in ((folder, "*"), (pathlib.Path(optdesk.__file__).parent, "*.py")):
        for path in sorted(p for p in tree.rglob(pattern) if p.is_file()):
            digest.update(str(path.relative_to(tree)).encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()


@contextmanager
def _no_gc():
    """Building or reading hundreds of thousands of small objects: the cyclic collector would
    walk them again and again and finds nothing to free."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _build(rules_dir: str | pathlib.Path) -> RuleSet:
    """Load and validate the rules and build everything built on first use otherwise."""
    from optdesk import domains
    from optdesk.classify.bounce.judge import combined_reasons, reason_index

    rules = load_rules(rules_dir)
    rules.reader  # noqa: B018 - the intent reader over the lexicons
    rules.quoting  # noqa: B018
    reason_index(rules)
    combined_reasons(rules)
    from optdesk.classify.ruletypes import RULE_TYPES

    for rule_type in RULE_TYPES:  # the literals that let a text skip a rule's patterns
        if all(getattr(rule, "patterns", None) is not None for rule in rules.of(rule_type)):
            rules.literals(rule_type)
            rules.any_pattern(rule_type)
    for rule in rules.rules:
        if getattr(rule, "patterns", None):
            rules.rule_literals(rule)
    rules.suffix_list = domains.suffix_list()
    # what every process would build on its first messages: kept with the rules, so that no
    # worker pays for it again
    from optdesk.classify import intent, prefilter

    rules.warm = {"scans": prefilter.scans_for(rules._literals.values()),
                  "stopwords": intent.stopwords_by_language()}
    return rules


def prepared_rules(rules_dir: str | pathlib.Path) -> RuleSet:
    """The rules of ``rules_dir``, ready to classify with: from the cache when they are the same
    rules, else loaded (raising RuleError with file and line) and stored for the next start."""
    from optdesk import domains

    folder = cache_dir()
    with _no_gc():
        key = rules_key(rules_dir) if folder is not None else ""
        path = folder / f"rules-{key[:32]}.pickle" if folder is not None else None
        rules = _read(path) if path is not None else None
        if rules is None:
            rules = _build(rules_dir)
            if path is not None:
                _write(path, rules)
    domains.adopt(rules.suffix_list)
    warm = getattr(rules, "warm", None)
    if warm:
        from optdesk.classify import intent, prefilter

        prefilter.adopt_scans(warm["scans"])
        intent.adopt_stopwords(warm["stopwords"])
    return rules


def _read(path: pathlib.Path) -> RuleSet | None:
    try:
        with open(path, "rb") as fh:
            rules = pickle.load(fh)
    except FileNotFoundError:
        return None
    except Exception as exc:  # noqa: BLE001 - a damaged cache is rebuilt, never fatal
        log.debug("prepared rules %s not used: %s: %s", path, type(exc).__name__, exc)
        return None
    return rules if isinstance(rules, RuleSet) else None


def _write(path: pathlib.Path, rules: RuleSet) -> None:
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        buffer = io.BytesIO()
        _Pickler(buffer, protocol=pickle.HIGHEST_PROTOCOL).dump(rules)
        fd, aside = tempfile.mkstemp(dir=path.parent, prefix=".rules-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(buffer.getvalue())
            os.replace(aside, path)
        except BaseException:
            pathlib.Path(aside).unlink(missing_ok=True)
            raise
        kept = sorted(path.parent.glob("rules-*.pickle"), key=lambda p: p.stat().st_mtime)
        for old in kept[:-KEEP]:  # the states of the rules used most recently are kept
            old.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - without a cache the next start loads the files
        log.debug("prepared rules not stored in %s: %s: %s", path.parent, type(exc).__name__, exc)
