"""Pydantic models of what an Anthropic upstream answers: a Message, or its stream events.

Lenient where Anthropic adds fields over time (``extra="allow"``), strict on the content block
types Sluice knows how to translate.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.wire.anthropic import RedactedThinkingBlock, TextBlock, ToolUseBlock


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ResponseThinkingBlock(_Open):
    type: Literal["thinking"]
    thinking: str
    signature: str = ""


ResponseBlock = Annotated[
    TextBlock | ResponseThinkingBlock | RedactedThinkingBlock | ToolUseBlock, Field(discriminator="type")
]


class ResponseUsage(_Open):
    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_creation_input_tokens: int | None = None
    cache_read_input_tokens: int | None = None


class MessageResponse(_Open):
    id: str | None = None
    type: Literal["message"] = "message"
    role: Literal["assistant"] = "assistant"
    model: str | None = None
    content: list[ResponseBlock] = []
    stop_reason: str | None = None
    stop_sequence: str | None = None
    usage: ResponseUsage | None = None


class MessageStartEvent(_Open):
    type: Literal["message_start"]
    message: MessageResponse


class BlockStartEvent(_Open):
    type: Literal["content_block_start"]
    index: int
    content_block: ResponseBlock


class TextDelta(_Open):
    type: Literal["text_delta"]
    text: str


class ThinkingDelta(_Open):
    type: Literal["thinking_delta"]
    thinking: str


class SignatureDelta(_Open):
    type: Literal["signature_delta"]
    signature: str


class InputJsonDelta(_Open):
    type: Literal["input_json_delta"]
    partial_json: str


class CitationsDelta(_Open):
    """Citations are not translated; the cited text itself arrives as text deltas."""

    type: Literal["citations_delta"]
    citation: dict[str, Any] | None = None


BlockDelta = Annotated[
    TextDelta | ThinkingDelta | SignatureDelta | InputJsonDelta | CitationsDelta, Field(discriminator="type")
]


class BlockDeltaEvent(_Open):
    type: Literal["content_block_delta"]
    index: int
    delta: BlockDelta


class BlockStopEvent(_Open):
    type: Literal["content_block_stop"]
    index: int


class MessageDeltaBody(_Open):
    stop_reason: str | None = None
    stop_sequence: str | None = None


class MessageDeltaEvent(_Open):
    type: Literal["message_delta"]
    delta: MessageDeltaBody
    usage: ResponseUsage | None = None


class MessageStopEvent(_Open):
    type: Literal["message_stop"]


class PingEvent(_Open):
    type: Literal["ping"]


class ErrorBody(_Open):
    type: str = "api_error"
    message: str = ""


class ErrorEvent(_Open):
    type: Literal["error"]
    error: ErrorBody


type StreamEventModel = (
    MessageStartEvent
    | BlockStartEvent
    | BlockDeltaEvent
    | BlockStopEvent
    | MessageDeltaEvent
    | MessageStopEvent
    | PingEvent
    | ErrorEvent
)

EVENT_MODELS: dict[str, type[StreamEventModel]] = {
    "message_start": MessageStartEvent,
    "content_block_start": BlockStartEvent,
    "content_block_delta": BlockDeltaEvent,
    "content_block_stop": BlockStopEvent,
    "message_delta": MessageDeltaEvent,
    "message_stop": MessageStopEvent,
    "ping": PingEvent,
    "error": ErrorEvent,
}
