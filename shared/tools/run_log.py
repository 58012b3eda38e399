"""The tool-run log: who ran which tool, on which model, tokens, latency and outcome.

Written by the usage consumer from the usage event of every admitted tool proxy request (so a
run is logged once its outcome is known, streamed or not, and a redelivered event writes and logs
nothing), and by the tools function for a run refused before or by its admission, which sends no
usage event (outcome ``refused``). Read by ``GET /api/tools/{tool_id}/runs``. It holds ids, counts
and outcomes, never prompt or answer text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from shared.adapters import tool_run_store
from shared.dashboard.paging import decode_cursor, encode_cursor
from shared.observability import get_logger
from shared.usage.events import UsageEvent

RUN_TTL = dt.timedelta(days=90)
REFUSED = "refused"  # the outcome of a run refused before or by its admission (no usage event)
_SORT_KEY = re.compile(r"[0-9]{13}#[^#]+")  # <created_ms>#<request_id>
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
    return _record(
        event.account_id,
        event.tool_id,
        event.created_at_ms,
        {name: getattr(event, name) for name in _FIELDS} | {"credits": event.credits if event.charged else 0},
    )


def refused_record(
    *,
    request_id: str,
    account_id: str,
    tool_id: str,
    key_id: str | None,
    public_model: str,
    outcome: str,
    status: int,
    error_code: str,
    latency_ms: int,
    stream: bool,
    created_at_ms: int,
) -> dict[str, Any]:
    """The log item of a run that ended before or at its admission, with no usage event (pure):
    no tokens, no charge; ``outcome`` is ``refused`` (or ``failed`` for a 5xx)."""
    fields = {
        "request_id": request_id,
        "key_id": key_id,
        "public_model": public_model,
        "routed_model": None,
        "input_tokens": 0,
        "output_tokens": 0,
        "latency_ms": max(latency_ms, 0),
        "outcome": outcome,
        "status": status,
        "error_code": error_code,
        "charged": False,
        "stream": stream,
        "credits": 0,
    }
    return _record(account_id, tool_id, created_at_ms, fields)


def _record(account_id: str, tool_id: str, created_at_ms: int, fields: dict[str, Any]) -> dict[str, Any]:
    at = dt.datetime.fromtimestamp(created_at_ms / 1000, dt.UTC)
    return {
        "pk": runs_pk(account_id, tool_id),
        "sk": f"{created_at_ms:013d}#{fields['request_id']}",
        "account_id": account_id,
        "tool_id": tool_id,
        **fields,
        "created_at": at.isoformat(timespec="milliseconds"),
        "expires_at": int((at + RUN_TTL).timestamp()),
    }


def record_tool_run(event: UsageEvent) -> bool:
    """Log one run, once: the item and one log line; False (neither) for a redelivered event.

    The usage consumer calls this (``apply_usage_event``) for events that carry a tool id.
    """
    return write_run(run_record(event))


def write_run(record: dict[str, Any]) -> bool:
    """Write a log item if absent (keyed by its request id), and log one line when written."""
    if not tool_run_store.put_run(record):
        return False
    get_logger().info(
        "tool run",
        extra={k: record[k] for k in ("account_id", "tool_id", "request_id", "routed_model", "outcome")}
        | {
            "tokens": record["input_tokens"] + record["output_tokens"],
            "latency_ms": record["latency_ms"],
            "error_code": record["error_code"],
        },
    )
    return True


def _view(item: dict[str, Any]) -> dict[str, Any]:
    shown = {name: item.get(name) for name in (*_FIELDS, "credits", "created_at")}
    return {"object": "tool_run", "tool_id": item["tool_id"], **shown}


def tool_runs(account_id: str, tool_id: str, limit: int, cursor: str | None) -> dict[str, Any]:
    """One page of a tool's runs, newest first."""
    pk = runs_pk(account_id, tool_id)
    after = decode_cursor(cursor, "", _SORT_KEY, scope=pk)
    items, last = tool_run_store.query_runs(pk, limit, after)
    return {
        "object": "list",
        "data": [_view(i) for i in items],
        "has_more": last is not None,
        "next_cursor": encode_cursor(last, scope=pk) if last else None,
    }
