"""Anthropic Messages request bodies as the simulator reads them: the block types and their rules,
so a 400 names the Anthropic field (see ``anthropic_request`` for the mapping onto ``ChatRequest``)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from sluice.simulator.frontends import MIN_THINKING_BUDGET

Json = dict[str, Any]


def _as_blocks(value: Any) -> Any:
    """A string is shorthand for one text block (``""`` for none), as Anthropic reads it."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}] if value else []
    return value


_Blocks = BeforeValidator(_as_blocks)


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextBlock(_Open):
    type: Literal["text"]
    text: str


class Base64Source(_Open):
    type: Literal["base64"]
    media_type: Literal["image/jpeg", "image/png", "image/gif", "image/webp"]
    data: Annotated[str, Field(min_length=1)]


class UrlSource(_Open):
    type: Literal["url"]
    url: Annotated[str, Field(min_length=1)]


class ImageBlock(_Open):
    type: Literal["image"]
    source: Annotated[Base64Source | UrlSource, Field(discriminator="type")]

    def part(self) -> Json:
        """The OpenAI ``image_url`` part: base64 data becomes a data URL."""
        source = self.source
        if isinstance(source, UrlSource):
            return {"type": "image_url", "image_url": {"url": source.url}}
        return {"type": "image_url", "image_url": {"url": f"data:{source.media_type};base64,{source.data}"}}


class ToolUseBlock(_Open):
    type: Literal["tool_use"]
    id: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]
    input: dict[str, Any]


ResultBlock = Annotated[TextBlock | ImageBlock, Field(discriminator="type")]


class ToolResultBlock(_Open):
    type: Literal["tool_result"]
    tool_use_id: Annotated[str, Field(min_length=1)]
    content: Annotated[list[ResultBlock], _Blocks] = Field(default_factory=list)
    is_error: bool | None = None


class ThinkingBlock(_Open):
    type: Literal["thinking"]
    thinking: str
    signature: str


class RedactedThinkingBlock(_Open):
    type: Literal["redacted_thinking"]
    data: str


Block = Annotated[
    TextBlock | ImageBlock | ToolUseBlock | ToolResultBlock | ThinkingBlock | RedactedThinkingBlock,
    Field(discriminator="type"),
]


class Turn(_Open):
    role: Literal["user", "assistant", "system"]
    content: Annotated[list[Block], _Blocks]


class Tool(_Open):
    """A client tool; server tools (web search, code execution, ...) are not simulated."""

    type: Literal["custom"] | None = None
    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    input_schema: dict[str, Any]


class ToolChoice(_Open):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: bool | None = None


class Thinking(_Open):
    type: Literal["enabled", "adaptive", "between_tools", "disabled"]
    budget_tokens: Annotated[int | None, Field(ge=MIN_THINKING_BUDGET)] = None


class OutputFormat(_Open):
    type: Literal["json_schema"]
    schema_: Annotated[dict[str, Any], Field(alias="schema")]


class OutputConfig(_Open):
    format: OutputFormat | None = None
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = None


class MessagesRequest(_Open):
    """A ``POST /v1/messages`` body."""

    model: Annotated[str, Field(min_length=1)]
    messages: Annotated[list[Turn], Field(min_length=1)]
    max_tokens: Annotated[int, Field(ge=1)]
    system: Annotated[list[TextBlock], _Blocks] = Field(default_factory=list)
    stop_sequences: list[str] | None = None
    stream: bool = False
    temperature: Annotated[float | None, Field(ge=0, le=1)] = None
    top_p: Annotated[float | None, Field(ge=0, le=1)] = None
    top_k: Annotated[int | None, Field(ge=0)] = None
    tools: list[Tool] | None = None
    tool_choice: ToolChoice | None = None
    thinking: Thinking | None = None
    output_config: OutputConfig | None = None
