"""Pydantic models of Anthropic Messages requests, as clients (Claude Code, the SDKs) send them.

Unknown top-level fields (``context_management``, ``container``, ...) are kept (``extra="allow"``)
so they can be forwarded to Anthropic-native upstreams; unknown fields inside blocks are
tolerated; an unknown content block type is a 400 naming the block.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    StrictBool,
    Tag,
)
from pydantic_core import PydanticCustomError

from shared.wire.strict import Number

ImageMediaType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _blocks_from_string(value: Any) -> Any:
    """``"hi"`` is shorthand for ``[{"type": "text", "text": "hi"}]``; ``""`` for no blocks."""
    if isinstance(value, str):
        return [{"type": "text", "text": value}] if value else []
    return value


class CacheControlParam(_Open):
    type: Literal["ephemeral"]
    ttl: str | None = None


class TextBlock(_Open):
    type: Literal["text"]
    text: str
    cache_control: CacheControlParam | None = None


class Base64Source(_Open):
    type: Literal["base64"]
    media_type: ImageMediaType
    data: Annotated[str, Field(min_length=1)]


class UrlSource(_Open):
    type: Literal["url"]
    url: Annotated[str, Field(min_length=1)]


ImageSource = Annotated[Base64Source | UrlSource, Field(discriminator="type")]


class ImageBlock(_Open):
    type: Literal["image"]
    source: ImageSource
    cache_control: CacheControlParam | None = None


class ToolUseBlock(_Open):
    type: Literal["tool_use"]
    id: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]
    input: dict[str, Any]
    cache_control: CacheControlParam | None = None


class ToolReferenceBlock(_Open):
    type: Literal["tool_reference"]
    tool_name: Annotated[str, Field(min_length=1)]
    cache_control: CacheControlParam | None = None


class DocumentBlock(_Open):
    """Parsed only to be refused with a clear message: Sluice does not forward documents."""

    type: Literal["document"]


ResultBlock = Annotated[
    TextBlock | ImageBlock | ToolReferenceBlock | DocumentBlock, Field(discriminator="type")
]


class ToolResultBlock(_Open):
    type: Literal["tool_result"]
    tool_use_id: Annotated[str, Field(min_length=1)]
    content: Annotated[
        list[ResultBlock],
        BeforeValidator(_blocks_from_string, json_schema_input_type=str | list[ResultBlock]),
    ] = []
    is_error: StrictBool | None = None
    cache_control: CacheControlParam | None = None


class ThinkingBlock(_Open):
    type: Literal["thinking"]
    thinking: str
    signature: str | None = None


class RedactedThinkingBlock(_Open):
    type: Literal["redacted_thinking"]
    data: str


ContentBlock = Annotated[
    TextBlock
    | ImageBlock
    | ToolUseBlock
    | ToolResultBlock
    | ThinkingBlock
    | RedactedThinkingBlock
    | DocumentBlock,
    Field(discriminator="type"),
]


class MessageParam(_Open):
    """A turn. ``role: "system"`` is tolerated: Claude Code sends system turns mid-conversation."""

    role: Literal["user", "assistant", "system"]
    content: Annotated[
        list[ContentBlock],
        BeforeValidator(_blocks_from_string, json_schema_input_type=str | list[ContentBlock]),
    ]


def _an_object_schema(value: dict[str, Any]) -> dict[str, Any]:
    """Anthropic takes only an object schema for a tool's input (a call's input is an object)."""
    if value.get("type") != "object":
        raise PydanticCustomError("object_schema", "Input should be a JSON schema of type 'object'")
    return value


class CustomTool(_Open):
    name: Annotated[str, Field(pattern=r"^[a-zA-Z0-9_-]{1,128}$")]
    description: str | None = None
    input_schema: Annotated[dict[str, Any], AfterValidator(_an_object_schema)]
    type: Literal["custom"] | None = None
    strict: bool | None = None
    cache_control: CacheControlParam | None = None


class ServerToolParam(_Open):
    """A tool run by Anthropic (``web_search_20250305``, ``bash_20250124``, ...), kept as given."""

    type: Annotated[str, Field(min_length=1)]
    name: Annotated[str, Field(min_length=1)]


def _tool_kind(value: Any) -> str:
    if isinstance(value, dict):
        is_custom = value.get("type") in (None, "custom") or "input_schema" in value
        return "custom" if is_custom else "server"
    return "custom" if getattr(value, "input_schema", None) is not None else "server"


ToolParam = Annotated[
    Annotated[CustomTool, Tag("custom")] | Annotated[ServerToolParam, Tag("server")],
    Discriminator(_tool_kind),
]


class ToolChoiceParam(_Open):
    type: Literal["auto", "any", "tool", "none"]
    name: str | None = None
    disable_parallel_tool_use: StrictBool | None = None


class ThinkingParam(_Open):
    type: Literal["enabled", "adaptive", "disabled", "between_tools"]
    budget_tokens: Annotated[int | None, Field(ge=1024), Number] = None
    display: Literal["summarized", "omitted"] | None = None


class MetadataParam(_Open):
    user_id: str | None = None


class OutputFormatParam(_Open):
    type: Literal["json_schema"]
    json_schema: Annotated[dict[str, Any], Field(alias="schema")]


class OutputConfigParam(_Open):
    effort: Literal["low", "medium", "high", "xhigh", "max"] | None = None
    format: OutputFormatParam | None = None


class MessagesRequest(_Open):
    """``POST /v1/messages``. ``stop_sequences`` is limited to 4, as in the SPEC (and as every
    OpenAI-compatible upstream requires), so a request can be routed to any upstream."""

    model: Annotated[str, Field(min_length=1)]
    messages: Annotated[list[MessageParam], Field(min_length=1)]
    max_tokens: Annotated[int, Field(ge=1), Number]
    system: Annotated[
        list[TextBlock], BeforeValidator(_blocks_from_string, json_schema_input_type=str | list[TextBlock])
    ] = []
    temperature: Annotated[float | None, Field(ge=0, le=1), Number] = None
    top_p: Annotated[float | None, Field(ge=0, le=1), Number] = None
    top_k: Annotated[int | None, Field(ge=0), Number] = None
    stop_sequences: Annotated[list[str] | None, Field(max_length=4)] = None
    stream: StrictBool | None = None
    metadata: MetadataParam | None = None
    tools: list[ToolParam] | None = None
    tool_choice: ToolChoiceParam | None = None
    thinking: ThinkingParam | None = None
    output_config: OutputConfigParam | None = None


class CountTokensRequest(MessagesRequest):
    """``POST /v1/messages/count_tokens``: a Messages request without ``max_tokens``."""

    max_tokens: Annotated[int | None, Field(ge=1), Number] = None  # type: ignore[assignment]
