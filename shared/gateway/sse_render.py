"""Canonical stream events to the client's SSE bytes, one renderer per wire format."""

from __future__ import annotations

from typing import Protocol

from shared.chat import events as ev
from shared.chat.openai_legacy import LegacyFunctionsStreamWriter
from shared.chat.sse import encode_anthropic_event, encode_openai_chunk
from shared.chat.stream_anthropic import AnthropicStreamWriter
from shared.chat.stream_openai import OpenAIStreamWriter
from shared.gateway.passthrough import RawEvent, RawEventRewriter

OPENAI_DONE = b"data: [DONE]\n\n"


class SseRenderer(Protocol):
    def feed(self, event: ev.StreamEvent) -> list[bytes]: ...

    def close(self) -> list[bytes]: ...

    def keepalive(self) -> bytes: ...


class OpenAISse:
    """``data: {chunk}`` lines, a usage chunk when asked, then ``data: [DONE]``. A client that
    declared OpenAI's deprecated ``functions`` gets its tool call as ``delta.function_call``."""

    def __init__(self, *, model: str, include_usage: bool, legacy_functions: bool = False) -> None:
        writer = LegacyFunctionsStreamWriter if legacy_functions else OpenAIStreamWriter
        self._writer = writer(model=model, include_usage=include_usage)

    def feed(self, event: ev.StreamEvent) -> list[bytes]:
        return [encode_openai_chunk(chunk) for chunk in self._writer.feed(event)]

    def close(self) -> list[bytes]:
        return [*(encode_openai_chunk(chunk) for chunk in self._writer.close()), OPENAI_DONE]

    def keepalive(self) -> bytes:
        return b": keep-alive\n\n"


class AnthropicSse:
    """``event: <type>`` / ``data: {event}`` pairs, ``ping`` while waiting."""

    def __init__(self, *, model: str) -> None:
        self._writer = AnthropicStreamWriter(model=model)
        self._raw = RawEventRewriter(model)
        self._passthrough = False

    def feed(self, event: ev.StreamEvent) -> list[bytes]:
        if isinstance(event, RawEvent):  # an Anthropic-native upstream: forwarded as written
            self._passthrough = True
            return [encode_anthropic_event(self._raw.rewrite(event))]
        return [encode_anthropic_event(item) for item in self._writer.feed(event)]

    def close(self) -> list[bytes]:
        if self._passthrough:  # the upstream's own message_stop already went out
            return []
        return [encode_anthropic_event(item) for item in self._writer.close()]

    def keepalive(self) -> bytes:
        return encode_anthropic_event({"type": "ping"})
