"""Timestamps of the bench stack's request path (bench/stack.py): each AWS call's start and end,
each upstream request, the head of its answer and its end, next to each request's start (the
stack records ``request``). ``/__bench/events`` hands them over.

The boto3 clients of the cold paths are marked through botocore hooks; the hot path's client
(``shared.adapters.aws_json``) around its connection pool's exchange alone, so that signing the
request and parsing the answer count as the gateway's own time, not as time in flight. The same
wrapper sends the request path's calls where ``AWS["by"]`` says: moto, answered in process, or a
``bench/responder.py``.
"""

from __future__ import annotations

import json
import threading
import time
from contextvars import ContextVar
from functools import lru_cache
from typing import Any

from bench.aws_answers import ANSWERED, answer

EVENTS: list[tuple[float, str]] = []  # (time.perf_counter(), kind)
LOCK = threading.Lock()


def record(kind: str) -> None:
    with LOCK:
        EVENTS.append((time.perf_counter(), kind))


IN_PROCESS = "in-process"
AWS = {"by": "moto"}  # or IN_PROCESS, or a bench/responder.py URL
_ENDPOINT: ContextVar[str | None] = ContextVar("bench_endpoint", default=None)


def count_aws_calls() -> None:
    """Every AWS call is recorded: the boto3 clients' (``shared.adapters.aws.client``, cold paths)
    through botocore hooks, the hot path's (``shared.adapters.aws_json``) around its exchange.
    The request path's calls go where ``AWS["by"]`` says (the module's docstring)."""
    from shared.adapters import aws, aws_json

    build = aws.client

    def before(model: Any, params: dict[str, Any], **_: Any) -> None:
        record(f"call:{model.service_model.service_name}:{model.name}")

    def after(model: Any, **_: Any) -> None:
        record(f"done:{model.service_model.service_name}:{model.name}")

    @lru_cache(maxsize=8)
    def instrumented(service: str) -> Any:
        client = build(service)
        client.meta.events.register("before-call.*.*", before)
        client.meta.events.register("after-call.*.*", after)
        return client

    aws.client = instrumented
    real_send, real_endpoint, real_pool = aws_json.AwsJsonClient._send, aws_json.endpoint_for, aws_json._pool

    def endpoint_for(service: aws_json.Service, region: str) -> str:
        return _ENDPOINT.get() or real_endpoint(service, region)

    class MarkedPool:
        """The exchange alone is the call: signing the request and parsing the answer are the
        gateway's own work, not time in flight."""

        async def post(self, url: str, headers: dict[str, str], body: bytes) -> Any:
            prefix, _, operation = headers["x-amz-target"].partition(".")
            name = f"{'sqs' if prefix == 'AmazonSQS' else 'dynamodb'}:{operation}"
            record(f"call:{name}")
            try:
                return await real_pool().post(url, headers, body)
            finally:
                record(f"done:{name}")

    marked = MarkedPool()

    async def send(client: aws_json.AwsJsonClient, operation: str, body: bytes) -> dict[str, Any]:
        name, by = f"{client.service.name}:{operation}", AWS["by"]
        if by == "moto" or name not in ANSWERED:
            return await real_send(client, operation, body)
        if by == IN_PROCESS:
            client.signed_request(operation, body)  # serialised and signed, not sent
            record(f"call:{name}")
            reply = answer(name, json.loads(body))
            record(f"done:{name}")
            return reply
        endpoint = _ENDPOINT.set(f"{by}/")  # signed for, sent to and answered by the responder
        try:
            return await real_send(client, operation, body)
        finally:
            _ENDPOINT.reset(endpoint)

    aws_json.endpoint_for = endpoint_for
    aws_json._pool = lambda: marked  # type: ignore[assignment,return-value]
    aws_json.AwsJsonClient._send = send  # type: ignore[method-assign,assignment]


def mark_upstream_calls() -> None:
    """An ``upstream`` event when an upstream request goes to the HTTP transport (built ahead or
    not: providers build it while the admission is in flight), an ``upstream head`` event when
    the head of the upstream's answer has been read, a ``committed`` event when a stream's route
    has read its first content (``open_stream`` returns: the gateway commits to it), a ``response
    out`` event when the response's head goes to the socket (with the first bytes of its body:
    ``HeadJoiningTransport``), and an ``upstream end`` event when the answer is closed (read to its
    end, or given up)."""
    from shared.gateway import streaming
    from shared.http.server import HeadJoiningTransport
    from shared.providers import h1_transport
    from shared.providers.h1_transport import H1Transport

    open_stream, write = streaming.open_stream, HeadJoiningTransport.write

    async def open_marked(*args: Any, **kwargs: Any) -> Any:
        opened = await open_stream(*args, **kwargs)
        record("committed")
        return opened

    def write_marked(transport: HeadJoiningTransport, data: bytes | bytearray | memoryview) -> None:
        if transport._head is not None and data:  # this write sends the held head
            record("response out")
        write(transport, data)

    streaming.open_stream = open_marked
    HeadJoiningTransport.write = write_marked  # type: ignore[method-assign,assignment]

    exchange = H1Transport.handle_async_request
    close = h1_transport._Body.aclose

    async def head_marked(transport: H1Transport, request: Any) -> Any:
        record("upstream")
        response = await exchange(transport, request)
        record("upstream head")
        return response

    async def end_marked(body: Any) -> None:
        await close(body)
        record("upstream end")

    H1Transport.handle_async_request = head_marked  # type: ignore[method-assign,assignment]
    h1_transport._Body.aclose = end_marked  # type: ignore[method-assign,assignment]
