"""Fault injection helpers: log capture, failing AWS clients, and what every fault must leave behind.

Whatever fails (an upstream, DynamoDB, SQS), a chat request must end with:
- a well-formed error in the endpoint's wire format (or, once a stream has started, an error event),
  never a stack trace, with ``X-Request-Id``;
- nothing charged, once the usage events have been processed;
- its usage event queued (or kept in the outbox when SQS fails), unless it was never admitted;
- the request id in the logs.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from chat_support import chat_http, queued_usage_events
from support.logs import LogCapture, log_capture  # noqa: F401 - re-exported for the fault tests

from shared.adapters import aws_json, usage_store
from shared.adapters.aws_json import AwsError
from shared.usage.events import UsageEvent
from shared.usage.service import apply_usage_event

OPENAI_PATH = "/v1/chat/completions"
ANTHROPIC_PATH = "/v1/messages"


def client_error(code: str, operation: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": f"injected {code}"}}, operation)


class FailingClient:
    """A boto3 client whose named methods raise ``error``; everything else goes to the real client.

    It also stands in for the chat hot path's client (``shared.adapters.aws_json``): ``call`` of an
    operation named in ``failing`` (as its boto3 method name) raises the ``AwsError`` DynamoDB or
    SQS would have produced, after the client's own retries.
    """

    def __init__(self, real: Any, failing: dict[str, str], calls: list[str] | None = None) -> None:
        self._real = real
        self._failing = failing  # method name -> error code
        self.calls: list[str] = [] if calls is None else calls

    async def call(self, operation: str, params: dict[str, Any]) -> dict[str, Any]:
        name = "".join(f"_{c.lower()}" if c.isupper() else c for c in operation).lstrip("_")
        if name in self._failing:
            self.calls.append(name)
            code = self._failing[name]
            raise AwsError(operation, 503 if code == "ServiceUnavailable" else 400, code, "injected", {})
        return await self._real.call(operation, params)

    def __getattr__(self, name: str) -> Any:
        if name in self._failing:

            def fail(**kwargs: Any) -> Any:
                self.calls.append(name)
                operation = "".join(part.title() for part in name.split("_"))
                raise client_error(self._failing[name], operation)

            return fail
        return getattr(self._real, name)


class FailingTransport:
    """The hot path's AWS client (``shared.adapters.aws_json``) sees ``code`` for every ``operation``
    of ``service`` at the transport: its own retries run, and each attempt is recorded in ``calls``."""

    def __init__(self, scope: pytest.MonkeyPatch, service: str, operation: str, code: str) -> None:
        self.calls: list[str] = []
        real_send = aws_json.AwsJsonClient._send
        status = 503 if code == "ServiceUnavailable" else 400

        async def send(client: aws_json.AwsJsonClient, op: str, body: bytes) -> dict[str, Any]:
            if client.service.name == service and op == operation:
                self.calls.append(op)
                raise AwsError(op, status, code, "injected", {})
            return await real_send(client, op, body)

        scope.setattr(aws_json.AwsJsonClient, "_send", send)
        scope.setattr(aws_json, "BACKOFF_BASE_S", 0.001)


def body_for(path: str, text: str, *, stream: bool = False, model: str = "qwen3") -> dict[str, Any]:
    body: dict[str, Any] = {"model": model, "messages": [{"role": "user", "content": text}]}
    if path.endswith("/messages"):
        body["max_tokens"] = 64
    if stream:
        body["stream"] = True
    return body


def post(path: str, key: str, body: dict[str, Any]) -> httpx.Response:
    async def go() -> httpx.Response:
        async with chat_http() as http:
            return await http.post(path, json=body, headers={"Authorization": f"Bearer {key}"})

    return asyncio.run(go())


@dataclass(frozen=True)
class ErrorSeen:
    """The error the client got: as a status and JSON body, or as an event inside a 200 stream."""

    status: int
    error_type: str
    message: str
    in_stream: bool


def _stream_error(path: str, text: str) -> ErrorSeen | None:
    """The terminating error event of an SSE body, checked to be well-formed for its format."""
    datas = [line[len("data: ") :] for line in text.splitlines() if line.startswith("data: ")]
    if path.endswith("/messages"):
        events = [json.loads(d) for d in datas]
        errors = [e for e in events if e.get("type") == "error"]
        if not errors:
            return None
        assert events[-1] is errors[-1], "the error event ends the stream"
        assert "event: error" in text
        detail = errors[-1]["error"]
    else:
        done = bool(datas) and datas[-1] == "[DONE]"
        chunks = [json.loads(d) for d in (datas[:-1] if done else datas)]
        assert chunks, "a stream"
        last = chunks[-1]
        if "error" not in last:
            return None
        assert set(last) == {"error"}, f"the last chunk is an error chunk only, not {last}"
        detail = last["error"]
    assert isinstance(detail["message"], str) and detail["message"] and isinstance(detail["type"], str)
    return ErrorSeen(200, detail["type"], detail["message"], in_stream=True)


def _json_error(path: str, response: httpx.Response) -> ErrorSeen:
    assert response.headers["content-type"].startswith("application/json"), response.text
    body = response.json()
    if path.endswith("/messages") or path.endswith("/count_tokens"):
        assert body["type"] == "error" and set(body) == {"type", "error", "request_id"}, body
        assert body["request_id"] == response.headers["request-id"] == response.headers["x-request-id"]
        detail = body["error"]
        assert set(detail) == {"type", "message"}, detail
    else:
        assert set(body) == {"error"}, body
        detail = body["error"]
        assert set(detail) == {"message", "type", "code", "param"}, detail
    assert isinstance(detail["message"], str) and detail["message"]
    return ErrorSeen(response.status_code, detail["type"], detail["message"], in_stream=False)


def well_formed_error(path: str, response: httpx.Response) -> ErrorSeen:
    """The client-visible error, asserting its shape; fails if the request looked successful."""
    assert response.headers.get("x-request-id"), "every response carries X-Request-Id"
    assert "Traceback" not in response.text and 'File "' not in response.text, "no stack trace"
    if response.status_code == 200:
        assert response.headers["content-type"].startswith("text/event-stream"), response.text
        seen = _stream_error(path, response.text)
        assert seen is not None, "a failure must not look like a success"
        return seen
    assert response.status_code >= 400
    return _json_error(path, response)


def process_usage_events(queue_url: str) -> list[dict[str, Any]]:
    """Apply every queued usage event (settle or release), as the usage consumer does."""
    events = queued_usage_events(queue_url)
    for event in events:
        apply_usage_event(UsageEvent.model_validate(event))
    return events


def outbox_events() -> list[dict[str, Any]]:
    return [json.loads(body) for _, body in usage_store.list_outbox(100)]


@contextmanager
def patched(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """A monkeypatch scope that ends before the test goes on (e.g. before the consumer runs)."""
    with monkeypatch.context() as scope:
        yield scope
