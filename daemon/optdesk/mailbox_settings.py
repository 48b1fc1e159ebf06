"""``[[mailboxes]]``: several mailboxes polled by one daemon, each with its own data group.

One entry per mailbox in optdesk.toml::

    [[mailboxes]]
    name = "fr-desk"                 # optional; default: the data group (must be unique)
    url = "imaps://presse@mail.example.org/INBOX"
    data_group = "presse-fr"
    password_env = "OPTDESK_FR_PASSWORD"   # or password_file, oauth2_token_command/_file
    [mailboxes.folders]              # optional; default: the [folders] table
    opt_out = "optdesk/opt_out"

Credentials are named by where they live (a variable or a file), never written here; every key
of ``[imap]`` may be given per entry and defaults to ``[imap]``. Without ``[[mailboxes]]`` the
one ``mailbox`` (with ``data_group``, ``folders``, ``[imap]``) is the only mailbox, so older
configurations work unchanged. A bad entry is a ConfigError naming the file, the entry by index
and name, and the key.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from optdesk.errors import ConfigError
from optdesk.settings_checks import FOLDER_KINDS, RULES, mailbox_problems

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")
_IMAP_KEYS = ("password_env", "password_file", "oauth2_token_command", "oauth2_token_file",
              "ca_file", "allow_plaintext", "starttls", "timeout")
KEYS = ("name", "url", "data_group", "folders", *_IMAP_KEYS)


@dataclass(frozen=True)
class MailboxEntry:
    """One ``[[mailboxes]]`` entry as read: ``imap`` holds only the keys it gave (the rest come
    from ``[imap]`` when the settings are complete); ``folders`` likewise over ``[folders]``."""

    index: int
    name: str | None
    url: str
    data_group: str
    folders: Mapping[str, str] = field(default_factory=dict)
    imap: Mapping[str, object] = field(default_factory=dict)

    @property
    def label(self) -> str:
        return f"mailboxes[{self.index}]" + (f" ({self.name})" if self.name else "")


@dataclass(frozen=True)
class Mailbox:
    """A mailbox the daemon polls: its name, and the Settings of that mailbox alone."""

    name: str
    settings: object  # optdesk.settings.Settings with mailbox, data_group, folders, imap of it

    @property
    def url(self) -> str:
        return self.settings.mailbox

    @property
    def data_group(self) -> str:
        return self.settings.data_group


def _shown(value) -> str:
    from optdesk.settings import _shown as shown

    return shown(value)


def _entry(index: int, raw: Mapping, where: str) -> MailboxEntry:
    name = raw.get("name")
    label = f"mailboxes[{index}]" + (f" ({name})" if isinstance(name, str) else "")

    def bad(key: str, value, reason: str) -> ConfigError:
        return ConfigError(f"{where}: {label}: {key} = {_shown(value)}: {reason}")

    def checked(check, key: str, value):
        try:
            return check(value)
        except ValueError as exc:
            raise bad(key, value, str(exc)) from None

    for key in raw:
        if key not in KEYS:
            close = difflib.get_close_matches(key, KEYS, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise ConfigError(f"{where}: {label}: unknown setting {key!r}{hint}")
    for key in ("url", "data_group"):
        if key not in raw:
            raise ConfigError(f"{where}: {label}: {key} is missing (each entry needs url and "
                              "data_group)")
    if name is not None and not (isinstance(name, str) and _NAME.fullmatch(name)):
        raise bad("name", name, "must be 1-64 letters, digits, '.', '_' or '-'")
    url = checked(RULES[(None, "mailbox")], "url", raw["url"])
    group = checked(RULES[(None, "data_group")], "data_group", raw["data_group"])
    folders = raw.get("folders", {})
    if not isinstance(folders, Mapping):
        raise bad("folders", folders, 'must be a table of kind = "folder"')
    for kind, folder in folders.items():
        if kind not in FOLDER_KINDS:
            raise ConfigError(f"{where}: {label}: unknown setting 'folders.{kind}'")
        checked(RULES[("folders", "*")], f"folders.{kind}", folder)
    imap = {key: checked(RULES[("imap", key)], key, raw[key]) for key in _IMAP_KEYS if key in raw}
    return MailboxEntry(index, name, url, group, {str(k): str(v) for k, v in folders.items()},
                        imap)


def parse_mailboxes(entries: list, where: str) -> tuple[MailboxEntry, ...]:
    """The ``[[mailboxes]]`` array as read from ``where`` (a file): each entry checked."""
    return tuple(_entry(i, raw, where) for i, raw in enumerate(entries, start=1))


def _settings_of(settings, entry: MailboxEntry):
    return dataclasses.replace(
        settings, mailbox=entry.url, data_group=entry.data_group,
        folders={**settings.folders, **entry.folders},
        imap=dataclasses.replace(settings.imap, **entry.imap), mailboxes=())


def mailboxes(settings) -> list[Mailbox]:
    """Every mailbox the daemon polls: the ``[[mailboxes]]`` entries, else the one ``mailbox``
    (named after its data group)."""
    if not settings.mailboxes:
        return [Mailbox(settings.data_group, settings)]
    return [Mailbox(e.name or e.data_group, _settings_of(settings, e)) for e in settings.mailboxes]


def check_mailboxes(settings) -> list[tuple[str, str]]:
    """Across entries (once the settings are complete): unique names and URLs, no ``mailbox``
    beside ``[[mailboxes]]``, each URL and its folders as ``check_whole`` checks the one."""
    if not settings.mailboxes:
        return []
    found: list[tuple[str, str]] = []
    if "mailbox" in settings.origins:
        found.append(("mailbox", "set either mailbox or [[mailboxes]], not both (the "
                                 "[[mailboxes]] entries are polled)"))
    names: dict[str, MailboxEntry] = {}
    urls: dict[str, MailboxEntry] = {}
    for entry in settings.mailboxes:
        name = entry.name or entry.data_group
        if name in names:
            found.append((f"{entry.label}.name",
                          f"{name!r} is the name of {names[name].label} too; give each entry "
                          "its own name"))
        if entry.url in urls:
            found.append((f"{entry.label}.url", f"{urls[entry.url].label} has that URL too"))
        names.setdefault(name, entry)
        urls.setdefault(entry.url, entry)
        own = _settings_of(settings, entry)
        found += mailbox_problems(own.mailbox, own.imap, own.folders, prefix=f"{entry.label}.")
    return found
