"""API-key authentication with a per-instance cache bounded by the revocation promise.

A key looked up once is trusted for at most ``SLUICE_KEY_CACHE_SECONDS`` (<= 60 s): a revoked
key stops working within that bound on every instance. ``last_used_at`` is written at most once
a minute a key, off the request path's critical section.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass

from shared.adapters import key_store
from shared.errors import InvalidApiKey
from shared.keys.models import ApiKeyRecord
from shared.keys.secrets import key_hash, looks_like_key
from shared.settings import get_settings

MAX_HEADER_CHARS = 256
LAST_USED_EVERY = dt.timedelta(minutes=1)


@dataclass(frozen=True)
class Caller:
    """Who is calling: the key (with its account id and a copy of the plan), as of the cached lookup."""

    key: ApiKeyRecord

    @property
    def account_id(self) -> str:
        return self.key.account_id

    @property
    def plan(self) -> str:
        return self.key.plan


@dataclass
class _Entry:
    caller: Caller | None
    loaded_at: float


_cache: dict[str, _Entry] = {}
_last_touch: dict[str, float] = {}


def raw_key_from_headers(headers: dict[str, str]) -> str | None:
    """``X-API-Key`` or ``Authorization: Bearer``; header names lowercase."""
    candidate = headers.get("x-api-key")
    if not candidate:
        auth = headers.get("authorization", "")
        scheme, _, value = auth.partition(" ")
        candidate = value.strip() if scheme.lower() == "bearer" else None
    if not candidate or len(candidate) > MAX_HEADER_CHARS:
        return None
    return candidate.strip()


def _load(digest: str) -> Caller | None:
    """One GetItem: the key record carries everything a request needs."""
    record = key_store.get_key_by_hash(digest)
    if record is None or record.status != "active":
        return None
    return Caller(key=record)


def _digest(headers: dict[str, str]) -> str:
    raw = raw_key_from_headers(headers)
    if raw is None or not looks_like_key(raw, get_settings().key_prefix):
        raise InvalidApiKey()
    return key_hash(raw)


def _fresh(entry: _Entry | None) -> _Entry | None:
    if entry is None or time.monotonic() - entry.loaded_at > get_settings().key_cache_seconds:
        return None
    return entry


def _caller_of(entry: _Entry) -> Caller:
    if entry.caller is None:
        raise InvalidApiKey()
    return entry.caller


def authenticate(headers: dict[str, str]) -> Caller:
    """The caller behind the request's key, or ``InvalidApiKey`` (401)."""
    digest = _digest(headers)
    entry = _fresh(_cache.get(digest))
    if entry is None:
        entry = _Entry(caller=_load(digest), loaded_at=time.monotonic())
        _cache[digest] = entry
    return _caller_of(entry)


def authenticate_cached(headers: dict[str, str]) -> Caller | None:
    """The caller if this instance looked the key up recently (no I/O: callable on the event
    loop), ``InvalidApiKey`` for a malformed or recently refused key, None when a lookup is due."""
    entry = _fresh(_cache.get(_digest(headers)))
    return None if entry is None else _caller_of(entry)


def should_touch(caller: Caller) -> bool:
    """True at most once a minute per key per instance (the store's condition dedupes across instances)."""
    now = time.monotonic()
    last = _last_touch.get(caller.key.key_hash, float("-inf"))
    if now - last < LAST_USED_EVERY.total_seconds():
        return False
    _last_touch[caller.key.key_hash] = now
    return True


def touch_last_used(caller: Caller) -> None:
    now = dt.datetime.now(dt.UTC)
    key_store.touch_last_used(
        caller.key.key_hash,
        now.isoformat(timespec="milliseconds"),
        (now - LAST_USED_EVERY).isoformat(timespec="milliseconds"),
    )


def clear_cache() -> None:
    _cache.clear()
    _last_touch.clear()
