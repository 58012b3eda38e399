"""Admission: every bucket of a request, plus any credit reservation, all or nothing.

- one bucket, nothing else: one conditional UpdateItem, which also returns the count;
- several buckets and/or a reservation: one TransactWriteItems (a request refused by one
  bucket consumes no other bucket and no credit), then the counts for the headers are read
  with one BatchGetItem (callers overlap that read with the upstream call);
- the same transaction stating each count's current value, when the caller knows it
  (shared/limits/known.py): the counts after it are then known without the read.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from shared.adapters import limit_store
from shared.errors import InsufficientCredits, RateLimited
from shared.limits.buckets import Bucket, LimitStatus, tightest


@dataclass
class Admission:
    """An admitted request: its buckets, and (lazily) the status for the rate-limit headers."""

    buckets: list[Bucket]
    now: float
    counts: list[int] | None = None
    _status: LimitStatus | None = field(default=None, repr=False)

    def status(self) -> LimitStatus | None:
        if not self.buckets:
            return None
        if self._status is None:
            counts = self.counts or limit_store.read_counts([b.item_key(self.now) for b in self.buckets])
            self._status = tightest(self.buckets, counts, self.now)
        return self._status

    def headers(self) -> dict[str, str]:
        status = self.status()
        return status.headers() if status else {}


class RateLimitedWithStatus(RateLimited):
    """A 429 that carries the exhausted bucket's headers."""

    def __init__(self, message: str, *, retry_after: int, status: LimitStatus) -> None:
        super().__init__(message, retry_after=retry_after)
        self.limit_status = status

    def headers(self) -> dict[str, str]:
        return {**super().headers(), **self.limit_status.headers()}


def _counter(bucket: Bucket, now: float) -> limit_store.CounterUpdate:
    return limit_store.CounterUpdate(bucket.item_key(now), bucket.limit, bucket.reset_at(now))


def _refused(bucket: Bucket, now: float) -> RateLimitedWithStatus:
    reset = bucket.reset_at(now)
    status = LimitStatus(limit=bucket.limit, remaining=0, reset_at=reset)
    per = "minute" if bucket.window_seconds == 60 else f"{bucket.window_seconds} s"
    return RateLimitedWithStatus(
        f"Rate limit exceeded: {bucket.limit} requests per {per}. Retry after {reset - int(now)} s.",
        retry_after=max(1, reset - int(now)),
        status=status,
    )


def admit(
    buckets: list[Bucket],
    *,
    reservation: list[dict[str, Any]] | None = None,
    clock: Callable[[], float] = time.time,
) -> Admission:
    """Count the request in every bucket and reserve its credits, or refuse it with nothing consumed."""
    now = clock()
    with _refusals(buckets, now):
        if _one_bucket_alone(buckets, reservation):
            return Admission(buckets, now, counts=[limit_store.increment(_counter(buckets[0], now))])
        limit_store.transact([_counter(b, now) for b in buckets], reservation or [])
    return Admission(buckets, now)


async def admit_async(
    buckets: list[Bucket],
    *,
    reservation: list[dict[str, Any]] | None = None,
    clock: Callable[[], float] = time.time,
) -> Admission:
    """``admit`` on the event loop, for the chat hot path (no worker thread, no botocore)."""
    now = clock()
    with _refusals(buckets, now):
        if _one_bucket_alone(buckets, reservation):
            count = await limit_store.increment_async(_counter(buckets[0], now))
            return Admission(buckets, now, counts=[count])
        await limit_store.transact_async([_counter(b, now) for b in buckets], reservation or [])
    return Admission(buckets, now)


async def admit_stated(
    buckets: list[Bucket], counts: list[int], *, reservation: list[dict[str, Any]], now: float
) -> Admission | None:
    """Admission conditioned on each bucket's count being exactly ``counts`` (each under its
    limit) and on the reservation's own conditions: the admitted request's counts are then known
    without a read. None when a stated value no longer holds: nothing was consumed, and the
    request is to be admitted the ordinary way (shared/limits/known.py)."""
    if any(count >= b.limit for b, count in zip(buckets, counts, strict=True)):
        raise ValueError("a stated count must be under its bucket's limit")
    counters = [_counter(b, now) for b in buckets]
    if not await limit_store.transact_stated_async(counters, counts, reservation):
        return None
    return Admission(buckets, now, counts=[count + 1 for count in counts])


def _one_bucket_alone(buckets: list[Bucket], reservation: list[dict[str, Any]] | None) -> bool:
    """One UpdateItem (which returns the count) instead of a transaction."""
    return not reservation and len(buckets) == 1


@contextmanager
def _refusals(buckets: list[Bucket], now: float) -> Iterator[None]:
    """A denied admission item as the client's error."""
    try:
        yield
    except limit_store.AdmissionDenied as denied:
        raise _denial(buckets, now, denied) from denied


def _denial(buckets: list[Bucket], now: float, denied: limit_store.AdmissionDenied) -> Exception:
    """A refused bucket is a 429 with its headers; a refused extra item, insufficient credits."""
    if denied.index < len(buckets):
        return _refused(buckets[denied.index], now)
    return InsufficientCredits(
        "Not enough credits for this request. Buy a package or wait for your next grant."
    )
