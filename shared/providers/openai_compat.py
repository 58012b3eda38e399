"""OpenAI-compatible upstreams (vLLM, Ollama, llama.cpp, hosted APIs) over httpx.

Unknown fields of an OpenAI-format request pass through. Streams always ask the upstream for
usage (``stream_options.include_usage``), so tokens are metered even when the client did not
ask for a usage chunk.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx

from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse
from shared.chat.from_openai_response import response_from_openai
from shared.chat.sse import SseParser
from shared.chat.stream_openai import OpenAIChunkParser
from shared.chat.to_openai import request_to_openai
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


def _headers(route: UpstreamRoute) -> dict[str, str]:
    headers = {"content-type": "application/json", "accept": "application/json, text/event-stream"}
    secret = resolve_secret(route.secret_ref)
    if secret:
        headers["authorization"] = f"Bearer {secret}"
    return headers


def _error_fields(body: bytes) -> tuple[str | None, str]:
    try:
        error = json.loads(body).get("error", {})
    except (ValueError, AttributeError):
        return None, ""
    if not isinstance(error, dict):
        return None, str(error)
    code = error.get("code")
    return (str(code) if code else None), str(error.get("message") or "")


async def _raise_for_status(response: httpx.Response) -> None:
    if response.status_code < 400:
        return
    body = await response.aread()
    code, message = _error_fields(body)
    raise failed_status(response.status_code, code=code, message=message, retry_after=retry_after(response))


class OpenAICompatibleProvider:
    """Chat Completions over HTTP; connection reuse across invocations through one pooled client."""

    def prepare(self, request: ChatRequest, route: UpstreamRoute, *, stream: bool) -> httpx.Request:
        """The HTTP request ``complete`` (``stream=False``) or ``stream`` sends, built ahead."""
        streamed = (
            replace(request, stream=True, include_usage=True) if stream else replace(request, stream=False)
        )
        url = parsed_url(expand_base_url(route.base_url) + "/chat/completions")
        return upstream_client().prepare_json(url, request_to_openai(streamed), _headers(route))

    async def complete(
        self, request: ChatRequest, route: UpstreamRoute, prepared: httpx.Request | None = None
    ) -> ChatResponse:
        with transport_failures():
            call = prepared or self.prepare(request, route, stream=False)
        try:
            with transport_failures():
                response = await upstream_client().post_prepared(call)
                await _raise_for_status(response)
                payload = response.json()
        except ValueError as exc:
            raise UpstreamCallFailed("upstream sent invalid JSON", retryable=True) from exc
        try:
            return response_from_openai(payload)
        except UpstreamError as exc:
            raise UpstreamCallFailed(exc.message, retryable=True) from exc

    async def stream(
        self, request: ChatRequest, route: UpstreamRoute, prepared: httpx.Request | None = None
    ) -> AsyncIterator[ev.StreamEvent]:
        with transport_failures():
            call = prepared or self.prepare(request, route, stream=True)
            async with upstream_client().stream_prepared(call) as response:
                await _raise_for_status(response)
                async for event in _events(response):
                    yield event


async def _events(response: httpx.Response) -> AsyncIterator[ev.StreamEvent]:
    sse, chunks = SseParser(), OpenAIChunkParser()
    finished = False
    body = response.aiter_bytes()
    async for raw in body:
        for item in sse.events(raw):
            if item.data.strip() == "[DONE]":
                await finish_body(body)
                return
            events = chunks.feed_json(item.data)
            if events is None:  # not a well-formed chunk: decoded apart, for the exact error
                events = chunks.feed(_chunk(item.data))
            for event in events:
                finished = finished or isinstance(event, ev.Finish)
                yield event
    if not finished:  # some servers omit [DONE]; a stream cut before any finish reason is a failure
        raise UpstreamCallFailed("upstream stream ended before a finish reason", retryable=True)


def _chunk(data: str) -> dict[str, Any]:
    try:
        chunk = json.loads(data)
    except ValueError as exc:
        raise UpstreamCallFailed("upstream sent a malformed stream event", retryable=True) from exc
    if not isinstance(chunk, dict):
        raise UpstreamCallFailed("upstream sent a malformed stream event", retryable=True)
    return chunk
