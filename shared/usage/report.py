"""Usage by day and by hour (and per model, per key) from the aggregates the usage consumer keeps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from shared.adapters import usage_store
from shared.usage.aggregates import COUNTERS, usage_pk

_REPORTED = ("requests", "succeeded", "failed", "input_tokens", "output_tokens", "credits")


def _counts(item: dict[str, Any]) -> dict[str, int]:
    return {name: int(item.get(name, 0)) for name in _REPORTED}


def _sum_by(items: Iterable[dict[str, Any]], label: str) -> list[dict[str, Any]]:
    totals: dict[str, dict[str, int]] = {}
    for item in items:
        bucket = totals.setdefault(str(item[label]), dict.fromkeys(_REPORTED, 0))
        for name, value in _counts(item).items():
            bucket[name] += value
    return [{label: name, **values} for name, values in sorted(totals.items())]


def _periods(account_id: str, prefix: str, low: str, high: str) -> list[dict[str, Any]]:
    return usage_store.query_range(usage_pk(account_id), f"{prefix}#{low}", f"{prefix}#{high}#~")


def average_tokens(total: dict[str, Any]) -> float:
    """(input + output tokens) / requests, to one decimal; 0 without requests."""
    requests = int(total.get("requests", 0))
    tokens = int(total.get("input_tokens", 0)) + int(total.get("output_tokens", 0))
    return round(tokens / requests, 1) if requests else 0.0


def usage_summary(account_id: str, now: dt.datetime, days: int, hours: int) -> dict[str, Any]:
    """The last ``days`` days and ``hours`` hours (UTC), plus lifetime totals."""
    now = now.astimezone(dt.UTC)
    first_day = (now - dt.timedelta(days=days - 1)).strftime("%Y-%m-%d")
    day_items = _periods(account_id, "D", first_day, now.strftime("%Y-%m-%d"))
    first_hour = (now - dt.timedelta(hours=hours - 1)).strftime("%Y-%m-%dT%H")
    hour_items = _periods(account_id, "H", first_hour, now.strftime("%Y-%m-%dT%H"))
    total = usage_store.get(usage_pk(account_id), "TOTAL") or {}
    plain_days = [i for i in day_items if "model" not in i and "key_id" not in i]
    plain_hours = [i for i in hour_items if "model" not in i and "key_id" not in i]
    return {
        **{name: int(total.get(name, 0)) for name in COUNTERS if name != "latency_ms"},
        "average_tokens_per_request": average_tokens(total),
        "by_day": [{"date": i["period"], **_counts(i)} for i in plain_days],
        "by_hour": [{"hour": i["period"], **_counts(i)} for i in plain_hours],
        "by_model": _sum_by((i for i in day_items if "model" in i), "model"),
        "by_key": _sum_by((i for i in day_items if "key_id" in i), "key_id"),
    }
