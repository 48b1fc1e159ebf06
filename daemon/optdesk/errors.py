"""Domain errors. The CLI and the widgets translate these at the edge; nothing else catches them."""


class OptdeskError(Exception):
    """Base of every error optdesk raises on purpose. Its message is meant for a person."""


class ConfigError(OptdeskError):
    """Raised when optdesk.toml or an OPTDESK_* variable holds a value that cannot be used."""


class StoreBusy(OptdeskError):
    """Raised when the store file stayed locked by another process past the retry budget."""


class NotFound(OptdeskError):
    """Raised when a contact, data group, list or invitation named by the caller does not exist."""


class ImportFailed(OptdeskError):
    """Raised when a contacts file has a bad row; names the row number and column. Nothing is applied."""


class RuleError(OptdeskError):
    """Raised when a rules file is invalid; names the file, the line and the reason."""


class HeaderInjection(OptdeskError):
    """Raised when a value meant for an email header contains CR, LF or another control character."""


class MailboxError(OptdeskError):
    """Raised when a mailbox source cannot be reached, logged into, or read."""


class MailboxAuthError(MailboxError):
    """Raised when the mailbox refuses the login, or no password or token is configured for it."""


class MailboxUnavailable(MailboxError):
    """Raised when the mailbox cannot be reached or the connection dropped; ``connect()`` again later."""


class MailboxTLSError(MailboxUnavailable):
    """Raised when the server's TLS certificate cannot be verified (set ``imap.ca_file`` for a private CA)."""


class BadToken(OptdeskError):
    """Raised when an unsubscribe or invitation token is malformed, forged or expired.

    ``reason`` is one of "malformed", "bad signature", "expired", "wrong purpose".
    """

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"token rejected: {reason}" + (f" ({detail})" if detail else ""))
        self.reason = reason


class InvalidField(OptdeskError):
    """Raised when a value given for an invitation (sender, subject, language, …) cannot be used; names the field."""


class SmtpError(OptdeskError):
    """Raised when the SMTP server cannot be reached, drops the session, or refuses a message or recipient."""


class SmtpAuthError(SmtpError):
    """Raised when the SMTP server refuses the login, or a user is set but no password is configured."""


class SmtpTLSError(SmtpError):
    """Raised when TLS fails: certificate not verified (set ``smtp.ca_file``) or STARTTLS not offered."""


class Refused(OptdeskError):
    """Raised when a correction is not allowed (an opt-out the journalist asked for, a grace period passed)."""
