"""TLS against Dovecot with a private CA: implicit TLS (imaps://) and STARTTLS, verification on."""

from __future__ import annotations

import ssl

import pytest

from optdesk.errors import ConfigError, MailboxTLSError, MailboxUnavailable
from optdesk.sources import open_source

from .conftest import make_message

pytestmark = pytest.mark.imap


def tls_socket(src) -> ssl.SSLSocket:
    sock = src._client._imap.sock
    assert isinstance(sock, ssl.SSLSocket)
    return sock


def test_imaps_verifies_with_the_ca_file(dovecot):
    data = make_message()
    dovecot.append(data)
    settings = dovecot.settings(allow_plaintext=False)
    with open_source(dovecot.url(scheme="imaps"), settings) as src:
        assert tls_socket(src).version() in ("TLSv1.2", "TLSv1.3")
        assert [m.data for m in src.fetch(src.new_uids(0))] == [data]


def test_imaps_without_the_ca_file_is_refused(dovecot):
    settings = dovecot.settings(allow_plaintext=False, ca_file=None)
    src = open_source(dovecot.url(scheme="imaps"), settings)
    with pytest.raises(MailboxTLSError, match="certificate not trusted.*imap.ca_file") as err:
        src.connect()
    assert isinstance(err.value, MailboxUnavailable) and not src.connected


def test_starttls_verifies_with_the_ca_file(dovecot):
    settings = dovecot.settings(allow_plaintext=False, starttls=True)
    with open_source(dovecot.url(scheme="imap"), settings) as src:
        tls_socket(src)
        assert src.folder_state().uidvalidity > 0


def test_starttls_without_the_ca_file_is_refused(dovecot):
    settings = dovecot.settings(allow_plaintext=False, starttls=True, ca_file=None)
    with pytest.raises(MailboxTLSError, match="certificate not trusted"):
        open_source(dovecot.url(scheme="imap"), settings).connect()


def test_hostname_is_checked(dovecot, tmp_path):
    # the certificate names 127.0.0.1 and localhost; reach the same server under another name
    settings = dovecot.settings(allow_plaintext=False)
    url = f"imaps://{dovecot.user}@127.0.0.2:{dovecot.imaps_port}/INBOX"
    with pytest.raises(MailboxTLSError, match="127.0.0.2"):
        open_source(url, settings).connect()  # the fixture's dovecot listens on .1 and .2


def test_plain_imap_needs_explicit_permission(dovecot):
    with pytest.raises(ConfigError, match="unencrypted"):
        open_source(dovecot.url(), dovecot.settings(allow_plaintext=False))
