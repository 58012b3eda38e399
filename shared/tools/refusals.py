"""Tool runs refused before or by their admission, in the tool-run log.

An admitted run sends a usage event, and the usage consumer logs it (shared/tools/run_log.py).
A run refused earlier (its body over the plan's limit, its settings or input refused, no default
key, a usage limit, the rate limit, too few credits) sends none, so the tools function logs it
from its error path: outcome ``refused`` (``failed`` for a 5xx), the status and error code, no
tokens, no charge. Only a request naming a tool of the caller's account is a run of a tool; the
item is written once, on condition it is absent (its key is the request's arrival and id).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from shared import json_codec
from shared.adapters import tool_store
from shared.errors import SluiceError
from shared.observability import get_logger
from shared.tools import run_log
from shared.tools.models import InstalledTool


@dataclass
class RunAttempt:
    """What the tools proxy has learnt of one request so far (filled in as it goes)."""

    account_id: str
    request_id: str
    started: float = field(default_factory=time.monotonic)
    created_at_ms: int = field(default_factory=lambda: int(time.time() * 1000))  # with the request
    raw: bytes | None = None
    key_id: str | None = None
    tool: InstalledTool | None = None
    stream: bool | None = None


def log_refusal(attempt: RunAttempt, error: SluiceError) -> bool:
    """Log the refused run, if the request named one of the account's tools; never raises
    (the client gets its error whether or not the log item could be written)."""
    try:
        body = _body(attempt.raw)
        tool = attempt.tool or _named_tool(attempt.account_id, body)
        if tool is None or not attempt.request_id:
            return False
        stream = attempt.stream if attempt.stream is not None else body.get("stream") is True
        record = run_log.refused_record(
            request_id=attempt.request_id,
            account_id=attempt.account_id,
            tool_id=tool.tool_id,
            key_id=attempt.key_id,
            public_model=tool.model,
            outcome=run_log.REFUSED if error.status < 500 else "failed",
            status=error.status,
            error_code=error.code,
            latency_ms=int((time.monotonic() - attempt.started) * 1000),
            stream=stream,
            created_at_ms=attempt.created_at_ms,  # one key per request: a second write is refused
        )
        return run_log.write_run(record)
    except Exception:
        get_logger().exception("refused tool run not logged", extra={"request_id": attempt.request_id})
        return False


def _body(raw: bytes | None) -> dict[str, Any]:
    """The request's JSON object, or {} when there is none to read."""
    if not raw:
        return {}
    try:
        data = json_codec.loads_strict(raw)
    except (ValueError, RecursionError):
        return {}
    return data if isinstance(data, dict) else {}


def _named_tool(account_id: str, body: dict[str, Any]) -> InstalledTool | None:
    """The account's tool the body names (None for another account's, a missing or no tool)."""
    tool_id = body.get("tool_id")
    if not isinstance(tool_id, str) or not tool_store.is_tool_id(tool_id):
        return None
    return tool_store.get_tool(account_id, tool_id)
