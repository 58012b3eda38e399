"""Seeing what a chat call answered while it is rendered, for routes that keep transcripts.

``capturing(fmt, capture)`` wraps a ChatFormat so that the text, finish reason, usage and model
of the answer land in ``capture``, streamed or not, without touching the bytes sent.
``after_body`` runs a coroutine once a streamed body has ended, however it ended.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import StreamingResponse

from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse, Usage
from shared.chat.messages import text_of
from shared.gateway.sse_render import SseRenderer
from shared.http.chat_flow import ChatFormat


@dataclass
class Capture:
    parts: list[str] = field(default_factory=list)
    finish_reason: str | None = None
    usage: Usage | None = None
    model: str | None = None
    failed: bool = False

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def observe(self, event: ev.StreamEvent) -> None:
        if isinstance(event, ev.TextDelta | ev.RefusalDelta) and event.choice == 0:
            self.parts.append(event.text)
        elif isinstance(event, ev.Finish) and event.choice == 0:
            self.finish_reason = event.reason.value
        elif isinstance(event, ev.UsageReport):
            self.usage = event.usage
        elif isinstance(event, ev.Error):
            self.failed = True

    def take_response(self, answer: ChatResponse, model: str) -> None:
        self.model = model
        self.usage = answer.usage
        if answer.choices:
            first = answer.choices[0]
            self.parts = [text_of(first.parts)]
            self.finish_reason = first.finish.reason.value if first.finish else None


class _CapturingSse:
    def __init__(self, inner: SseRenderer, capture: Capture) -> None:
        self._inner = inner
        self._capture = capture

    def feed(self, event: ev.StreamEvent) -> list[bytes]:
        self._capture.observe(event)
        return self._inner.feed(event)

    def close(self) -> list[bytes]:
        return self._inner.close()

    def keepalive(self) -> bytes:
        return self._inner.keepalive()


def capturing(fmt: ChatFormat, capture: Capture) -> ChatFormat:
    """``fmt``, reporting the answer into ``capture`` as it renders it."""

    def render(request: ChatRequest, answer: ChatResponse, model: str) -> dict[str, Any]:
        capture.take_response(answer, model)
        return fmt.render(request, answer, model)

    def stream_renderer(request: ChatRequest, model: str) -> SseRenderer:
        capture.model = model
        return _CapturingSse(fmt.stream_renderer(request, model), capture)

    return ChatFormat(endpoint=fmt.endpoint, parse=fmt.parse, render=render, stream_renderer=stream_renderer)


def after_body(response: StreamingResponse, done: Callable[[], Awaitable[None]]) -> StreamingResponse:
    """Run ``done`` after the streamed body ends (completed, failed or the client went away)."""
    inner = response.body_iterator

    async def body() -> AsyncIterator[Any]:
        try:
            async for chunk in inner:
                yield chunk
        finally:
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(done())

    response.body_iterator = body()
    return response
