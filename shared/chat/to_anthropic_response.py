"""Canonical -> Anthropic Messages wire: the answer the client receives (not streamed)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from shared.chat.canonical import ChatResponse, FinishReason, Part, Reasoning, ToolCall, Usage
from shared.chat.ids import IdFactory, new_anthropic_id
from shared.chat.to_anthropic import content_block, tool_input
from shared.errors import UpstreamError

type Json = dict[str, Any]

FINISH_TO_ANTHROPIC: Mapping[FinishReason, str] = {
    FinishReason.STOP: "end_turn",
    FinishReason.LENGTH: "max_tokens",
    FinishReason.STOP_SEQUENCE: "stop_sequence",
    FinishReason.TOOL_CALLS: "tool_use",
    FinishReason.CONTENT_FILTER: "refusal",
    FinishReason.PAUSE: "pause_turn",
    FinishReason.CONTEXT_WINDOW: "model_context_window_exceeded",
    # FinishReason.ERROR has no stop_reason: it is rendered as an error (event) instead.
}


def usage_to_anthropic(usage: Usage) -> Json:
    """Anthropic usage: ``input_tokens`` excludes cache reads and writes, which are counted apart."""
    read = usage.cache_read_tokens or 0
    write = usage.cache_write_tokens or 0
    rendered: Json = {"input_tokens": max(usage.input_tokens - read - write, 0)}
    if usage.cache_write_tokens is not None:
        rendered["cache_creation_input_tokens"] = usage.cache_write_tokens
    if usage.cache_read_tokens is not None:
        rendered["cache_read_input_tokens"] = usage.cache_read_tokens
    rendered["output_tokens"] = usage.output_tokens
    return rendered


def stop_reason_to_anthropic(reason: FinishReason) -> str:
    """The Anthropic ``stop_reason``; an upstream error has none and is an UpstreamError."""
    mapped = FINISH_TO_ANTHROPIC.get(reason)
    if mapped is None:
        raise UpstreamError("The upstream model failed while generating the answer.")
    return mapped


def response_to_anthropic(resp: ChatResponse, *, model: str, new_id: IdFactory = new_anthropic_id) -> Json:
    """A Messages ``message`` for the client, with a fresh ``msg_`` id and the public ``model``.

    Usage the upstream did not report is rendered as zeros: Anthropic's schema requires it.
    """
    if not resp.choices:
        raise UpstreamError("The upstream answer holds no message.")
    choice = resp.choices[0]
    finish = choice.finish
    return {
        "id": new_id(),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": _response_blocks(choice.parts),
        "stop_reason": stop_reason_to_anthropic(finish.reason) if finish else None,
        "stop_sequence": finish.stop_sequence if finish else None,
        "usage": usage_to_anthropic(resp.usage) if resp.usage else {"input_tokens": 0, "output_tokens": 0},
    }


def _response_blocks(parts: Iterable[Part]) -> list[Json]:
    """Answer blocks: unlike request history, unsigned reasoning is shown (signature "")."""
    blocks: list[Json] = []
    for part in parts:
        if isinstance(part, ToolCall):
            blocks.append(
                {
                    "type": "tool_use",
                    "id": part.id,
                    "name": part.name,
                    "input": tool_input(part, UpstreamError),
                }
            )
        elif isinstance(part, Reasoning):
            blocks.append({"type": "thinking", "thinking": part.text, "signature": part.signature or ""})
        else:
            block = content_block(part)
            if block is not None:
                blocks.append(block)
    return blocks
