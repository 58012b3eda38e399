"""The common OpenAI stream chunk, read without the pydantic model: one choice carrying only text.

``OpenAIChunkParser.feed_json`` (shared/chat/stream_openai.py) reads most chunks of a stream here
and leaves every other shape to the model; tests/unit/test_stream_openai_fast_path.py checks that
both give the same events for any chunk.
"""

from __future__ import annotations

from typing import Any

from shared.chat import events as ev


def text_only(chunk: Any) -> tuple[int, str | None, str | None, dict[str, Any] | None] | None:
    """(choice, reasoning, content, logprobs) of a chunk whose single choice only carries text
    (and its logprobs): no tool calls, refusal, finish reason, usage or error, and every field the
    model reads of the exact JSON type the model accepts without conversion. None for anything
    else."""
    if type(chunk) is not dict or "error" in chunk or chunk.get("usage") is not None:
        return None
    choices = chunk.get("choices")
    if type(choices) is not list or len(choices) != 1 or not _optional(chunk, _CHUNK_TYPES):
        return None
    choice = choices[0]
    if type(choice) is not dict or type(choice.get("index", 0)) is not int:
        return None
    delta, logprobs = choice.get("delta"), choice.get("logprobs")
    if (
        choice.get("finish_reason") is not None
        or choice.get("stop_reason") is not None
        or type(delta) is not dict
        or (logprobs is not None and type(logprobs) is not dict)
    ):
        return None
    if (
        delta.get("tool_calls") is not None
        or delta.get("refusal") is not None
        or not _optional(delta, _DELTA_TYPES)
    ):
        return None
    reasoning = delta.get("reasoning_content")
    return (
        choice.get("index", 0),
        reasoning if reasoning is not None else delta.get("reasoning"),
        delta.get("content"),
        logprobs,
    )


_CHUNK_TYPES = (("id", str), ("created", int), ("model", str))
_DELTA_TYPES = (("role", str), ("content", str), ("reasoning_content", str), ("reasoning", str))


def _optional(item: dict[str, Any], fields: tuple[tuple[str, type], ...]) -> bool:
    """Each field absent, null, or exactly of its type (``bool`` is not an ``int`` here)."""
    for name, kind in fields:
        value = item.get(name)
        if value is not None and type(value) is not kind:
            return False
    return True


def text_events(
    choice: int, reasoning: str | None, content: str | None, logprobs: dict[str, Any] | None
) -> list[ev.StreamEvent]:
    """The chunk's text events; its logprobs ride the first (``OpenAIChunkParser`` does the same)."""
    events: list[ev.StreamEvent] = []
    if reasoning:
        events.append(ev.ReasoningDelta(reasoning, choice=choice, logprobs=logprobs))
        logprobs = None
    if content:
        events.append(ev.TextDelta(content, choice=choice, logprobs=logprobs))
    return events
