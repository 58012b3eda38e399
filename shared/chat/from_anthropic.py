"""Anthropic Messages wire -> canonical: client requests (an upstream's answer: ``from_anthropic_response``)."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from typing import Any

from shared.chat.cache import cache_from_wire
from shared.chat.canonical import (
    ChatRequest,
    Image,
    Message,
    Part,
    Reasoning,
    ReasoningConfig,
    ReasoningEffort,
    RedactedReasoning,
    ResponseFormat,
    ResponseFormatKind,
    ResultPart,
    Role,
    Sampling,
    ServerTool,
    Text,
    ThinkingMode,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolReference,
    ToolResult,
    WireFormat,
)
from shared.chat.messages import (
    check_parts,
    check_tool_choice,
    merge_consecutive,
    message_chars,
    unique_tools,
)
from shared.errors import InvalidRequest
from shared.wire import anthropic as wire

ROLE_FROM_ANTHROPIC: Mapping[str, Role] = {"user": Role.USER, "assistant": Role.ASSISTANT}
TOOL_CHOICE_FROM_ANTHROPIC: Mapping[str, ToolChoiceMode] = {
    "auto": ToolChoiceMode.AUTO,
    "any": ToolChoiceMode.REQUIRED,
    "tool": ToolChoiceMode.TOOL,
    "none": ToolChoiceMode.NONE,
}


def request_from_anthropic(req: wire.MessagesRequest) -> ChatRequest:
    """A validated Messages request in canonical form.

    ``role: "system"`` turns are folded, in order, into the top-level system prompt (the only
    place every upstream accepts instructions); consecutive same-role turns are merged.
    """
    system = [Text(b.text, cache=cache_from_wire(b.cache_control)) for b in req.system]
    messages: list[Message] = []
    sizes: list[tuple[int, int]] = []
    for i, turn in enumerate(req.messages):
        if turn.role == "system":
            system.extend(_system_turn(turn, f"messages.{i}"))
        else:
            messages.append(_turn(turn, f"messages.{i}"))
            sizes.append((i, message_chars(messages[-1])))
    if not messages:
        raise InvalidRequest("messages: at least one user or assistant turn is required.", param="messages")
    tools = unique_tools(_tool(t) for t in req.tools or ())
    tool_choice = req.tool_choice
    check_tool_choice(tools, _tool_choice(tool_choice), "tool_choice")
    return ChatRequest(
        model=req.model,
        messages=merge_consecutive(messages),
        system=tuple(system),
        max_tokens=req.max_tokens,
        stop=tuple(req.stop_sequences or ()),
        sampling=Sampling(temperature=req.temperature, top_p=req.top_p, top_k=req.top_k),
        tools=tools,
        tool_choice=_tool_choice(tool_choice),
        parallel_tool_calls=_parallel(tool_choice),
        response_format=_response_format(req.output_config),
        reasoning=_reasoning(req.thinking, req.output_config),
        user=req.metadata.user_id if req.metadata else None,
        stream=bool(req.stream),
        extras=_extras(req),
        extras_format=WireFormat.ANTHROPIC,
        turn_chars=tuple(sizes),
    )


def _system_turn(turn: wire.MessageParam, param: str) -> list[Text]:
    texts = []
    for j, block in enumerate(turn.content):
        if not isinstance(block, wire.TextBlock):
            raise InvalidRequest(f"{param}: system turns may hold only text.", param=f"{param}.content.{j}")
        texts.append(Text(block.text, cache=cache_from_wire(block.cache_control)))
    return texts


def _turn(turn: wire.MessageParam, param: str) -> Message:
    parts = tuple(_block(b, f"{param}.content.{j}") for j, b in enumerate(turn.content))
    message = Message(role=ROLE_FROM_ANTHROPIC[turn.role], parts=parts)
    check_parts(message, f"{param}.content")
    return message


def _block(block: wire.ContentBlock, param: str) -> Part:
    reader = _BLOCK_READERS.get(type(block))
    if reader is None:
        raise InvalidRequest(f"{param}: {block.type} blocks are not supported.", param=f"{param}.type")
    return reader(block, param)


def _result_part(block: wire.ResultBlock, param: str) -> ResultPart:
    if isinstance(block, wire.ToolReferenceBlock):
        return ToolReference(block.tool_name, cache=cache_from_wire(block.cache_control))
    if isinstance(block, wire.DocumentBlock):
        raise InvalidRequest(f"{param}: document blocks are not supported.", param=f"{param}.type")
    return _text(block, param) if isinstance(block, wire.TextBlock) else _image(block, param)


def _text(block: wire.TextBlock, _param: str) -> Text:
    return Text(block.text, cache=cache_from_wire(block.cache_control))


def _tool_use(block: wire.ToolUseBlock, _param: str) -> ToolCall:
    arguments = json.dumps(block.input, ensure_ascii=False)
    return ToolCall(block.id, block.name, arguments, cache=cache_from_wire(block.cache_control))


def _tool_result(block: wire.ToolResultBlock, param: str) -> ToolResult:
    return ToolResult(
        tool_call_id=block.tool_use_id,
        content=tuple(_result_part(p, f"{param}.content.{k}") for k, p in enumerate(block.content)),
        is_error=bool(block.is_error),
        cache=cache_from_wire(block.cache_control),
    )


def _thinking(block: wire.ThinkingBlock, _param: str) -> Reasoning:
    return Reasoning(block.thinking, signature=block.signature or None)


def _redacted(block: wire.RedactedThinkingBlock, _param: str) -> RedactedReasoning:
    return RedactedReasoning(block.data)


def _image(block: wire.ImageBlock, _param: str) -> Image:
    cache = cache_from_wire(block.cache_control)
    source = block.source
    if isinstance(source, wire.UrlSource):
        return Image(url=source.url, cache=cache)
    return Image(media_type=source.media_type, data=source.data, cache=cache)


_BLOCK_READERS: Mapping[type, Callable[[Any, str], Part]] = {
    wire.TextBlock: _text,
    wire.ImageBlock: _image,
    wire.ToolUseBlock: _tool_use,
    wire.ToolResultBlock: _tool_result,
    wire.ThinkingBlock: _thinking,
    wire.RedactedThinkingBlock: _redacted,
    # wire.DocumentBlock: parsed, then refused by name
}


def _tool(tool: wire.CustomTool | wire.ServerToolParam) -> Tool | ServerTool:
    if isinstance(tool, wire.ServerToolParam):
        return ServerTool(type=tool.type, name=tool.name, config=dict(tool.model_extra or {}))
    extras = dict(tool.model_extra or {})
    if tool.type is not None:
        extras["type"] = tool.type
    return Tool(
        name=tool.name,
        parameters=tool.input_schema,
        description=tool.description,
        strict=tool.strict,
        cache=cache_from_wire(tool.cache_control),
        extras=extras,
    )


def _tool_choice(choice: wire.ToolChoiceParam | None) -> ToolChoice | None:
    if choice is None:
        return None
    mode = TOOL_CHOICE_FROM_ANTHROPIC[choice.type]
    if mode is ToolChoiceMode.TOOL and not choice.name:
        raise InvalidRequest("tool_choice.name is required for type tool.", param="tool_choice.name")
    return ToolChoice(mode, name=choice.name if mode is ToolChoiceMode.TOOL else None)


def _parallel(choice: wire.ToolChoiceParam | None) -> bool | None:
    if choice is None or choice.disable_parallel_tool_use is None:
        return None
    return not choice.disable_parallel_tool_use


def _response_format(config: wire.OutputConfigParam | None) -> ResponseFormat | None:
    if config is None or config.format is None:
        return None
    return ResponseFormat(ResponseFormatKind.JSON_SCHEMA, schema=config.format.json_schema)


def _reasoning(
    thinking: wire.ThinkingParam | None, config: wire.OutputConfigParam | None
) -> ReasoningConfig | None:
    effort = config.effort if config else None
    if thinking is None and effort is None:
        return None
    if thinking and thinking.type == "enabled" and thinking.budget_tokens is None:
        raise InvalidRequest(
            "thinking.budget_tokens is required when thinking is enabled.", param="thinking.budget_tokens"
        )
    return ReasoningConfig(
        mode=ThinkingMode(thinking.type) if thinking else None,
        budget_tokens=thinking.budget_tokens if thinking else None,
        effort=ReasoningEffort(effort) if effort else None,
        display=thinking.display if thinking else None,
    )


def _extras(req: wire.MessagesRequest) -> dict[str, Any]:
    extras = dict(req.model_extra or {})
    rest = dict(req.output_config.model_extra or {}) if req.output_config else {}
    if rest:
        extras["output_config"] = rest
    return extras
