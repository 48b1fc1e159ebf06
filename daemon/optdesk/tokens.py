"""Per-recipient HMAC-SHA256 tokens for List-Unsubscribe and invitation reply addresses.

A token is lower-case base32 without padding, so it survives mail systems that lowercase local
parts: ``unsubscribe+TOKEN@domain`` or ``optin+TOKEN@domain``. Signed bytes, in order:

    1 byte   version (high nibble, 1) | purpose (low nibble: 1 unsubscribe, 2 optin)
    3 bytes  expiry, hours since 2020-01-01 UTC (0xFFFFFF: never)
    4 bytes  nonce (random unless given; invitations pass one that names the invitation)
    4 bytes  fingerprint of the address the token was sent to (HMAC of the lower-cased address)
    n bytes  contact id (int >= 0: 0x80|n + n bytes big-endian; str: length < 128 + UTF-8)
    n bytes  data group (length + UTF-8)
    10 bytes HMAC-SHA256 tag (truncated to 80 bits) over all of the above

Version 2 (what ``make_token`` writes) carries everything after the first byte encrypted: XOR with
a keystream of HMAC-SHA256 blocks keyed by the signing key and the tag (a synthetic-IV
construction, SIV), so that the token shows neither the contact id nor the data group nor the
expiry to anyone without the key. The tag is computed over the plain bytes and checked after
decryption. Version 1 tokens (plain, already in sent mail) still verify.

The address is bound (its fingerprint is signed) but not carried in clear, which keeps the
token at 48 characters for a numeric contact id and a short data group: ``unsubscribe+`` plus
the token fits the 64-octet local-part limit of RFC 5321. Long string contact ids or data group
names make longer tokens (about 1.6 characters per byte); they still work, most servers accept
longer local parts, but stay short if you can.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta

from optdesk.errors import BadToken, ConfigError

PURPOSES = {"unsubscribe": 1, "optin": 2}
_NAMES = {v: k for k, v in PURPOSES.items()}
_VERSION = 2
_VERSIONS = (1, 2)
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_NEVER = 0xFFFFFF
_TAG = 10


@dataclass(frozen=True)
class TokenPayload:
    """A verified token. ``email`` is set when verify_token was given the matching address."""

    purpose: str
    contact_id: int | str
    data_group: str
    nonce: int
    expires_at: datetime | None
    email_fp: str
    email: str | None = None

    def to_dict(self) -> dict:
        out = asdict(self)
        out["expires_at"] = self.expires_at.isoformat() if self.expires_at else None
        return out


def _fingerprint(key: bytes, email: str) -> bytes:
    return hmac.new(key, b"email:" + email.strip().lower().encode("utf-8"), hashlib.sha256).digest()[:4]


def _tag(key: bytes, body: bytes) -> bytes:
    prefix = b"optdesk-token-v1:" if body[0] >> 4 == 1 else b"optdesk-token-v2:"
    return hmac.new(key, prefix + body, hashlib.sha256).digest()[:_TAG]


def _keystream_xor(key: bytes, tag: bytes, data: bytes) -> bytes:
    """``data`` XOR the keystream for this tag (encrypts and decrypts)."""
    stream = b"".join(hmac.new(key, b"optdesk-token-v2-stream:" + tag + i.to_bytes(2, "big"),
                               hashlib.sha256).digest() for i in range(-(-len(data) // 32)))
    return bytes(a ^ b for a, b in zip(data, stream, strict=False))


def _encode_str(value: str) -> bytes:
    data = value.encode("utf-8")
    if len(data) > 255:
        raise ValueError(f"token field too long ({len(data)} bytes): {value[:40]!r}")
    return bytes([len(data)]) + data


def _encode_contact(contact_id: int | str) -> bytes:
    if isinstance(contact_id, int) and not isinstance(contact_id, bool):
        if not 0 <= contact_id < 2**64:
            raise ValueError(f"contact id out of range for a token: {contact_id}")
        size = max(1, (contact_id.bit_length() + 7) // 8)
        return bytes([0x80 | size]) + contact_id.to_bytes(size, "big")
    data = str(contact_id).encode("utf-8")
    if len(data) > 127:
        raise ValueError(f"contact id too long for a token: {str(contact_id)[:40]!r}")
    return bytes([len(data)]) + data


def _hours(expires_at: datetime | None) -> int:
    if expires_at is None:
        return _NEVER
    if expires_at.tzinfo is None:
        expires_at = expires_at.replace(tzinfo=UTC)
    hours = -(-int((expires_at - _EPOCH).total_seconds()) // 3600)  # round up
    return max(0, min(hours, _NEVER - 1))


def make_token(
    key: bytes,
    purpose: str,
    contact_id: int | str,
    data_group: str,
    email: str,
    expires_at: datetime | None = None,
    nonce: int | None = None,
) -> str:
    """A signed token for one recipient. ``nonce`` is a 32-bit int (random when None)."""
    if not key:
        raise ConfigError("no token signing key: refusing to sign a token with an empty key")
    if purpose not in PURPOSES:
        raise ValueError(f"unknown token purpose {purpose!r}")
    nonce = int.from_bytes(os.urandom(4), "big") if nonce is None else nonce
    if not 0 <= nonce < 2**32:
        raise ValueError(f"nonce must be a 32-bit unsigned int, got {nonce}")
    body = (
        bytes([(_VERSION << 4) | PURPOSES[purpose]])
        + _hours(expires_at).to_bytes(3, "big")
        + nonce.to_bytes(4, "big")
        + _fingerprint(key, email)
        + _encode_contact(contact_id)
        + _encode_str(data_group)
    )
    tag = _tag(key, body)
    raw = body[:1] + _keystream_xor(key, tag, body[1:]) + tag
    return base64.b32encode(raw).decode("ascii").rstrip("=").lower()


def _decode(token: str) -> bytes:
    text = token.strip().upper()
    if not text or len(text) > 600 or not text.isalnum():
        raise BadToken("malformed", "not base32")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (ValueError, TypeError) as exc:
        raise BadToken("malformed", "not base32") from exc
    if base64.b32encode(raw).decode("ascii").rstrip("=") != text:  # one spelling per token
        raise BadToken("malformed", "non-canonical base32")
    return raw


def _read_str(raw: bytes, pos: int) -> tuple[str, int]:
    size = raw[pos]
    end = pos + 1 + size
    if end > len(raw):
        raise BadToken("malformed", "truncated")
    return raw[pos + 1 : end].decode("utf-8"), end


def _parse_body(body: bytes) -> tuple[int, int, int, bytes, int | str, str]:
    try:
        head, hours, nonce, fp = body[0], int.from_bytes(body[1:4], "big"), body[4:8], body[8:12]
        if body[12] & 0x80:
            size = body[12] & 0x7F
            if not 1 <= size <= 8 or 13 + size > len(body):
                raise BadToken("malformed", "bad contact id")
            contact: int | str = int.from_bytes(body[13 : 13 + size], "big")
            pos = 13 + size
        else:
            contact, pos = _read_str(body, 12)
        group, pos = _read_str(body, pos)
    except (IndexError, UnicodeDecodeError) as exc:
        raise BadToken("malformed", "truncated") from exc
    if pos != len(body) or head >> 4 not in _VERSIONS:
        raise BadToken("malformed", "bad layout")
    return head & 0x0F, hours, int.from_bytes(nonce, "big"), fp, contact, group


def verify_token(
    key: bytes, token: str, purpose: str, now: datetime | None = None, email: str | None = None
) -> TokenPayload:
    """Check signature, purpose and expiry; with ``email``, also that it is the bound address.

    Raises BadToken with reason "no key" (``key`` is empty: nothing can be verified),
    "malformed", "bad signature", "wrong purpose", "expired" or "wrong address".
    """
    if not key:
        raise BadToken("no key", "no token signing key is configured")
    raw = _decode(token)
    if len(raw) < 12 + _TAG + 3:
        raise BadToken("malformed", "too short")
    body, tag = raw[:-_TAG], raw[-_TAG:]
    if body[0] >> 4 == 2:
        body = body[:1] + _keystream_xor(key, tag, body[1:])
    elif body[0] >> 4 not in _VERSIONS:
        raise BadToken("malformed", "unknown version")
    if not hmac.compare_digest(tag, _tag(key, body)):
        raise BadToken("bad signature")
    code, hours, nonce, fp, contact, group = _parse_body(body)
    if _NAMES.get(code) != purpose:
        raise BadToken("wrong purpose", f"token is for {_NAMES.get(code, code)!r}")
    expires = None if hours == _NEVER else _EPOCH + timedelta(hours=hours)
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    if expires is not None and now > expires:
        raise BadToken("expired", f"expired at {expires.isoformat()}")
    if email is not None and not hmac.compare_digest(fp, _fingerprint(key, email)):
        raise BadToken("wrong address", "token was issued to another address")
    return TokenPayload(purpose, contact, group, nonce, expires, fp.hex(), email and email.lower())


def token_matches_email(key: bytes, payload: TokenPayload, email: str) -> bool:
    """True when ``email`` is the address the token was issued to (case-insensitive)."""
    if not key:
        return False
    return hmac.compare_digest(bytes.fromhex(payload.email_fp), _fingerprint(key, email))


def token_hash(token: str) -> str:
    """The SHA-256 (hex) of a token's text: how the store remembers a used token without it."""
    return hashlib.sha256(token.strip().lower().encode("ascii", "replace")).hexdigest()


