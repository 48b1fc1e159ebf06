"""Typed settings from optdesk.toml and OPTDESK_* environment variables.

Read once inside ``main()`` (or a notebook's first cell), never at import. Precedence, lowest
first: built-in defaults, the TOML file (``--config`` or ``OPTDESK_CONFIG``, else ./optdesk.toml
when present), OPTDESK_* variables, then command-line options.
"""

from __future__ import annotations

import dataclasses
import difflib
import json
import logging
import os
import pathlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field

from optdesk.errors import ConfigError
from optdesk.feedback_loops import DEFAULT_SENDERS
from optdesk.settings_checks import FOLDER_KINDS, RULES, check_whole

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
log = logging.getLogger(__name__)

DEFAULT_FOLDERS = {kind: f"optdesk/{kind}" for kind in FOLDER_KINDS}  # optdesk/opt_out, …
MIN_KEY_BYTES = 32


@dataclass(frozen=True)
class ImapSettings:
    """How to log into an IMAP mailbox. Secrets are named by where they live, never stored here."""

    password_env: str = "OPTDESK_IMAP_PASSWORD"
    password_file: str | None = None
    oauth2_token_command: str | None = None
    oauth2_token_file: str | None = None
    ca_file: str | None = None
    allow_plaintext: bool = False
    starttls: bool = False
    timeout: float = 30.0


@dataclass(frozen=True)
class SmtpSettings:
    """Where invitations and report emails go: smtp://, smtp+starttls:// or smtps:// URL."""

    url: str = "smtp://127.0.0.1:25"
    password_env: str = "OPTDESK_SMTP_PASSWORD"
    password_file: str | None = None
    ca_file: str | None = None
    rate_per_second: float = 5.0
    timeout: float = 30.0


@dataclass(frozen=True)
class InvitationSettings:
    sender_name: str = "The press office"
    sender_email: str = "press@example.org"
    organisation: str = "Example Communications"
    reply_domain: str = "example.org"
    cooloff_days: int = 90
    ttl_days: int = 30


@dataclass(frozen=True)
class ReportSettings:
    cron: str = "0 7 * * mon"
    out_dir: str = "data/reports"
    recipients: tuple[str, ...] = ()
    period_days: int = 7
    trend_periods: int = 8


@dataclass(frozen=True)
class ComplaintSettings:
    """Whose feedback reports (spam complaints) opt a contact out: ``senders`` (addresses, or
    domains with their sub-domains; default the known providers' loops,
    ``optdesk.feedback_loops.PROVIDERS``), authenticated by a DKIM signature or by the
    ``Authentication-Results`` of the team's own MX (``authserv_ids``). Any other complaint goes
    to review; see ``optdesk.feedback_loops``."""

    senders: tuple[str, ...] = DEFAULT_SENDERS
    authserv_ids: tuple[str, ...] = ()
    require_authentication: bool = True


@dataclass(frozen=True)
class ServeSettings:
    """The one-click unsubscribe endpoint (``optdesk serve``, ``optdesk run --serve``).
    ``forwarded_allow_ips``: the reverse proxies whose X-Forwarded-For names the client (the
    rate limit is per client address)."""

    host: str = "127.0.0.1"
    port: int = 8025
    rate_per_second: float = 20.0
    rate_burst: int = 200
    max_body_bytes: int = 4096
    forwarded_allow_ips: str = "127.0.0.1"


