"""Anthropic Messages API upstreams (api.anthropic.com or a host speaking the same protocol).

Two ways in. Canonical (``complete``/``stream``): a request from any client format, translated
with ``request_to_anthropic``. Passthrough (``passthrough_complete``/``passthrough_stream``): an
Anthropic client's own Messages body, with only ``model`` rewritten, so fields Sluice does not
model (``context_management``, new block types, ...) reach the upstream intact; the caller derives
canonical events and usage from the same dicts with ``AnthropicEventParser``.

Every failure is an ``UpstreamCallFailed``: HTTP errors are classified by status (Anthropic's
``overloaded_error`` counts as its 529 whatever the status), stream ``error`` events by their
error type, through the same table.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import httpx

from shared import json_codec
from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse
from shared.chat.from_anthropic_response import response_from_anthropic
from shared.chat.sse import SseEvent, SseParser
from shared.chat.stream_anthropic import AnthropicEventParser
from shared.chat.to_anthropic import request_to_anthropic
from shared.errors import UpstreamError
from shared.providers.base import UpstreamCallFailed, failed_status
from shared.providers.http_client import (
    finish_body,
    parsed_url,
    retry_after,
    transport_failures,
    upstream_client,
)
from shared.providers.secrets import expand_base_url, resolve_secret

type Json = dict[str, Any]

ANTHROPIC_VERSION = "2023-06-01"
DEFAULT_BASE_URL = "https://api.anthropic.com"
OVERLOADED_STATUS = 529
# Anthropic's documented error types and the HTTP status each stands for; a stream ``error``
# event carries only the type, and is classified as if it had come with that status.
ERROR_TYPE_STATUS: Mapping[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "api_error": 500,
    "timeout_error": 504,
    "overloaded_error": OVERLOADED_STATUS,
}
UNKNOWN_ERROR_STATUS = 500


def messages_url(route: UpstreamRoute) -> str:
    """``{base_url}/v1/messages``; a base URL that already ends in ``/v1`` is not doubled."""
    base = expand_base_url(route.base_url or DEFAULT_BASE_URL)
    return base + ("/messages" if base.endswith("/v1") else "/v1/messages")


def _headers(route: UpstreamRoute, betas: Sequence[str]) -> dict[str, str]:
    headers = {
        "content-type": "application/json",
        "accept": "application/json, text/event-stream",
        "anthropic-version": ANTHROPIC_VERSION,
    }
    secret = resolve_secret(route.secret_ref)
    if secret:
        headers["x-api-key"] = secret
    if betas:
        headers["anthropic-beta"] = ",".join(betas)
    return headers


def _error_fields(payload: object) -> tuple[str | None, str]:
    """``(error.type, error.message)`` of Anthropic's ``{"type": "error", "error": {...}}``."""
    error = payload.get("error") if isinstance(payload, dict) else None
    if not isinstance(error, dict):
        return None, ""
    kind = error.get("type")
    return (str(kind) if kind else None), str(error.get("message") or "")


async def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    body = await response.aread()
    try:
        payload = json.loads(body)
    except ValueError:
        payload = None
    kind, message = _error_fields(payload)
    status = OVERLOADED_STATUS if kind == "overloaded_error" else response.status_code
    raise failed_status(status, code=kind, message=message, retry_after=retry_after(response))


def stream_error_failure(event: Mapping[str, Any]) -> UpstreamCallFailed:
    """A stream ``error`` event as a failure: overloaded/rate-limit/api errors are retryable."""
    kind, message = _error_fields(dict(event))
    status = ERROR_TYPE_STATUS.get(kind or "", UNKNOWN_ERROR_STATUS)
    return failed_status(status, code=kind, message=message)


def passthrough_body(body: Mapping[str, Any], route: UpstreamRoute, *, stream: bool) -> Json:
    """The client's body for the upstream: ``model`` is the route's, ``stream`` what we read."""
    sent = dict(body)
    sent["model"] = route.model
    if stream:
        sent["stream"] = True
    elif "stream" in sent:
        sent["stream"] = False
    return sent


