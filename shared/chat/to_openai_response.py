"""Canonical -> OpenAI Chat Completions wire: the answer the client receives (not streamed)."""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from shared.chat.canonical import ChatResponse, Choice, FinishReason, Usage
from shared.chat.ids import IdFactory, new_openai_id
from shared.chat.to_openai import assistant_message

type Json = dict[str, Any]

FINISH_TO_OPENAI: Mapping[FinishReason, str] = {
    FinishReason.STOP: "stop",
    FinishReason.STOP_SEQUENCE: "stop",
    FinishReason.LENGTH: "length",
    FinishReason.CONTEXT_WINDOW: "length",
    FinishReason.TOOL_CALLS: "tool_calls",
    FinishReason.CONTENT_FILTER: "content_filter",
    FinishReason.PAUSE: "stop",
    FinishReason.ERROR: "error",  # vLLM's spelling; OpenAI itself has none
}

# OpenAI's deprecated function calling (shared/chat/openai_legacy.py) names a tool-call finish so.
LEGACY_FINISH_TO_OPENAI: Mapping[FinishReason, str] = {
    **FINISH_TO_OPENAI,
    FinishReason.TOOL_CALLS: "function_call",
}


def usage_to_openai(usage: Usage) -> Json:
    """OpenAI usage; cache writes have no OpenAI field."""
    rendered: Json = {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }
    if usage.cache_read_tokens is not None:
        rendered["prompt_tokens_details"] = {"cached_tokens": usage.cache_read_tokens}
    if usage.reasoning_tokens is not None:
        rendered["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return rendered


def response_to_openai(
    resp: ChatResponse,
    *,
    model: str,
    legacy_functions: bool = False,
    new_id: IdFactory = new_openai_id,
    created: int | None = None,
) -> Json:
    """A ``chat.completion`` for the client, with a fresh id and the public ``model`` it asked for.
    ``legacy_functions``: the request's (``ChatRequest.legacy_functions``): a tool call is
    answered as the deprecated ``function_call`` (``openai_legacy``)."""
    if created is None:
        created = resp.created if resp.created is not None else int(time.time())
    body: Json = {
        "id": new_id(),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [_choice(c, legacy_functions) for c in resp.choices],
    }
    if resp.usage is not None:
        body["usage"] = usage_to_openai(resp.usage)
    return body


def _choice(choice: Choice, legacy_functions: bool) -> Json:
    message = assistant_message(choice.parts)
    names = FINISH_TO_OPENAI
    if legacy_functions:
        message, names = _legacy_message(message), LEGACY_FINISH_TO_OPENAI
    finish = names[choice.finish.reason] if choice.finish else None
    return {
        "index": choice.index,
        "message": message,
        "finish_reason": finish,
        "logprobs": choice.logprobs,
    }


def _legacy_message(message: Json) -> Json:
    """An answer's message in the deprecated shape: its first tool call as ``function_call``, no
    ``tool_calls`` (a legacy answer carries one call)."""
    calls = message.pop("tool_calls", None)
    if calls:
        message["function_call"] = calls[0]["function"]
    return message
