"""The tool-run log: who ran which tool, on which model, tokens, latency and outcome.

Written by the usage consumer from the usage event of every tool proxy request (so a run is
logged once its outcome is known, streamed or not, and a redelivered event writes and logs
nothing), read by ``GET /api/tools/{tool_id}/runs``. It holds ids, counts and outcomes, never
prompt or answer text.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.adapters import tool_run_store
from shared.dashboard.paging import decode_cursor, encode_cursor
from shared.observability import get_logger
from shared.usage.events import UsageEvent

RUN_TTL = dt.timedelta(days=90)
_FIELDS = (
    "request_id",
    "key_id",
    "public_model",
    "routed_model",
    "input_tokens",
    "output_tokens",
    "latency_ms",
    "outcome",
    "status",
    "error_code",
    "charged",
    "stream",
)


def runs_pk(account_id: str, tool_id: str) -> str:
    return f"TOOLRUN#{account_id}#{tool_id}"


def run_record(event: UsageEvent) -> dict[str, Any]:
    """The log item of one tool run (pure)."""
    if event.tool_id is None:
        raise ValueError("not a tool run")
    at = dt.datetime.fromtimestamp(event.created_at_ms / 1000, dt.UTC)
    return {
        "pk": runs_pk(event.account_id, event.tool_id),
        "sk": f"{event.created_at_ms:013d}#{event.request_id}",
        "account_id": event.account_id,
        "tool_id": event.tool_id,
        **{name: getattr(event, name) for name in _FIELDS},
        "credits": event.credits if event.charged else 0,
        "created_at": at.isoformat(timespec="milliseconds"),
        "expires_at": int((at + RUN_TTL).timestamp()),
    }


def record_tool_run(event: UsageEvent) -> bool:
    """Log one run, once: the item and one log line; False (neither) for a redelivered event.

    The usage consumer calls this (``apply_usage_event``) for events that carry a tool id.
    """
    record = run_record(event)
    if not tool_run_store.put_run(record):
        return False
    get_logger().info(
        "tool run",
        extra={k: record[k] for k in ("account_id", "tool_id", "request_id", "routed_model", "outcome")}
        | {"tokens": event.input_tokens + event.output_tokens, "latency_ms": event.latency_ms},
    )
    return True


def _view(item: dict[str, Any]) -> dict[str, Any]:
    shown = {name: item.get(name) for name in (*_FIELDS, "credits", "created_at")}
    return {"object": "tool_run", "tool_id": item["tool_id"], **shown}


def tool_runs(account_id: str, tool_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of a tool's runs, newest first."""
    pk = runs_pk(account_id, tool_id)
    after = decode_cursor(cursor, "")
    items, last = tool_run_store.query_runs(pk, limit, after)
    return {
        "object": "list",
        "data": [_view(i) for i in items],
        "has_more": last is not None,
        "next_cursor": encode_cursor(last) if last else None,
    }
