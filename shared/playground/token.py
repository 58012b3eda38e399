"""Playground tokens: what the browser holds instead of a key (SPEC "Playground").

``pgt1.<payload>.<signature>``: the payload is base64url JSON ``{"v": 1, "sub", "acct", "iat",
"exp", "jti"}``; the signature is base64url HMAC-SHA256 of ``pgt1.<payload>`` under the
playground secret. A token names the user, never a key; it lives at most 15 minutes. Pure: the
secret and the clock are arguments.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass
from typing import Any

from shared.auth.users import account_id_for_sub
from shared.errors import Unauthenticated

VERSION = "pgt1"
MAX_LIFETIME_S = 900
MAX_TOKEN_CHARS = 1024
CLOCK_SKEW_S = 60


class InvalidPlaygroundToken(Unauthenticated):
    code = "invalid_playground_token"

    def __init__(self, why: str) -> None:
        super().__init__(f"Playground token {why}. Get a new one: POST /api/playground/token.")


@dataclass(frozen=True)
class PlaygroundClaims:
    sub: str
    account_id: str
    issued_at: int
    expires_at: int
    token_id: str


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))


def _sign(secret: bytes, signed_part: str) -> str:
    return _b64(hmac.new(secret, signed_part.encode("ascii"), hashlib.sha256).digest())


def issue_token(sub: str, secret: bytes, *, now: int, lifetime_s: int) -> tuple[str, PlaygroundClaims]:
    """A token for user ``sub``, valid from ``now`` for ``lifetime_s`` (at most 15 minutes)."""
    lifetime = min(lifetime_s, MAX_LIFETIME_S)
    claims = PlaygroundClaims(sub, account_id_for_sub(sub), now, now + lifetime, secrets.token_hex(8))
    payload = {
        "v": 1,
        "sub": claims.sub,
        "acct": claims.account_id,
        "iat": claims.issued_at,
        "exp": claims.expires_at,
        "jti": claims.token_id,
    }
    body = _b64(json.dumps(payload, separators=(",", ":")).encode())
    signed_part = f"{VERSION}.{body}"
    return f"{signed_part}.{_sign(secret, signed_part)}", claims


def _payload(token: str, secret: bytes) -> dict[str, Any]:
    parts = token.split(".")
    if len(token) > MAX_TOKEN_CHARS or len(parts) != 3 or parts[0] != VERSION:
        raise InvalidPlaygroundToken("is malformed")
    expected = _sign(secret, f"{parts[0]}.{parts[1]}")
    if not hmac.compare_digest(expected.encode(), parts[2].encode()):
        raise InvalidPlaygroundToken("has an invalid signature")
    try:
        payload = json.loads(_unb64(parts[1]))
    except (ValueError, binascii.Error, UnicodeError) as exc:
        raise InvalidPlaygroundToken("is malformed") from exc
    if not isinstance(payload, dict):
        raise InvalidPlaygroundToken("is malformed")
    return payload


def _claims(payload: dict[str, Any]) -> PlaygroundClaims:
    sub, acct, iat, exp, jti = (payload.get(k) for k in ("sub", "acct", "iat", "exp", "jti"))
    if payload.get("v") != 1 or not isinstance(sub, str) or not sub or acct != account_id_for_sub(sub):
        raise InvalidPlaygroundToken("is malformed")
    if not (isinstance(iat, int) and isinstance(exp, int) and isinstance(jti, str)):
        raise InvalidPlaygroundToken("is malformed")
    return PlaygroundClaims(sub, acct, iat, exp, jti)


def verify_token(token: str, secret: bytes, *, now: int) -> PlaygroundClaims:
    """The claims of a valid, unexpired token signed with ``secret``; else 401."""
    claims = _claims(_payload(token, secret))
    if claims.expires_at - claims.issued_at > MAX_LIFETIME_S or claims.issued_at > now + CLOCK_SKEW_S:
        raise InvalidPlaygroundToken("is not valid")
    if now >= claims.expires_at:
        raise InvalidPlaygroundToken("has expired")
    return claims
