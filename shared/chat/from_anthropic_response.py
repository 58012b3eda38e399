"""Anthropic Messages wire -> canonical: an upstream's answer (client requests: ``from_anthropic``)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from shared.chat.canonical import (
    ChatResponse,
    Choice,
    Finish,
    FinishReason,
    Part,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    Usage,
)
from shared.chat.upstream import validate_upstream
from shared.errors import UpstreamError
from shared.wire import anthropic as wire
from shared.wire.anthropic_response import (
    MessageResponse,
    ResponseBlock,
    ResponseThinkingBlock,
    ResponseUsage,
)

FINISH_FROM_ANTHROPIC: Mapping[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "max_tokens": FinishReason.LENGTH,
    "stop_sequence": FinishReason.STOP_SEQUENCE,
    "tool_use": FinishReason.TOOL_CALLS,
    "refusal": FinishReason.CONTENT_FILTER,
    "pause_turn": FinishReason.PAUSE,
    "model_context_window_exceeded": FinishReason.CONTEXT_WINDOW,
}


def finish_from_anthropic(stop_reason: str | None, stop_sequence: str | None = None) -> Finish | None:
    """An upstream ``stop_reason`` in canonical form; an unknown one is an UpstreamError."""
    if stop_reason is None:
        return None
    mapped = FINISH_FROM_ANTHROPIC.get(stop_reason)
    if mapped is None:
        raise UpstreamError(f"Upstream returned an unknown stop_reason {stop_reason!r}.")
    return Finish(mapped, stop_sequence=stop_sequence if mapped is FinishReason.STOP_SEQUENCE else None)


def usage_from_anthropic(usage: ResponseUsage, known_input: Usage | None = None) -> Usage:
    """Anthropic usage; canonical ``input_tokens`` adds back cache reads and writes.

    In a stream, ``message_delta`` may omit input counts: ``known_input`` (from message_start)
    fills them in.
    """
    read = usage.cache_read_input_tokens
    write = usage.cache_creation_input_tokens
    if known_input is not None:
        read = read if read is not None else known_input.cache_read_tokens
        write = write if write is not None else known_input.cache_write_tokens
    if usage.input_tokens is None and known_input is not None:
        total_in = known_input.input_tokens
    else:
        total_in = (usage.input_tokens or 0) + (read or 0) + (write or 0)
    return Usage(
        input_tokens=total_in,
        output_tokens=usage.output_tokens or 0,
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def response_from_anthropic(body: Mapping[str, Any]) -> ChatResponse:
    """An upstream Message in canonical form; a malformed one is an UpstreamError."""
    message = validate_upstream(MessageResponse.model_validate, body, "message")
    choice = Choice(
        index=0,
        parts=tuple(part_from_response_block(b) for b in message.content),
        finish=finish_from_anthropic(message.stop_reason, message.stop_sequence),
    )
    usage = usage_from_anthropic(message.usage) if message.usage else None
    return ChatResponse(id=message.id, model=message.model or "", choices=(choice,), usage=usage)


def part_from_response_block(block: ResponseBlock) -> Part:
    """A content block of an upstream answer as a canonical part."""
    match block:
        case wire.TextBlock():
            return Text(block.text)
        case ResponseThinkingBlock():
            return Reasoning(block.thinking, signature=block.signature or None)
        case wire.RedactedThinkingBlock():
            return RedactedReasoning(block.data)
        case wire.ToolUseBlock():
            return ToolCall(block.id, block.name, json.dumps(block.input, ensure_ascii=False))
    raise UpstreamError(f"Upstream sent an unsupported content block {type(block).__name__}.")
