"""What this instance last knew of its rate-limit counters and credit balances.

TransactWriteItems returns no values, so after an ordinary admission (``count < limit`` on each
counter, ``balance >= cost`` on the balance) the exact ``X-RateLimit-Remaining`` and
``X-Credits-Remaining`` need a read. When this instance knows the current values, from its last
read or its last admission, the chat path states them in the conditions instead (``count =
known``, ``balance = known``: shared/gateway/call.py). If that transaction succeeds, the values
after it are exact with no read. If anything changed them meanwhile (another instance, a purchase,
a release), it is cancelled having written nothing, and the request is admitted the ordinary way,
with the read. Either way every write is conditional, so the limits and the balance stay exact.

One admission at a time may state a value: ``claim`` reserves the keys until ``settle``, and a
concurrent request on the same keys (the local stack serves several at once; a Lambda instance
serves one) is admitted the ordinary way. Values are kept for at most ``MAX_KEYS`` keys.
"""

from __future__ import annotations

MAX_KEYS = 4096

_values: dict[str, int] = {}
_claimed: set[str] = set()


def balance_key(account_id: str) -> str:
    """The key of an account's credit balance (counter keys are the limits table's item keys)."""
    return f"balance#{account_id}"


def value(key: str) -> int | None:
    return _values.get(key)


def claim(keys: list[str]) -> list[int] | None:
    """The known values of ``keys``, reserved for one admission until ``settle``; None (nothing
    reserved) when one of them is unknown or reserved by an admission still in flight."""
    if not keys or any(k in _claimed or k not in _values for k in keys):
        return None
    _claimed.update(keys)
    return [_values[k] for k in keys]


def settle(keys: list[str], values: list[int] | None) -> None:
    """End a claim: the values after the admission, or None when they are no longer known."""
    _claimed.difference_update(keys)
    if values is None:
        for key in keys:
            _values.pop(key, None)
    else:
        remember(keys, values)


def remember(keys: list[str], values: list[int]) -> None:
    """Values just read or written; the oldest half is dropped when the map is full."""
    for key, known in zip(keys, values, strict=True):
        _values.pop(key, None)  # re-inserted last: the dict's order is the age
        _values[key] = known
    if len(_values) > MAX_KEYS:
        for key in list(_values)[: len(_values) // 2]:
            if key not in _claimed:
                del _values[key]


def clear() -> None:
    """Forget everything (tests, and the bench's cold instance)."""
    _values.clear()
    _claimed.clear()
