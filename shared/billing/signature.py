"""Webhook signatures: ``Sluice-Signature: t=<unix seconds>,v1=<hex>``.

``v1`` is HMAC-SHA256 with the webhook secret over ``<t>.<raw body>``. Several ``v1`` values may
be sent (secret rotation); one match is enough. A timestamp more than ``TOLERANCE_S`` away from
now is refused, so a captured request cannot be replayed later.
"""

from __future__ import annotations

import hashlib
import hmac

from shared.errors import Unauthenticated
from shared.numbers import ascii_int

HEADER = "Sluice-Signature"
TOLERANCE_S = 300
MAX_HEADER_CHARS = 1024


class InvalidSignature(Unauthenticated):
    code = "invalid_signature"


def sign(secret: str, timestamp: int, body: bytes) -> str:
    """Hex HMAC-SHA256 of ``<timestamp>.<body>``."""
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """The header value a sender sets (used by tests, the CLI and docs/CREDITS.md's example)."""
    return f"t={timestamp},v1={sign(secret, timestamp, body)}"


def _parse(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if name == "t":
            timestamp = ascii_int(value)
        elif name == "v1" and value:
            signatures.append(value)
    if timestamp is None or not signatures:
        raise InvalidSignature(f"Malformed {HEADER} header.")
    return timestamp, signatures


def verify(secret: str, header: str | None, body: bytes, now: float) -> int:
    """The signed timestamp if ``header`` signs ``body`` within the tolerance window; else 401."""
    if not header:
        raise InvalidSignature(f"Missing {HEADER} header.")
    if len(header) > MAX_HEADER_CHARS:
        raise InvalidSignature(f"Malformed {HEADER} header.")
    timestamp, signatures = _parse(header)
    if abs(now - timestamp) > TOLERANCE_S:
        raise InvalidSignature("Webhook timestamp is outside the tolerance window.")
    expected = sign(secret, timestamp, body)
    if not any(hmac.compare_digest(expected, candidate) for candidate in signatures):
        raise InvalidSignature("Webhook signature does not match.")
    return timestamp