def one_click_url(public_url: str, token: str) -> str:
    """The RFC 8058 one-click URL of a token: ``{public_url}/u/{token}`` (no address or id in
    clear: the token carries only the address's keyed fingerprint)."""
    return f"{public_url.rstrip('/')}/u/{token}"


def list_unsubscribe_headers(
    key: bytes,
    contact_id: int | str,
    data_group: str,
    email: str,
    domain: str,
    public_url: str | None = None,
) -> dict[str, str]:
    """``List-Unsubscribe`` (RFC 2369) and, with the one-click endpoint's ``public_url``,
    ``List-Unsubscribe-Post`` (RFC 8058): ``<{public_url}/u/TOKEN>, <mailto:unsubscribe+TOKEN@…>``.

    Both carry the same token. Without ``public_url`` only the mailto form is returned: a
    mailto-only header must not claim one-click. ``public_url`` and ``domain`` are checked
    settings (``settings_checks.public_url``, ``domain``); the token is base32.
    """
    token = make_token(key, "unsubscribe", contact_id, data_group, email)
    mailto = f"<mailto:unsubscribe+{token}@{domain}?subject=unsubscribe>"
    if not public_url:
        return {"List-Unsubscribe": mailto}
    return {
        "List-Unsubscribe": f"<{one_click_url(public_url, token)}>, {mailto}",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }
