"""Operations on canonical messages shared by the translators: role checks, merging, text."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from shared.chat.canonical import ALLOWED_PARTS, Message, ServerTool, Text, Tool, WireFormat
from shared.errors import InvalidRequest


def check_parts(message: Message, param: str) -> None:
    """Refuse a part its role cannot carry (e.g. a tool call in a user turn)."""
    allowed = ALLOWED_PARTS[message.role]
    for index, part in enumerate(message.parts):
        if not isinstance(part, allowed):
            kind = type(part).__name__
            raise InvalidRequest(
                f"{param}: a {message.role} message cannot contain {kind} content.", param=f"{param}.{index}"
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
