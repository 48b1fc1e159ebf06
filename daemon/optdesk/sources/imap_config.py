"""IMAP connection settings: the URL, the TLS context and the credentials. No network here.

URL forms::

    imaps://user@host[:993][/FOLDER]   implicit TLS (the default to prefer)
    imap://user@host[:143][/FOLDER]    STARTTLS when imap.starttls = true; plain text only when
                                       imap.allow_plaintext = true (loopback tests)

The user may be an e-mail address (``imaps://me@example.org@imap.example.org``; ``%40`` works
too). FOLDER defaults to INBOX and uses ``/`` between hierarchy levels. A password in the URL is
refused: it would end up in logs and process listings. Credentials, in order of preference:

* ``imap.oauth2_token_command`` — run (no shell) at every connect; its first output line is an
  OAuth2 access token used with SASL XOAUTH2 (Gmail, Microsoft 365);
* ``imap.oauth2_token_file`` — first line of the file is the access token;
* a password from the environment variable ``imap.password_env`` or the file ``imap.password_file``.
"""

from __future__ import annotations

import os
import shlex
import ssl
import subprocess
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass

from optdesk.errors import ConfigError, MailboxAuthError
from optdesk.settings import ImapSettings, read_secret


@dataclass(frozen=True)
class ImapTarget:
    """Where to connect. ``tls`` is "implicit", "starttls" or "none"; ``url`` is safe to show."""

    user: str
    host: str
    port: int
    folder: str
    tls: str
    url: str


@dataclass(frozen=True)
class Credential:
    """How to log in: ``kind`` is "password" or "xoauth2". ``repr`` never shows the secret."""

    kind: str
    secret: str

    def __repr__(self) -> str:
        return f"Credential(kind={self.kind!r}, secret=<hidden>)"


def parse_imap_url(url: str, imap: ImapSettings) -> ImapTarget:
    """Parse an ``imap://`` or ``imaps://`` URL; raises ConfigError naming what is wrong."""
    parts = urllib.parse.urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in ("imap", "imaps"):
        raise ConfigError(f"mailbox URL {url!r}: expected imap:// or imaps://")
    netloc = parts.netloc
    userinfo, at, hostport = netloc.rpartition("@")
    if not at or not userinfo:
        raise ConfigError(f"mailbox URL {scheme}://{hostport}: needs a user, e.g. {scheme}://me@{hostport}")
    if ":" in userinfo:
        raise ConfigError(
            f"mailbox URL for {userinfo.split(':')[0]}@{hostport}: do not put the password in the URL; "
            "use imap.password_env or imap.password_file"
        )
    user = urllib.parse.unquote(userinfo)
    host, port = _host_port(hostport, 993 if scheme == "imaps" else 143, url)
    folder = urllib.parse.unquote(parts.path.lstrip("/")) or "INBOX"
    tls = "implicit" if scheme == "imaps" else ("starttls" if imap.starttls else "none")
    display = f"{scheme}://{user}@{_bracket(host)}:{port}/{folder}"
    if tls == "none" and not imap.allow_plaintext:
        raise ConfigError(
            f"{display} would send the password unencrypted: use imaps://, set imap.starttls = true, "
            "or (loopback tests only) imap.allow_plaintext = true"
        )
    return ImapTarget(user, host, port, folder, tls, display)


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


def _host_port(hostport: str, default: int, url: str) -> tuple[str, int]:
    if hostport.startswith("["):
        host, _, rest = hostport[1:].partition("]")
        port_text = rest[1:] if rest.startswith(":") else ""
    else:
        host, _, port_text = hostport.partition(":")
    if not host:
        raise ConfigError(f"mailbox URL {url!r}: no host")
    try:
        port = int(port_text) if port_text else default
    except ValueError:
        raise ConfigError(f"mailbox URL {url!r}: bad port {port_text!r}") from None
    return host, port


def ssl_context(imap: ImapSettings) -> ssl.SSLContext:
    """A verifying TLS context: the system CAs, or only ``imap.ca_file`` when set."""
    if imap.ca_file and not os.path.isfile(imap.ca_file):
        raise ConfigError(f"imap.ca_file {imap.ca_file} does not exist")
    try:
        return ssl.create_default_context(cafile=imap.ca_file or None)
    except ssl.SSLError as exc:
        raise ConfigError(f"imap.ca_file {imap.ca_file}: not a PEM certificate file ({exc})") from exc


def credential(imap: ImapSettings, where: str, env: Mapping[str, str] | None = None) -> Credential:
    """The login secret for ``where`` (a display URL); raises MailboxAuthError when none is configured."""
    if imap.oauth2_token_command:
        return Credential("xoauth2", _token_from_command(imap.oauth2_token_command, imap.timeout))
    if imap.oauth2_token_file:
        return Credential("xoauth2", _first_line(imap.oauth2_token_file, "imap.oauth2_token_file"))
    try:
        password = read_secret(imap.password_env, imap.password_file, env)
    except ConfigError as exc:
        raise MailboxAuthError(f"{where}: {exc}") from None
    if not password:
        raise MailboxAuthError(
            f"{where}: no password: set the environment variable {imap.password_env} or "
            "imap.password_file, or configure imap.oauth2_token_command / imap.oauth2_token_file"
        )
    return Credential("password", password)


def _first_line(path: str, setting: str) -> str:
    try:
        with open(path, encoding="utf-8") as fh:
            line = fh.readline().strip()
    except OSError as exc:
        raise MailboxAuthError(f"{setting} {path}: cannot read it ({exc.strerror})") from None
    if not line:
        raise MailboxAuthError(f"{setting} {path} is empty")
    return line


def _token_from_command(command: str, timeout: float) -> str:
    argv = shlex.split(command)
    if not argv:
        raise MailboxAuthError("imap.oauth2_token_command is empty")
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise MailboxAuthError(f"imap.oauth2_token_command {argv[0]!r} could not run: {exc}") from None
    if done.returncode != 0:
        tail = (done.stderr.strip().splitlines() or [""])[-1][:200]
        raise MailboxAuthError(
            f"imap.oauth2_token_command {argv[0]!r} failed with exit status {done.returncode}: {tail}"
        )
    token = (done.stdout.strip().splitlines() or [""])[0].strip()
    if not token:
        raise MailboxAuthError(f"imap.oauth2_token_command {argv[0]!r} printed no token")
    return token
