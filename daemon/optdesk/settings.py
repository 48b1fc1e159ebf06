"""Typed settings from optdesk.toml and OPTDESK_* environment variables.

Read once inside ``main()`` (or a notebook's first cell), never at import. Precedence, lowest
first: built-in defaults, the TOML file (``--config`` or ``OPTDESK_CONFIG``, else ./optdesk.toml
when present), OPTDESK_* variables, then command-line options.
"""

from __future__ import annotations

import dataclasses
import os
import pathlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field

from optdesk.errors import ConfigError

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

DEFAULT_FOLDERS = {
    "opt_out": "optdesk/opt_out",
    "complaint": "optdesk/complaint",
    "bounce_hard": "optdesk/bounce_hard",
    "bounce_soft": "optdesk/bounce_soft",
    "auto_reply": "optdesk/auto_reply",
    "opt_in": "optdesk/opt_in",
}


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
class Settings:
    db: str = "data/optdesk.duckdb"
    mailbox: str = "maildir:data/demo-mailbox"
    data_group: str = "demo"
    rules_dir: str = str(REPO_ROOT / "rules")
    poll_interval: int = 60
    batch_size: int = 500
    idle: bool = False
    review_threshold: float = 0.75
    secret_env: str = "OPTDESK_SECRET"
    secret_file: str = "data/secret.key"
    unsubscribe_domain: str = "example.org"
    folders: Mapping[str, str] = field(default_factory=lambda: dict(DEFAULT_FOLDERS))
    imap: ImapSettings = field(default_factory=ImapSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    invitations: InvitationSettings = field(default_factory=InvitationSettings)
    reports: ReportSettings = field(default_factory=ReportSettings)


_SECTIONS = {
    "imap": ImapSettings,
    "smtp": SmtpSettings,
    "invitations": InvitationSettings,
    "reports": ReportSettings,
}

# OPTDESK_* variable → (section or None, key)
_ENV = {
    "OPTDESK_DB": (None, "db"),
    "OPTDESK_MAILBOX": (None, "mailbox"),
    "OPTDESK_DATA_GROUP": (None, "data_group"),
    "OPTDESK_RULES_DIR": (None, "rules_dir"),
    "OPTDESK_POLL_INTERVAL": (None, "poll_interval"),
    "OPTDESK_REVIEW_THRESHOLD": (None, "review_threshold"),
    "OPTDESK_UNSUBSCRIBE_DOMAIN": (None, "unsubscribe_domain"),
    "OPTDESK_SMTP_URL": ("smtp", "url"),
    "OPTDESK_IMAP_CA_FILE": ("imap", "ca_file"),
    "OPTDESK_REPORT_CRON": ("reports", "cron"),
}


def _coerce(cls, key: str, value, where: str):
    fields = {f.name: f for f in dataclasses.fields(cls)}
    if key not in fields:
        raise ConfigError(f"{where}: unknown setting {key!r}")
    default = getattr(cls(), key)
    try:
        if isinstance(default, bool):
            if isinstance(value, str):
                if value.lower() not in ("1", "0", "true", "false", "yes", "no"):
                    raise ValueError(value)
                return value.lower() in ("1", "true", "yes")
            return bool(value)
        if isinstance(default, int):
            return int(value)
        if isinstance(default, float):
            return float(value)
        if isinstance(default, tuple):
            if isinstance(value, str):
                return tuple(v.strip() for v in value.split(",") if v.strip())
            return tuple(str(v) for v in value)
        if isinstance(default, Mapping):
            if not isinstance(value, Mapping):
                raise ValueError(value)
            return {**default, **{str(k): str(v) for k, v in value.items()}}
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: bad value for {key!r}: {value!r}") from exc
    return None if value is None else str(value)


def _apply(cls, base, values: Mapping, where: str):
    changes = {}
    for key, value in values.items():
        if cls is Settings and key in _SECTIONS:
            if not isinstance(value, Mapping):
                raise ConfigError(f"{where}: [{key}] must be a table")
            changes[key] = _apply(_SECTIONS[key], getattr(base, key), value, f"{where} [{key}]")
        else:
            changes[key] = _coerce(cls, key, value, where)
    return dataclasses.replace(base, **changes)


def load_settings(
    config: str | os.PathLike | None = None,
    env: Mapping[str, str] | None = None,
    overrides: Mapping[str, object] | None = None,
) -> Settings:
    """Build Settings from defaults, the TOML file, the environment and explicit overrides."""
    env = os.environ if env is None else env
    settings = Settings()
    path = config or env.get("OPTDESK_CONFIG")
    if path is None and pathlib.Path("optdesk.toml").exists():
        path = "optdesk.toml"
    if path is not None:
        try:
            data = tomllib.loads(pathlib.Path(path).read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path}: {exc}") from exc
        settings = _apply(Settings, settings, data, str(path))
    for var, (section, key) in _ENV.items():
        if var in env:
            values = {section: {key: env[var]}} if section else {key: env[var]}
            settings = _apply(Settings, settings, values, var)
    clean = {k: v for k, v in (overrides or {}).items() if v is not None}
    if clean:
        settings = _apply(Settings, settings, clean, "command line")
    return settings


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


def signing_key(settings: Settings, env: Mapping[str, str] | None = None) -> bytes:
    """The HMAC key for unsubscribe and invitation tokens.

    From the environment variable ``settings.secret_env`` when set; else from ``secret_file``,
    which is created with 32 random bytes (mode 0600) the first time, so a fresh demo works.
    """
    env = os.environ if env is None else env
    if env.get(settings.secret_env):
        return env[settings.secret_env].encode("utf-8")
    path = pathlib.Path(settings.secret_file)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as fh:
            fh.write(os.urandom(32).hex() + "\n")
    return path.read_text(encoding="utf-8").strip().encode("utf-8")
