"""A fake Anthropic Messages API on 127.0.0.1, speaking the real protocol.

``POST /v1/messages`` checks ``x-api-key`` and ``anthropic-version`` as Anthropic does, records
each request, and answers according to the requested ``model`` (a scenario name, see
``SCENARIOS`` and ``FAILURES``): a JSON Message, or with ``stream: true`` the SSE sequence
``message_start``, ``ping``, ``content_block_start``/``_delta``/``_stop`` per block (text,
thinking with ``signature_delta``, tool_use with ``input_json_delta``), ``message_delta`` and
``message_stop``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from support import threaded_server

API_KEY = "sk-ant-fake-key"
VERSION = "2023-06-01"
USAGE_IN = {"input_tokens": 20, "cache_read_input_tokens": 5, "cache_creation_input_tokens": 0}
OUTPUT_TOKENS = 15

# Content blocks per scenario; a tool_use input is streamed in the fragments given.
SCENARIOS: dict[str, list[dict[str, Any]]] = {
    "claude-text": [{"type": "text", "text": ["Hello", " world"]}],
    "claude-tools": [
        {"type": "text", "text": ["Let me check."]},
        {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "json": ['{"city": ', '"Paris"}']},
    ],
    "claude-thinking": [
        {"type": "thinking", "thinking": ["Two plus ", "two is four."], "signature": "sig-abc"},
        {"type": "text", "text": ["4"]},
    ],
}
STOP_REASONS = {"claude-tools": "tool_use"}
# Scenarios that fail: (HTTP status, Anthropic error type, message, extra headers).
FAILURES: dict[str, tuple[int, str, str, dict[str, str]]] = {
    "claude-overloaded": (529, "overloaded_error", "Overloaded", {}),
    "claude-rate-limited": (429, "rate_limit_error", "Slow down", {"retry-after": "7"}),
    "claude-invalid": (400, "invalid_request_error", "prompt is too long: 300000 tokens > 200000", {}),
}


@dataclass
class Received:
    body: dict[str, Any]
    headers: dict[str, str]
    port: int = 0  # the client's port: one per connection


@dataclass
class FakeAnthropic:
    """The app and what it received; ``serve()`` runs it and yields its base URL."""

    received: list[Received] = field(default_factory=list)

    def app(self) -> Starlette:
        return Starlette(routes=[Route("/v1/messages", self._messages, methods=["POST"])])

    @contextmanager
    def serve(self) -> Iterator[str]:
        with serving(self.app()) as port:
            yield f"http://127.0.0.1:{port}"

    async def _messages(self, request: Request) -> Response:
        if request.headers.get("x-api-key") != API_KEY:
            return _error(401, "authentication_error", "invalid x-api-key")
        if request.headers.get("anthropic-version") != VERSION:
            return _error(400, "invalid_request_error", "anthropic-version header is required")
        body = await request.json()
        self.received.append(
            Received(body, dict(request.headers), request.client.port if request.client else 0)
        )
        model = str(body.get("model"))
        if model in FAILURES:
            status, kind, message, headers = FAILURES[model]
            return _error(status, kind, message, headers)
        if body.get("stream"):
            return StreamingResponse(_sse(_stream_events(model)), media_type="text/event-stream")
        return JSONResponse(_message(model))


def _error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"type": "error", "error": {"type": kind, "message": message}}
    return JSONResponse(body, status_code=status, headers=headers)


def _blocks(model: str) -> list[dict[str, Any]]:
    return SCENARIOS.get(model, SCENARIOS["claude-text"])


def _message(model: str) -> dict[str, Any]:
    content: list[dict[str, Any]] = []
    for block in _blocks(model):
        if block["type"] == "text":
            content.append({"type": "text", "text": "".join(block["text"])})
        elif block["type"] == "thinking":
            thinking = "".join(block["thinking"])
            content.append({"type": "thinking", "thinking": thinking, "signature": block["signature"]})
        else:
            tool_input = json.loads("".join(block["json"]))
            content.append(
                {"type": "tool_use", "id": block["id"], "name": block["name"], "input": tool_input}
            )
    return {
        "id": "msg_fake01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": STOP_REASONS.get(model, "end_turn"),
        "stop_sequence": None,
        "usage": {**USAGE_IN, "output_tokens": OUTPUT_TOKENS},
    }


def _stream_events(model: str) -> list[dict[str, Any]]:
    start = {**_message(model), "content": [], "stop_reason": None, "usage": {**USAGE_IN, "output_tokens": 1}}
    events: list[dict[str, Any]] = [{"type": "message_start", "message": start}, {"type": "ping"}]
    if model == "claude-stream-error":
        return [*events, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}]
    for index, block in enumerate(_blocks(model)):
        events.extend(_block_events(index, block))
        if model == "claude-cut":
            return events  # the connection drops: no message_delta, no message_stop
    delta = {"stop_reason": STOP_REASONS.get(model, "end_turn"), "stop_sequence": None}
    events.append({"type": "message_delta", "delta": delta, "usage": {"output_tokens": OUTPUT_TOKENS}})
    events.append({"type": "message_stop"})
    return events


def _block_events(index: int, block: dict[str, Any]) -> list[dict[str, Any]]:
    kind = block["type"]
    if kind == "text":
        opened: dict[str, Any] = {"type": "text", "text": ""}
        deltas = [{"type": "text_delta", "text": t} for t in block["text"]]
    elif kind == "thinking":
        opened = {"type": "thinking", "thinking": "", "signature": ""}
        deltas = [{"type": "thinking_delta", "thinking": t} for t in block["thinking"]]
        deltas.append({"type": "signature_delta", "signature": block["signature"]})
    else:
        opened = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
        deltas = [{"type": "input_json_delta", "partial_json": j} for j in block["json"]]
    return [
        {"type": "content_block_start", "index": index, "content_block": opened},
        *({"type": "content_block_delta", "index": index, "delta": d} for d in deltas),
        {"type": "content_block_stop", "index": index},
    ]


async def _sse(events: list[dict[str, Any]]) -> AsyncIterator[bytes]:
    for event in events:
        yield f"event: {event['type']}\ndata: {json.dumps(event)}\n\n".encode()


@contextmanager
def serving(app: Starlette) -> Iterator[int]:
    """Run ``app`` with uvicorn on a free 127.0.0.1 port in a thread and yield the port."""
    with threaded_server.serving(app, "fake Anthropic server") as port:
        yield port
