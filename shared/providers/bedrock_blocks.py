"""Canonical parts -> Bedrock Converse content blocks (text, image, toolUse, toolResult, reasoning),
each followed by its ``cachePoint`` when the part carries a cache breakpoint."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Mapping
from typing import Any

from shared.chat.canonical import (
    CacheControl,
    Image,
    Part,
    Reasoning,
    RedactedReasoning,
    Refusal,
    Text,
    ToolCall,
    ToolReference,
    ToolResult,
)
from shared.chat.to_anthropic import tool_input
from shared.errors import InvalidRequest

type Json = dict[str, Any]

IMAGE_FORMATS: Mapping[str, str] = {
    "image/png": "png",
    "image/jpeg": "jpeg",
    "image/gif": "gif",
    "image/webp": "webp",
}
CACHE_TTLS = frozenset({"5m", "1h"})


def cache_point(cache: CacheControl | None) -> list[Json]:
    """The ``cachePoint`` block that follows a block carrying a cache breakpoint (or nothing)."""
    if cache is None:
        return []
    point: Json = {"type": "default"}
    if cache.ttl in CACHE_TTLS:
        point["ttl"] = cache.ttl
    return [{"cachePoint": point}]


def content_blocks(part: Part) -> list[Json]:
    """A part as Converse content blocks: none, one, or one and its cache point."""
    return _BLOCK_WRITERS[type(part)](part)


def _text_blocks(part: Text) -> list[Json]:
    # Converse refuses blank text blocks; an empty string carries nothing.
    return [{"text": part.text}, *cache_point(part.cache)] if part.text else []


def image_block(part: Image) -> Json:
    """An inline image as a Converse ``image`` block (URLs must have been inlined by the caller)."""
    if part.url is not None or part.data is None:
        raise InvalidRequest("Image URLs must be inlined before they reach this model.", param="messages")
    image_format = IMAGE_FORMATS.get((part.media_type or "").lower())
    if image_format is None:
        unsupported = f"Image type {part.media_type!r} is not supported by this model."
        raise InvalidRequest(unsupported, param="messages")
    try:
        data = base64.b64decode(part.data, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("An inline image is not valid base64.", param="messages") from exc
    return {"image": {"format": image_format, "source": {"bytes": data}}}


def _image_blocks(part: Image) -> list[Json]:
    return [image_block(part), *cache_point(part.cache)]


def _tool_use_blocks(part: ToolCall) -> list[Json]:
    use = {"toolUseId": part.id, "name": part.name, "input": tool_input(part, InvalidRequest)}
    return [{"toolUse": use}, *cache_point(part.cache)]


def _result_content(part: Text | Image | ToolReference) -> Json:
    if isinstance(part, Text):
        return {"text": part.text}
    if isinstance(part, Image):
        return image_block(part)
    raise InvalidRequest("Tool references in tool results are not supported by this model.", param="messages")


def _tool_result_blocks(result: ToolResult) -> list[Json]:
    block = {
        "toolUseId": result.tool_call_id,
        "content": [_result_content(p) for p in result.content],
        "status": "error" if result.is_error else "success",
    }
    return [{"toolResult": block}, *cache_point(result.cache)]


def _reasoning_blocks(part: Reasoning) -> list[Json]:
    """Reasoning without a signature (from another provider) cannot be replayed: not sent."""
    if not part.signature:
        return []
    return [{"reasoningContent": {"reasoningText": {"text": part.text, "signature": part.signature}}}]


def _redacted_blocks(part: RedactedReasoning) -> list[Json]:
    """Redacted reasoning travels as base64 of Bedrock's bytes; anything else cannot be replayed."""
    try:
        data = base64.b64decode(part.data, validate=True)
    except (binascii.Error, ValueError):
        return []
    return [{"reasoningContent": {"redactedContent": data}}]


def _refusal_blocks(part: Refusal) -> list[Json]:
    return [{"text": part.text}] if part.text else []


_BLOCK_WRITERS: Mapping[type, Callable[[Any], list[Json]]] = {
    Text: _text_blocks,
    Image: _image_blocks,
    ToolCall: _tool_use_blocks,
    ToolResult: _tool_result_blocks,
    Reasoning: _reasoning_blocks,
    RedactedReasoning: _redacted_blocks,
    Refusal: _refusal_blocks,
}
