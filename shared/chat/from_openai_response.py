"""OpenAI Chat Completions wire -> canonical: an upstream's answer (client requests: ``from_openai``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from shared.chat.canonical import (
    ChatResponse,
    Choice,
    Finish,
    FinishReason,
    Part,
    Reasoning,
    Refusal,
    Text,
    ToolCall,
    Usage,
)
from shared.chat.ids import IdFactory, new_tool_call_id
from shared.chat.upstream import validate_upstream
from shared.errors import UpstreamError
from shared.wire.openai_response import (
    AssistantOut,
    ChatCompletion,
    ChunkChoice,
    ResponseChoice,
    UsageOut,
)

FINISH_FROM_OPENAI: Mapping[str, FinishReason] = {
    "stop": FinishReason.STOP,
    "length": FinishReason.LENGTH,
    "tool_calls": FinishReason.TOOL_CALLS,
    "function_call": FinishReason.TOOL_CALLS,
    "content_filter": FinishReason.CONTENT_FILTER,
    "error": FinishReason.ERROR,  # vLLM
    "abort": FinishReason.ERROR,  # vLLM
}


def finish_from_openai(reason: str | None, stop_reason: str | int | None = None) -> Finish | None:
    """An upstream ``finish_reason`` (plus vLLM's ``stop_reason``) in canonical form."""
    if reason is None:
        return None
    mapped = FINISH_FROM_OPENAI.get(reason)
    if mapped is None:
        raise UpstreamError(f"Upstream returned an unknown finish_reason {reason!r}.")
    if mapped is FinishReason.STOP and isinstance(stop_reason, str):
        return Finish(FinishReason.STOP_SEQUENCE, stop_sequence=stop_reason)
    return Finish(mapped)


def usage_from_openai(usage: UsageOut) -> Usage:
    """OpenAI usage; ``prompt_tokens`` already includes cached tokens."""
    prompt = usage.prompt_tokens_details
    completion = usage.completion_tokens_details
    return Usage(
        input_tokens=usage.prompt_tokens,
        output_tokens=usage.completion_tokens,
        cache_read_tokens=prompt.cached_tokens if prompt else None,
        reasoning_tokens=completion.reasoning_tokens if completion else None,
    )


def logprobs_of(choice: ResponseChoice | ChunkChoice) -> dict[str, Any] | None:
    """A choice's ``logprobs`` object (an extra field of the lenient wire model), kept as sent;
    anything but an object is none."""
    logprobs = choice.model_extra.get("logprobs") if choice.model_extra else None
    return logprobs if isinstance(logprobs, dict) else None


def response_from_openai(
    body: Mapping[str, Any], *, new_tool_id: IdFactory = new_tool_call_id
) -> ChatResponse:
    """An upstream chat completion in canonical form; a malformed one is an UpstreamError."""
    completion = validate_upstream(ChatCompletion.model_validate, body, "chat completion")
    choices = tuple(
        Choice(
            index=c.index,
            parts=assistant_out_parts(c.message, new_tool_id),
            finish=finish_from_openai(c.finish_reason, c.stop_reason),
            logprobs=logprobs_of(c),
        )
        for c in completion.choices
    )
    usage = usage_from_openai(completion.usage) if completion.usage else None
    return ChatResponse(
        id=completion.id,
        model=completion.model or "",
        choices=choices,
        usage=usage,
        created=completion.created,
    )


def assistant_out_parts(message: AssistantOut, new_tool_id: IdFactory) -> tuple[Part, ...]:
    """The parts of an upstream assistant message: reasoning, text, refusal, tool calls."""
    parts: list[Part] = []
    reasoning = message.reasoning_text()
    if reasoning:
        parts.append(Reasoning(reasoning))
    if message.content:
        parts.append(Text(message.content))
    if message.refusal:
        parts.append(Refusal(message.refusal))
    for call in message.tool_calls or ():
        fn = call.function
        if fn is None or not fn.name:
            raise UpstreamError("Upstream returned a tool call without a function name.")
        parts.append(ToolCall(id=call.id or new_tool_id(), name=fn.name, arguments_json=fn.arguments or ""))
    return tuple(parts)
