"""The local stack's own control routes, under ``/__local/``: never part of template.yaml's API.

- ``GET /__local/schedules``: the schedules of template.yaml, by name (``<Function>.<Event>``).
- ``POST /__local/schedules/{name}``: run that schedule now, once, as EventBridge would invoke it
  (whether or not the stack runs schedules at their interval), and answer what the handler returned.
  ``name`` is the full name, or a function or event name that matches one schedule alone; an
  unknown or ambiguous name is a 404 that lists the names.

``sluice --local schedules list|run NAME`` calls these routes.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send

from shared.observability import get_logger
from sluice.local.event_sources import ScheduleRunner

PREFIX = "/__local/"
SCHEDULES_PATH = "/__local/schedules"


def resolve_schedule(names: list[str], wanted: str) -> str | None:
    """The schedule ``wanted`` names: a full name, or a function or event name that fits one alone."""
    if wanted in names:
        return wanted
    fitting = [name for name in names if wanted in name.split(".", 1)]
    return fitting[0] if len(fitting) == 1 else None


@dataclass
class LocalControl:
    schedules: dict[str, ScheduleRunner]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path, method = scope["path"].rstrip("/"), scope["method"]
        if path == SCHEDULES_PATH:
            if method != "GET":
                await _send(send, 405, _error("method_not_allowed", f"Use GET on {path}."), allow="GET")
                return
            await _send(send, 200, self._listing())
            return
        if path.startswith(SCHEDULES_PATH + "/") and path.count("/") == 3:
            if method != "POST":
                await _send(send, 405, _error("method_not_allowed", f"Use POST on {path}."), allow="POST")
                return
            await self._run(send, path.rsplit("/", 1)[1])
            return
        await _send(send, 404, _error("not_found", f"No local control route {method} {path}."))

    def _listing(self) -> dict[str, Any]:
        return {
            "object": "list",
            "data": [
                {
                    "object": "schedule",
                    "name": name,
                    "function": runner.schedule.function,
                    "expression": runner.schedule.expression,
                    "enabled": runner.schedule.enabled,
                }
                for name, runner in sorted(self.schedules.items())
            ],
        }

    async def _run(self, send: Send, wanted: str) -> None:
        names = sorted(self.schedules)
        name = resolve_schedule(names, wanted)
        if name is None:
            message = f"No schedule {wanted!r}; the schedules are: {', '.join(names) or 'none'}."
            await _send(send, 404, {**_error("schedule_not_found", message), "schedules": names})
            return
        runner = self.schedules[name]
        started = time.monotonic()
        try:
            result = await runner.invoke()
        except Exception as exc:
            get_logger().exception("on-demand scheduled run failed", extra={"schedule": name})
            await _send(send, 500, _error("schedule_failed", f"{name} failed: {type(exc).__name__}: {exc}"))
            return
        duration_ms = round((time.monotonic() - started) * 1000)
        get_logger().info("on-demand scheduled run", extra={"schedule": name, "ms": duration_ms})
        body = {
            "object": "schedule_run",
            "schedule": name,
            "function": runner.schedule.function,
            "duration_ms": duration_ms,
            "result": result,
        }
        await _send(send, 200, body)


def _error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}}


async def _send(send: Send, status: int, body: dict[str, Any], allow: str | None = None) -> None:
    headers = [(b"content-type", b"application/json"), (b"cache-control", b"no-store")]
    if allow:
        headers.append((b"allow", allow.encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": json.dumps(body, default=str).encode()})