class AnthropicProvider:
    """The Messages API over the pooled httpx client (connections reused across invocations)."""

    def prepare(self, request: ChatRequest, route: UpstreamRoute, *, stream: bool) -> httpx.Request:
        """The HTTP request ``complete`` (``stream=False``) or ``stream`` sends, built ahead."""
        body = request_to_anthropic(
            replace(request, model=route.model, stream=stream), thinking_style=route.thinking_style
        )
        return _http_request(body, route, ())

    async def complete(
        self, request: ChatRequest, route: UpstreamRoute, prepared: httpx.Request | None = None
    ) -> ChatResponse:
        """One whole answer, translated from the canonical request."""
        payload = await _post(lambda: prepared or self.prepare(request, route, stream=False))
        try:
            return response_from_anthropic(payload)
        except UpstreamError as exc:
            raise UpstreamCallFailed(exc.message, retryable=True) from exc

    async def stream(
        self, request: ChatRequest, route: UpstreamRoute, prepared: httpx.Request | None = None
    ) -> AsyncIterator[ev.StreamEvent]:
        """Canonical events of a streamed answer, up to ``message_stop``."""
        parser = AnthropicEventParser()
        async for _name, data in _stream_events(
            lambda: prepared or self.prepare(request, route, stream=True)
        ):
            try:
                events = parser.feed(data)
            except UpstreamError as exc:
                raise UpstreamCallFailed(exc.message, retryable=True) from exc
            for event in events:
                yield event

    async def passthrough_complete(
        self, body: Mapping[str, Any], route: UpstreamRoute, *, betas: Sequence[str] = ()
    ) -> Json:
        """The upstream's Message for the client's own body (``max_tokens`` clamped by the caller).

        ``betas`` are sent as ``anthropic-beta`` (features such as context management need one).
        """
        return await _post(lambda: _http_request(passthrough_body(body, route, stream=False), route, betas))

    async def passthrough_stream(
        self, body: Mapping[str, Any], route: UpstreamRoute, *, betas: Sequence[str] = ()
    ) -> AsyncIterator[tuple[str, Json]]:
        """The upstream's raw stream as ``(event name, data)`` pairs, ``ping`` included, up to and
        including ``message_stop``; an ``error`` event raises ``UpstreamCallFailed`` instead."""
        async for item in _stream_events(
            lambda: _http_request(passthrough_body(body, route, stream=True), route, betas)
        ):
            yield item


def _http_request(body: Json, route: UpstreamRoute, betas: Sequence[str]) -> httpx.Request:
    return upstream_client().prepare_json(parsed_url(messages_url(route)), body, _headers(route, betas))


async def _post(build: Callable[[], httpx.Request]) -> Json:
    """The answer to the request ``build`` makes (inside the transport's error mapping)."""
    with transport_failures():
        request = build()
    try:
        with transport_failures():
            response = await upstream_client().post_prepared(request)
            await _raise_for_status(response)
            payload = response.json()
    except ValueError as exc:
        raise UpstreamCallFailed("upstream sent invalid JSON", retryable=True) from exc
    if not isinstance(payload, dict):
        raise UpstreamCallFailed("upstream sent a body that is not a JSON object", retryable=True)
    return payload


async def _stream_events(build: Callable[[], httpx.Request]) -> AsyncIterator[tuple[str, Json]]:
    with transport_failures():
        async with upstream_client().stream_prepared(build()) as response:
            await _raise_for_status(response)
            async for item in _read_events(response):
                yield item


async def _read_events(response: httpx.Response) -> AsyncIterator[tuple[str, Json]]:
    body = response.aiter_bytes()
    async for item in _sse(body):
        data = _event_data(item.data)
        kind = str(data.get("type"))
        if kind == "error":
            raise stream_error_failure(data)
        yield item.event or kind, data
        if kind == "message_stop":
            await finish_body(body)
            return
    raise UpstreamCallFailed("upstream stream ended before message_stop", retryable=True)


async def _sse(body: AsyncIterator[bytes]) -> AsyncIterator[SseEvent]:
    parser = SseParser()
    async for raw in body:
        for item in parser.events(raw):
            yield item
    for item in parser.finish():
        yield item


def _event_data(data: str) -> Json:
    try:
        event = json_codec.loads(data)
    except (ValueError, RecursionError) as exc:
        raise UpstreamCallFailed("upstream sent a malformed stream event", retryable=True) from exc
    if not isinstance(event, dict):
        raise UpstreamCallFailed("upstream sent a malformed stream event", retryable=True)
    return event
