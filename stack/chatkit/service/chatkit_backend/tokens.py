"""HMAC-SHA256 signed session tokens: ``ck_<base64url payload>.<base64url signature>``.

The database only ever stores ``token_fingerprint(token)``, never the token itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass

CK_PREFIX = "ck_"
TOKEN_PATTERN = re.compile(r"ck_[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+")


class TokenError(Exception):
    """Base class for token problems."""


class InvalidToken(TokenError):
    """Malformed token, bad signature, or signed with another key."""


class TokenExpired(TokenError):
    """Well-formed, correctly signed token whose expiry has passed."""


@dataclass(frozen=True)
class IssuedToken:
    token: str
    session_id: str
    expires_at: int


@dataclass(frozen=True)
class Claims:
    session_id: str
    user_id: str
    issued_at: int
    expires_at: int


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _sign(secret: str, payload_part: str) -> str:
    digest = hmac.new(secret.encode("utf-8"), payload_part.encode("ascii"), hashlib.sha256).digest()
    return _b64encode(digest)


def issue_token(
    secret: str, user_id: str, now: float, ttl_seconds: int, session_id: str | None = None
) -> IssuedToken:
    """Create a signed token for ``user_id`` valid for ``ttl_seconds`` from ``now``."""
    sid = session_id if session_id is not None else secrets.token_hex(16)
    issued_at = int(now)
    expires_at = issued_at + int(ttl_seconds)
    payload = {"sid": sid, "uid": user_id, "iat": issued_at, "exp": expires_at}
    payload_part = _b64encode(json.dumps(payload, separators=(",", ":")).encode("utf-8"))
    return IssuedToken(f"{CK_PREFIX}{payload_part}.{_sign(secret, payload_part)}", sid, expires_at)


def verify_token(secret: str, token: str, now: float) -> Claims:
    """Return the claims of a valid token; raise InvalidToken or TokenExpired otherwise."""
    if not token.startswith(CK_PREFIX) or TOKEN_PATTERN.fullmatch(token) is None:
        raise InvalidToken("malformed")
    payload_part, signature = token[len(CK_PREFIX) :].split(".")
    if not hmac.compare_digest(_sign(secret, payload_part), signature):
        raise InvalidToken("bad signature")
    try:
        payload = json.loads(_b64decode(payload_part))
    except (binascii.Error, UnicodeDecodeError, ValueError) as exc:
        raise InvalidToken("undecodable payload") from exc
    if not isinstance(payload, dict):
        raise InvalidToken("payload is not an object")
    sid, uid, iat, exp = (payload.get(k) for k in ("sid", "uid", "iat", "exp"))
    if not (isinstance(sid, str) and isinstance(uid, str) and type(iat) is int and type(exp) is int):
        raise InvalidToken("missing or mistyped claims")
    if now >= exp:
        raise TokenExpired("expired")
    return Claims(session_id=sid, user_id=uid, issued_at=iat, expires_at=exp)


def token_fingerprint(token: str) -> str:
    """SHA-256 hex digest of the token: what the sessions table stores."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
