"""What this instance last knew of its rate-limit counters and credit balances.

TransactWriteItems returns no values, so after an ordinary admission (``count < limit`` on each
counter, ``balance >= cost`` on the balance) the exact ``X-RateLimit-Remaining`` and
``X-Credits-Remaining`` need a read. When this instance knows the current values, from its last
read or its last admission, the chat path states them in the conditions instead (``count =
known``, ``balance = known``: shared/gateway/call.py). If that transaction succeeds, the values
after it are exact with no read. If anything changed them meanwhile (another instance, a purchase,
a release), it is cancelled having written nothing, and the request is admitted the ordinary way,
with the read. Either way every write is conditional, so the limits and the balance stay exact.

A rate-limit window that has just begun is a new counter item. When this instance knows the
previous window's count of the same bucket, it states the new one as 0 ("no count yet"): right
unless another instance has already counted in the new window (then the transaction is cancelled
as above). A key sending a request every few minutes lands in a new window each time, and without
this would always be admitted the ordinary way, with the read.

One admission at a time may state a value: ``claim`` reserves the keys until ``settle``, and a
concurrent request on the same keys (the local stack serves several at once; a Lambda instance
serves one) is admitted the ordinary way. A key whose stated value was wrong is not stated again
for ``CONTENDED_S``: when many instances share a busy key, its values change between any one
instance's requests, and stating them would cost every request a cancelled transaction. Values
are kept for at most ``MAX_KEYS`` keys.
"""

from __future__ import annotations

import time

MAX_KEYS = 4096
CONTENDED_S = 10.0

_values: dict[str, int] = {}
_claimed: set[str] = set()
_contended: dict[str, float] = {}  # key -> _clock() until which it is not stated
_clock = time.monotonic


def balance_key(account_id: str) -> str:
    """The key of an account's credit balance (counter keys are the limits table's item keys)."""
    return f"balance#{account_id}"


def value(key: str) -> int | None:
    return _values.get(key)


def claim(keys: list[str], new: frozenset[str] = frozenset()) -> list[int] | None:
    """The known values of ``keys``, reserved for one admission until ``settle``; None (nothing
    reserved) when one of them is unknown, reserved by an admission still in flight, or was stated
    wrong less than ``CONTENDED_S`` ago. Keys in ``new`` that are unknown count as 0: counters of
    a window that has just begun, whose previous window this instance was counting."""
    if not keys or any(k in _claimed or (k not in _values and k not in new) for k in keys):
        return None
    if _contended and _is_contended(keys):
        return None
    _claimed.update(keys)
    return [_values.get(k, 0) for k in keys]


def release(keys: list[str]) -> None:
    """End a claim that stated nothing (the admission went the ordinary way)."""
    _claimed.difference_update(keys)


def settle(keys: list[str], values: list[int] | None) -> None:
    """End a claim: the values after the admission, or None when they turned out wrong (the keys
    are then not stated again for ``CONTENDED_S``)."""
    _claimed.difference_update(keys)
    if values is None:
        until = _clock() + CONTENDED_S
        for key in keys:
            _values.pop(key, None)
            _contended[key] = until
    else:
        remember(keys, values)


def add(key: str, delta: int) -> None:
    """A change this instance made itself (a released reservation gives its credits back)."""
    if key in _values and key not in _claimed:
        _values[key] += delta


def remember(keys: list[str], values: list[int]) -> None:
    """Values just read or written; the oldest half is dropped when the map is full."""
    for key, known in zip(keys, values, strict=True):
        _values.pop(key, None)  # re-inserted last: the dict's order is the age
        _values[key] = known
    if len(_values) > MAX_KEYS:
        for key in list(_values)[: len(_values) // 2]:
            if key not in _claimed:
                del _values[key]


def forget(keys: list[str]) -> None:
    """Values this instance can no longer vouch for (read again before the next statement)."""
    for key in keys:
        if key not in _claimed:
            _values.pop(key, None)


def _is_contended(keys: list[str]) -> bool:
    now = _clock()
    if len(_contended) > MAX_KEYS:
        for key in [k for k, until in _contended.items() if until <= now]:
            del _contended[key]
    return any(_contended.get(k, 0.0) > now for k in keys)


def clear() -> None:
    """Forget everything (tests, and the bench's cold instance)."""
    _values.clear()
    _claimed.clear()
    _contended.clear()
