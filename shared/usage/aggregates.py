"""Pure layout of usage records and aggregates (usage table; docs/CREDITS.md "Usage").

- ``REQ#<account>`` / ``<created_at_ms>#<request_id>``: one record a request (TTL 90 days).
- ``USAGE#<account>`` / ``D#<yyyy-mm-dd>``, ``H#<yyyy-mm-ddThh>``: the account's counters by day
  and by hour (UTC); ``...#model#<model>`` and ``...#key#<key_id>``: the same per model, per key;
  ``TOTAL``: lifetime counters.
- ``SEEN#<request_id>`` / ``SEEN``: written with the counters, once, so a redelivery adds nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from shared.usage.events import UsageEvent

RECORD_TTL = dt.timedelta(days=90)
HOUR_TTL = dt.timedelta(days=35)
DAY_TTL = dt.timedelta(days=400)
SEEN_TTL = dt.timedelta(days=35)  # longer than the queue keeps a message (14 days)
COUNTERS = ("requests", "succeeded", "failed", "input_tokens", "output_tokens", "credits", "latency_ms")


@dataclass(frozen=True)
class Counter:
    """One aggregate item: ``values`` are ADDed; ``labels`` are SET; ``expires_at`` is its TTL."""

    pk: str
    sk: str
    values: dict[str, int]
    labels: dict[str, str]
    expires_at: int | None


def usage_pk(account_id: str) -> str:
    """Partition of an account's aggregates."""
    return f"USAGE#{account_id}"


def seen_key(request_id: str) -> tuple[str, str]:
    """Key of the marker that makes an event count once."""
    return f"SEEN#{request_id}", "SEEN"


def charged_credits(event: UsageEvent) -> int:
    """Credits the event charged (0 when not charged)."""
    return event.credits if event.charged else 0


def _values(event: UsageEvent) -> dict[str, int]:
    success = event.outcome == "success"
    return {
        "requests": 1,
        "succeeded": int(success),
        "failed": int(not success),
        "input_tokens": event.input_tokens,
        "output_tokens": event.output_tokens,
        "credits": charged_credits(event),
        "latency_ms": event.latency_ms,
    }


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def event_time(event: UsageEvent) -> dt.datetime:
    """When the request was made (UTC), from the event."""
    return dt.datetime.fromtimestamp(event.created_at_ms / 1000, dt.UTC)


def usage_counters(event: UsageEvent) -> list[Counter]:
    """Every aggregate one event adds to: by day and hour, for the account, its model and its key."""
    at = event_time(event)
    pk = usage_pk(event.account_id)
    values = _values(event)
    day, hour = at.strftime("%Y-%m-%d"), at.strftime("%Y-%m-%dT%H")
    periods = (("D", day, _epoch(at + DAY_TTL)), ("H", hour, _epoch(at + HOUR_TTL)))
    counters: list[Counter] = []
    for prefix, period, ttl in periods:
        base = f"{prefix}#{period}"
        counters.append(Counter(pk, base, values, {"period": period}, ttl))
        model_labels = {"period": period, "model": event.public_model}
        counters.append(Counter(pk, f"{base}#model#{event.public_model}", values, model_labels, ttl))
        key_labels = {"period": period, "key_id": event.key_id}
        counters.append(Counter(pk, f"{base}#key#{event.key_id}", values, key_labels, ttl))
    counters.append(Counter(pk, "TOTAL", values, {}, None))
    return counters


def request_record(event: UsageEvent) -> dict[str, Any]:
    """The per-request record: ids, models, counts and outcome (never a key or prompt text)."""
    at = event_time(event)
    record = event.model_dump(exclude={"version", "credits", "charged", "created_at_ms"})
    record.update(
        pk=f"REQ#{event.account_id}",
        sk=f"{event.created_at_ms:013d}#{event.request_id}",
        credits=charged_credits(event),
        reserved_credits=event.credits,
        charged=event.charged,
        created_at=at.isoformat(timespec="milliseconds"),
        expires_at=_epoch(at + RECORD_TTL),
    )
    return record