@dataclass(frozen=True)
class Settings:
    db: str = "data/optdesk.duckdb"
    mailbox: str = "maildir:data/demo-mailbox"
    data_group: str = "demo"
    rules_dir: str = str(REPO_ROOT / "rules")
    poll_interval: int = 60
    fetch_size: int = 500
    idle: bool = False
    review_threshold: float = 0.75
    undo_grace_hours: float = 24.0  # how long an analyst's manual opt-out or list removal can be undone
    secret_env: str = "OPTDESK_SECRET"
    secret_file: str = "data/secret.key"
    unsubscribe_domain: str = "example.org"
    public_url: str = "http://127.0.0.1:8025"
    folders: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FOLDERS))
    imap: ImapSettings = field(default_factory=ImapSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    invitations: InvitationSettings = field(default_factory=InvitationSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)
    complaints: ComplaintSettings = field(default_factory=ComplaintSettings)
    serve: ServeSettings = field(default_factory=ServeSettings)
    # [[mailboxes]]: several mailboxes polled by one daemon (optdesk.mailbox_settings); empty:
    # the one ``mailbox``
    mailboxes: tuple = ()
    # where each setting given came from (dotted key → file, variable or "command line"), for
    # error messages; not a setting itself
    origins: Mapping[str, str] = field(default_factory=dict, compare=False, repr=False)


_SECTIONS = {
    "imap": ImapSettings,
    "smtp": SmtpSettings,
    "invitations": InvitationSettings,
    "reports": ReportSettings,
    "complaints": ComplaintSettings,
    "serve": ServeSettings,
}

# OPTDESK_* variable → (section or None, key)
_ENV = {
    "OPTDESK_DB": (None, "db"),
    "OPTDESK_MAILBOX": (None, "mailbox"),
    "OPTDESK_DATA_GROUP": (None, "data_group"),
    "OPTDESK_RULES_DIR": (None, "rules_dir"),
    "OPTDESK_POLL_INTERVAL": (None, "poll_interval"),
    "OPTDESK_REVIEW_THRESHOLD": (None, "review_threshold"),
    "OPTDESK_UNDO_GRACE_HOURS": (None, "undo_grace_hours"),
    "OPTDESK_UNSUBSCRIBE_DOMAIN": (None, "unsubscribe_domain"),
    "OPTDESK_PUBLIC_URL": (None, "public_url"),
    "OPTDESK_SMTP_URL": ("smtp", "url"),
    "OPTDESK_IMAP_CA_FILE": ("imap", "ca_file"),
    "OPTDESK_REPORT_CRON": ("reports", "cron"),
}


def _shown(value) -> str:
    """A value as it would be written in optdesk.toml, cut short."""
    try:
        shown = json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


RENAMED = {"batch_size": "fetch_size"}  # old name -> new name


def _unknown(where: str, dotted: str, known) -> ConfigError:
    if dotted in RENAMED:
        return ConfigError(f"{where}: setting {dotted!r} is now called {RENAMED[dotted]!r}")
    close = difflib.get_close_matches(dotted.rpartition(".")[2], list(known), n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"{where}: unknown setting {dotted!r}{hint}")


def _coerce(cls, section: str | None, key: str, value, where: str):
    dotted = f"{section}.{key}" if section else key
    names = [f.name for f in dataclasses.fields(cls) if f.name != "origins"]
    if key not in names:
        raise _unknown(where, dotted, names)
    if key == "folders" and isinstance(value, Mapping):
        for kind, name in value.items():
            if kind not in FOLDER_KINDS:
                raise _unknown(where, f"folders.{kind}", FOLDER_KINDS)
            _check(RULES[("folders", "*")], name, where, f"folders.{kind}")
        return {**DEFAULT_FOLDERS, **{str(k): str(v) for k, v in value.items()}}
    if key == "mailboxes" and cls is Settings:
        from optdesk.mailbox_settings import parse_mailboxes

        return parse_mailboxes(_check(RULES[(None, key)], value, where, dotted), where)
    return _check(RULES[(section, key)], value, where, dotted)


def _check(check, value, where: str, dotted: str):
    try:
        return check(value)
    except ValueError as exc:
        raise ConfigError(f"{where}: {dotted} = {_shown(value)}: {exc}") from None


def _apply(cls, base, values: Mapping, where: str, origins: dict[str, str],
           section: str | None = None):
    changes = {}
    for key, value in values.items():
        if cls is Settings and key in _SECTIONS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: {key} = {_shown(value)}: must be a table ([{key}])")
            changes[key] = _apply(_SECTIONS[key], getattr(base, key), value, where, origins, key)
        else:
            changes[key] = _coerce(cls, section, key, value, where)
            dotted = f"{section}.{key}" if section else key
            if key == "folders":
                origins.update({f"folders.{kind}": where for kind in value})
            else:
                origins[dotted] = where
    return dataclasses.replace(base, **changes)


def _read_toml(path: str | os.PathLike) -> dict:
    """The TOML file as a dict; ConfigError naming the file (and line) when it cannot be read."""
    try:
        raw = pathlib.Path(path).read_bytes()
    except FileNotFoundError as exc:
        raise ConfigError(f"config file {path} does not exist") from exc
    except OSError as exc:
        raise ConfigError(f"config file {path}: cannot read it: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(f"config file {path}: line {line}: not UTF-8 text (byte "
                          f"0x{raw[exc.start]:02x}); save the file as UTF-8") from None
    try:
        return tomllib.loads(text.removeprefix("\ufeff"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path}: {exc}") from None


def load_settings(
    config: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Build Settings from defaults, the TOML file, the environment and explicit overrides.

    Every value is checked as it is read (``optdesk.settings_checks``): a bad one is a
    ConfigError of one line naming where it came from and the key.
    """
    env = os.environ if env is None else env
    layers: list[tuple[str, Mapping]] = []
    path = config or env.get("OPTDESK_CONFIG")
    if path is None and pathlib.Path("optdesk.toml").exists():
        path = "optdesk.toml"
    if path is not None:
        layers.append((str(path), _read_toml(path)))
    for var, (section, key) in _ENV.items():
        if var in env:
            layers.append((var, {section: {key: env[var]}} if section else {key: env[var]}))
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    if clean:
        layers.append(("command line", clean))
    settings, origins = Settings(), {}
    for where, values in layers:
        settings = _apply(Settings, settings, values, where, origins)
    settings = dataclasses.replace(settings, origins=origins)
    for dotted, reason in check_whole(settings):
        said = reason if reason.startswith(dotted) else f"{dotted}: {reason}"
        raise ConfigError(f"{origin(settings, dotted)}: {said}")
    return settings


def origin(settings: Settings, dotted: str) -> str:
    """Where a setting came from: the config file, the OPTDESK_* variable, "command line", or
    "built-in default". ``dotted`` is ``fetch_size``, ``imap.timeout``, ``folders.opt_out``…"""
    found = settings.origins.get(dotted) or settings.origins.get(dotted.partition("[")[0])
    return found or "built-in default"


def read_secret(env_var: str, file: str | None, env: Mapping[str, str] | None = None) -> str | None:
    """A secret from an environment variable, else from a file (first line). Never logged."""
    env = os.environ if env is None else env
    if env.get(env_var):
        return env[env_var]
    if file:
        try:
            return pathlib.Path(file).read_text(encoding="utf-8").splitlines()[0].strip()
        except (FileNotFoundError, IndexError) as exc:
            raise ConfigError(f"secret file {file} is missing or empty") from exc
    return None


def find_signing_key(settings: Settings, env: Mapping[str, str] | None = None) -> bytes | None:
    """The HMAC key for unsubscribe and invitation tokens, or None when there is none. Creates
    nothing (what read-only commands use).

    From the environment variable ``settings.secret_env`` when it is set, else the file
    ``secret_file`` (its bytes, surrounding whitespace stripped). A key shorter than
    MIN_KEY_BYTES (32) — an empty file, a one-character variable — is a ConfigError: tokens
    signed with it could be forged.
    """
    env = os.environ if env is None else env
    if settings.secret_env in env:
        return _long_enough(env[settings.secret_env].encode("utf-8"), settings.secret_env)
    path = pathlib.Path(settings.secret_file)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise ConfigError(f"secret file {path}: cannot read it: {exc.strerror or exc}") from None
    return _long_enough(data.strip(), f"secret file {path}")


def signing_key(settings: Settings, env: Mapping[str, str] | None = None, *,
                create: bool = True) -> bytes:
    """The HMAC key, as ``find_signing_key``; when there is none, ``secret_file`` is created
    with 32 random bytes (64 hex digits, mode 0600), so a fresh demo works — or, with
    ``create=False``, a ConfigError saying where a key is looked for."""
    key = find_signing_key(settings, env)
    if key is not None:
        return key
    path = pathlib.Path(settings.secret_file)
    if not create:
        raise ConfigError(f"no token signing key: set {settings.secret_env} or write one "
                          f"(at least {MIN_KEY_BYTES} bytes) to {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it meanwhile
        return signing_key(settings, env, create=False)
    with os.fdopen(fd, "w") as fh:
        fh.write(os.urandom(MIN_KEY_BYTES).hex() + "\n")
    log.warning("no token signing key: created %s with a new random key (tokens signed with "
                "another key will not verify)", path)
    return signing_key(settings, env, create=False)


def _long_enough(key: bytes, where: str) -> bytes:
    if len(key) < MIN_KEY_BYTES:
        raise ConfigError(
            f"{where}: the token signing key is {len(key)} bytes; at least {MIN_KEY_BYTES} are "
            "needed (make one: python3 -c 'import secrets; print(secrets.token_hex(32))')")
    return key
