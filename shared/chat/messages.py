"""Operations on canonical messages shared by the translators: role checks, merging, text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from shared.chat.canonical import (
    ALLOWED_PARTS,
    Image,
    Message,
    Reasoning,
    RedactedReasoning,
    Refusal,
    Role,
    ServerTool,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolResult,
    WireFormat,
)
from shared.errors import InvalidRequest

_ROLE_NAMES = {Role.SYSTEM: "a system", Role.USER: "a user", Role.ASSISTANT: "an assistant"}
# What a part is called in both wire formats' words (OpenAI's, then Anthropic's block type).
_PART_NAMES: dict[type, str] = {
    Text: "text",
    Image: "images (image_url, image)",
    ToolCall: "tool calls (tool_calls, tool_use)",
    ToolResult: "tool results (a tool message, tool_result)",
    Reasoning: "reasoning (reasoning_content, thinking)",
    RedactedReasoning: "redacted_thinking",
    Refusal: "a refusal",
}


def check_parts(message: Message, param: str) -> None:
    """Refuse a part its role cannot carry (e.g. a tool call in a user turn)."""
    allowed = ALLOWED_PARTS[message.role]
    for index, part in enumerate(message.parts):
        if not isinstance(part, allowed):
            raise InvalidRequest(
                f"{param}: {_ROLE_NAMES[message.role]} message cannot contain "
                f"{_PART_NAMES.get(type(part), 'this content')}.",
                param=f"{param}.{index}",
            )


def unique_tools[T: Tool | ServerTool](tools: Iterable[T], param: str = "tools") -> tuple[T, ...]:
    """The tools, refused when two share a name: a call names its tool, and Anthropic (also as
    an upstream of OpenAI-format requests) refuses the request. ``param``: the client's field."""
    listed = tuple(tools)
    seen: set[str] = set()
    for index, tool in enumerate(listed):
        if tool.name in seen:
            raise InvalidRequest(
                f"{param}.{index}: tool names must be unique ({tool.name!r}).", param=f"{param}.{index}"
            )
        seen.add(tool.name)
    return listed


def check_tool_choice(tools: tuple[Tool | ServerTool, ...], choice: ToolChoice | None, param: str) -> None:
    """A tool choice the request's tools cannot satisfy is the client's error, as OpenAI and
    Anthropic answer it (an upstream would refuse it with a message naming no field)."""
    if choice is None:
        return
    if choice.mode is ToolChoiceMode.TOOL and choice.name not in {tool.name for tool in tools}:
        raise InvalidRequest(f"{param} names {choice.name!r}, which is not among the tools.", param=param)
    if choice.mode is ToolChoiceMode.REQUIRED and not tools:
        raise InvalidRequest(f"{param} asks for a tool call, but the request has no tools.", param=param)


def message_chars(message: Message) -> int:
    """A message's content in characters, as the usage limits count it (shared/gateway/usage_limits.py)."""
    total = 0
    for part in message.parts:
        if isinstance(part, Text | Reasoning | Refusal):
            total += len(part.text)
        elif isinstance(part, ToolCall):
            total += len(part.arguments_json)
        elif isinstance(part, ToolResult):
            total += sum(len(p.text) for p in part.content if isinstance(p, Text))
    return total


def merge_consecutive(messages: Iterable[Message]) -> tuple[Message, ...]:
    """Merge neighbouring messages of the same role and name into one (Anthropic alternation)."""
    merged: list[Message] = []
    for message in messages:
        previous = merged[-1] if merged else None
        if previous is not None and previous.role == message.role and previous.name == message.name:
            merged[-1] = replace(previous, parts=previous.parts + message.parts)
        else:
            merged.append(message)
    return tuple(merged)


def without_blank_text[P](parts: Iterable[P], source: WireFormat | None) -> list[P]:
    """The parts but text that is empty or only whitespace, which OpenAI takes (Continue sends
    ``" "`` for a turn without text) and Anthropic and Bedrock's Converse refuse: it carries
    nothing, so their request mappers leave it out. An Anthropic-format request keeps it and gets
    the refusal its client would get from Anthropic."""
    if source is WireFormat.ANTHROPIC:
        return list(parts)
    return [part for part in parts if not (isinstance(part, Text) and not part.text.strip())]


def text_of(parts: Iterable[object], separator: str = "") -> str:
    """The text of every Text part, joined."""
    return separator.join(part.text for part in parts if isinstance(part, Text))
