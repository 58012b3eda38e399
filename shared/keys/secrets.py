"""Raw key generation and the derived facts that are stored instead of it."""

from __future__ import annotations

import hashlib
import secrets
import string

_ALPHABET = string.ascii_letters + string.digits
SECRET_CHARS = 43  # 43 base-62 characters carry 256 bits (>= the 192 the SPEC requires)
PREFIX_CHARS = 12


def new_raw_key(prefix: str) -> str:
    """A fresh key: the operator's prefix plus 43 random base-62 characters (~256 bits)."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(SECRET_CHARS))


def key_hash(raw_key: str) -> str:
    """Lowercase hex sha256 of the raw key: the lookup key of the keys table."""
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def key_prefix(raw_key: str) -> str:
    return raw_key[:PREFIX_CHARS]


def last_four(raw_key: str) -> str:
    return raw_key[-4:]


def looks_like_key(candidate: str, prefix: str) -> bool:
    """Cheap shape check before any lookup: right prefix, right length, base-62 body."""
    body = candidate.removeprefix(prefix)
    return candidate.startswith(prefix) and len(body) == SECRET_CHARS and all(c in _ALPHABET for c in body)
