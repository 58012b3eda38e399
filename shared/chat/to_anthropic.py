"""Canonical -> Anthropic Messages wire: upstream requests and client responses."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from shared.chat.cache import with_cache
from shared.chat.canonical import (
    ChatRequest,
    Image,
    Part,
    Reasoning,
    RedactedReasoning,
    Refusal,
    ResponseFormat,
    ResponseFormatKind,
    Role,
    ServerTool,
    Text,
    Tool,
    ToolCall,
    ToolChoiceMode,
    ToolReference,
    ToolResult,
    WireFormat,
)
from shared.chat.claude_rules import (
    ThinkingStyle,
    check_stop_sequences,
    claude_controls,
    requested_thinking,
)
from shared.chat.messages import without_blank_text
from shared.errors import InvalidRequest, UpstreamError

type Json = dict[str, Any]

ROLE_TO_ANTHROPIC: Mapping[Role, str] = {Role.USER: "user", Role.ASSISTANT: "assistant"}
TOOL_CHOICE_TO_ANTHROPIC: Mapping[ToolChoiceMode, str] = {
    ToolChoiceMode.AUTO: "auto",
    ToolChoiceMode.REQUIRED: "any",
    ToolChoiceMode.TOOL: "tool",
    ToolChoiceMode.NONE: "none",
}
EMPTY_SCHEMA: Json = {"type": "object", "properties": {}}


def request_to_anthropic(
    req: ChatRequest, *, default_max_tokens: int | None = None, thinking_style: ThinkingStyle = "adaptive"
) -> Json:
    """A Messages body for an Anthropic upstream.

    Every system instruction (top-level and in-conversation) goes to ``system``, in order.
    Thinking, sampling values and effort follow Claude's rules (``claude_controls``); penalties and seed have no
    Anthropic equivalent and are not sent; ``n > 1`` and ``logprobs`` cannot be honoured and are
    refused.
    """
    _refuse_unsupported(req)
    max_tokens = req.max_tokens if req.max_tokens is not None else default_max_tokens
    if max_tokens is None:
        raise InvalidRequest("max_tokens is required for this model.", param="max_tokens")
    turns = _turns(req)
    body: Json = {"model": req.model, "max_tokens": max_tokens, "messages": turns}
    controls = claude_controls(
        req,
        requested_thinking(req.reasoning, req.extras_format),
        unthought_tool_turn=_unthought_tool_turn(turns),
        style=thinking_style,
        max_tokens=max_tokens,
    )
    optional: dict[str, Any] = {
        "system": _system(req) or None,
        "temperature": controls.sampling.temperature,
        "top_p": controls.sampling.top_p,
        "top_k": controls.sampling.top_k,
        "stop_sequences": list(req.stop) or None,
        "stream": req.stream,
        "metadata": {"user_id": req.user} if req.user is not None else None,
        "tools": [_tool(t, req.extras_format) for t in req.tools] or None,
        "tool_choice": _tool_choice(req),
        "thinking": controls.thinking,
        "output_config": _output_config(req, controls.effort) or None,
    }
    body.update({key: value for key, value in optional.items() if value is not None})
    if req.extras_format is WireFormat.ANTHROPIC:
        for key, value in req.extras.items():
            body.setdefault(key, value)
    return body


def _refuse_unsupported(req: ChatRequest) -> None:
    if req.n is not None and req.n > 1:
        raise InvalidRequest("n > 1 is not supported by this model.", param="n")
    if req.logprobs:
        raise InvalidRequest("logprobs are not supported by this model.", param="logprobs")
    check_stop_sequences(req)


def _system(req: ChatRequest) -> list[Json]:
    texts = list(req.system)
    for message in req.messages:
        if message.role is Role.SYSTEM:
            texts.extend(p for p in message.parts if isinstance(p, Text))
    texts = without_blank_text(texts, req.extras_format)
    return [with_cache({"type": "text", "text": t.text}, t.cache) for t in texts]


def _turns(req: ChatRequest) -> list[Json]:
    """User/assistant turns; neighbours of the same role merge (Anthropic wants alternation), and a
    message with nothing to send is left out."""
    turns: list[Json] = []
    for message in req.messages:
        if message.role is Role.SYSTEM:
            continue
        role = ROLE_TO_ANTHROPIC[message.role]
        parts = without_blank_text(message.parts, req.extras_format)
        blocks = [b for b in (content_block(p) for p in parts) if b is not None]
        if not blocks:  # e.g. only unsigned reasoning from another provider: nothing to replay
            continue  # (an empty turn is refused); its neighbours merge instead
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"].extend(blocks)
        else:
            turns.append({"role": role, "content": blocks})
    return turns


def _unthought_tool_turn(turns: list[Json]) -> bool:
    """The last assistant turn calls tools and does not start with a thinking block."""
    last = next((t["content"] for t in reversed(turns) if t["role"] == "assistant"), None)
    if not last or not any(block["type"] == "tool_use" for block in last):
        return False
    return last[0]["type"] not in ("thinking", "redacted_thinking")


def content_block(part: Part) -> Json | None:
    """A part as an Anthropic request block (None for what Anthropic cannot take back)."""
    return _BLOCK_WRITERS[type(part)](part)


def _text_block(part: Text) -> Json:
    return with_cache({"type": "text", "text": part.text}, part.cache)


def _image_block(part: Image) -> Json:
    if part.url is not None:
        source: Json = {"type": "url", "url": part.url}
    else:
        source = {"type": "base64", "media_type": part.media_type, "data": part.data}
    return with_cache({"type": "image", "source": source}, part.cache)


def _tool_reference_block(part: ToolReference) -> Json:
    return with_cache({"type": "tool_reference", "tool_name": part.tool_name}, part.cache)


def _result_block(part: Text | Image | ToolReference) -> Json:
    if isinstance(part, Text):
        return _text_block(part)
    return _image_block(part) if isinstance(part, Image) else _tool_reference_block(part)


def _tool_use_block(part: ToolCall) -> Json:
    block = {"type": "tool_use", "id": part.id, "name": part.name, "input": tool_input(part, InvalidRequest)}
    return with_cache(block, part.cache)


def _tool_result_block(result: ToolResult) -> Json:
    block: Json = {"type": "tool_result", "tool_use_id": result.tool_call_id}
    if result.content:
        block["content"] = [_result_block(p) for p in result.content]
    if result.is_error:
        block["is_error"] = True
    return with_cache(block, result.cache)


def _thinking_block(part: Reasoning) -> Json | None:
    """Reasoning without a signature (from other providers) cannot be replayed to Anthropic."""
    if not part.signature:
        return None
    return {"type": "thinking", "thinking": part.text, "signature": part.signature}


def _redacted_block(part: RedactedReasoning) -> Json:
    return {"type": "redacted_thinking", "data": part.data}


def _refusal_block(part: Refusal) -> Json:
    return {"type": "text", "text": part.text}


_BLOCK_WRITERS: Mapping[type, Callable[[Any], Json | None]] = {
    Text: _text_block,
    Image: _image_block,
    ToolCall: _tool_use_block,
    ToolResult: _tool_result_block,
    Reasoning: _thinking_block,
    RedactedReasoning: _redacted_block,
    Refusal: _refusal_block,
}


def tool_input(call: ToolCall, error: type[InvalidRequest] | type[UpstreamError]) -> Json:
    """A tool call's arguments as the JSON object Anthropic's ``input`` requires ("" is {})."""
    if not call.arguments_json.strip():
        return {}
    try:
        value = json.loads(call.arguments_json)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise error(f"Tool call {call.id!r}: arguments must be a JSON object.", param="messages")
    return value


def _tool(tool: Tool | ServerTool, source: WireFormat | None) -> Json:
    if isinstance(tool, ServerTool):
        return {**tool.config, "type": tool.type, "name": tool.name}
    rendered: Json = {"name": tool.name}
    if tool.description is not None:
        rendered["description"] = tool.description
    rendered["input_schema"] = tool.parameters if tool.parameters is not None else EMPTY_SCHEMA
    if tool.strict is not None:
        rendered["strict"] = tool.strict
    if source is WireFormat.ANTHROPIC:
        rendered.update({k: v for k, v in tool.extras.items() if k not in rendered})
    return with_cache(rendered, tool.cache)


def _tool_choice(req: ChatRequest) -> Json | None:
    choice = req.tool_choice
    if choice is None and (req.parallel_tool_calls is None or not req.tools):
        return None
    mode = choice.mode if choice is not None else ToolChoiceMode.AUTO
    rendered: Json = {"type": TOOL_CHOICE_TO_ANTHROPIC[mode]}
    if mode is ToolChoiceMode.TOOL and choice is not None:
        rendered["name"] = choice.name
    if req.parallel_tool_calls is not None and mode is not ToolChoiceMode.NONE:
        rendered["disable_parallel_tool_use"] = not req.parallel_tool_calls
    return rendered


def _output_config(req: ChatRequest, effort: str | None) -> Json:
    config: Json = {}
    if req.extras_format is WireFormat.ANTHROPIC:
        config.update(req.extras.get("output_config") or {})
    if effort is not None:
        config["effort"] = effort
    output_format = _output_format(req.response_format)
    if output_format is not None:
        config["format"] = output_format
    return config


def _output_format(fmt: ResponseFormat | None) -> Json | None:
    """JSON mode as a structured-output schema; a bare JSON object is ``{"type": "object"}``."""
    if fmt is None or fmt.kind is ResponseFormatKind.TEXT:
        return None
    is_schema = fmt.kind is ResponseFormatKind.JSON_SCHEMA and fmt.schema is not None
    schema = fmt.schema if is_schema else {"type": "object"}
    return {"type": "json_schema", "schema": schema}
