"""Helpers of the stream translation tests: an upstream OpenAI chunk, the two client writers with
fixed ids, and renderers whose Anthropic events are checked against the SDK's own types."""

from typing import Any

from anthropic.types import ErrorResponse, RawMessageStreamEvent
from pydantic import TypeAdapter

from shared.chat import events as ev
from shared.chat.stream_anthropic import (
    AnthropicStreamWriter,
    render_anthropic_events,
)
from shared.chat.stream_openai import (
    OpenAIStreamWriter,
    render_openai_chunks,
)

ANTHROPIC_EVENT = TypeAdapter(RawMessageStreamEvent)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, **extra}]
    return {"id": "up", "object": "chat.completion.chunk", "created": 1, "model": "up", "choices": choices}


def anthropic_writer() -> AnthropicStreamWriter:
    return AnthropicStreamWriter(model="m", new_id=lambda: "msg_1")


def openai_writer(include_usage: bool = False) -> OpenAIStreamWriter:
    return OpenAIStreamWriter(model="m", include_usage=include_usage, new_id=lambda: "chatcmpl-1", created=5)


def render_anthropic(events: list[ev.StreamEvent]) -> list[dict[str, Any]]:
    rendered = list(render_anthropic_events(events, anthropic_writer()))
    for event in rendered:
        if event["type"] == "error":
            ErrorResponse.model_validate(event)
        else:
            ANTHROPIC_EVENT.validate_python(event)
    return rendered


def render_openai(events: list[ev.StreamEvent], include_usage: bool = False) -> list[dict[str, Any]]:
    return list(render_openai_chunks(events, openai_writer(include_usage)))
