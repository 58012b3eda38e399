"""The OpenAI chat-completions request, as far as the simulator reads it.

Unknown top-level fields are accepted (clients send many); unknown roles and content part types
are rejected, so a translator that produces them is caught by the tests.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from sluice.simulator.tokens import IMAGE_PART_TOKENS, count_tokens


class InvalidRequest(ValueError):
    """A request the simulator refuses with 400, in OpenAI's error format."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class TextPart(_Open):
    type: Literal["text"]
    text: str


class ImagePart(_Open):
    type: Literal["image_url"]
    image_url: dict[str, Any]


class RefusalPart(_Open):
    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[TextPart | ImagePart | RefusalPart, Field(discriminator="type")]


class Message(_Open):
    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: str | list[ContentPart] | None = None
    name: str | None = None
    tool_call_id: str | None = None

    def text(self) -> str:
        """The message's text: the string content, or its text and refusal parts joined by spaces."""
        if isinstance(self.content, str):
            return self.content
        parts = self.content or []
        return " ".join(
            part.text if isinstance(part, TextPart) else part.refusal
            for part in parts
            if not isinstance(part, ImagePart)
        )

    def prompt_tokens(self) -> int:
        """Tokens of this message: its words plus ``IMAGE_PART_TOKENS`` per image part."""
        parts = self.content if isinstance(self.content, list) else []
        images = sum(isinstance(part, ImagePart) for part in parts)
        return count_tokens(self.text()) + images * IMAGE_PART_TOKENS


class FunctionDefinition(_Open):
    name: Annotated[str, Field(min_length=1)]
    description: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class ToolDefinition(_Open):
    type: Literal["function"]
    function: FunctionDefinition


class FunctionName(_Open):
    name: str


class NamedToolChoice(_Open):
    type: Literal["function"]
    function: FunctionName


class JsonSchemaFormat(_Open):
    name: str | None = None
    schema_: Annotated[dict[str, Any], Field(alias="schema")] = Field(default_factory=dict)


class ResponseFormat(_Open):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaFormat | None = None


class StreamOptions(_Open):
    include_usage: bool = False


class ChatRequest(_Open):
    """A ``POST /v1/chat/completions`` body."""

    model: Annotated[str, Field(min_length=1)]
    messages: Annotated[list[Message], Field(min_length=1)]
    stream: bool = False
    stream_options: StreamOptions | None = None
    n: Annotated[int, Field(ge=1, le=16)] = 1
    max_tokens: Annotated[int | None, Field(ge=1)] = None
    max_completion_tokens: Annotated[int | None, Field(ge=1)] = None
    stop: str | Annotated[list[str], Field(max_length=4)] | None = None
    tools: list[ToolDefinition] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning_effort: str | None = None
    thinking: Any = None
    logprobs: bool | None = None
    top_logprobs: Annotated[int | None, Field(ge=0, le=20)] = None

    def prompt_tokens(self) -> int:
        """Tokens of all messages, under the simulator's token model."""
        return sum(message.prompt_tokens() for message in self.messages)

    def last_user_text(self) -> str:
        """Text of the last ``user`` message ("" when there is none)."""
        users = [message for message in self.messages if message.role == "user"]
        return users[-1].text() if users else ""

    def completion_cap(self) -> int | None:
        """The token cap: ``max_completion_tokens``, else ``max_tokens``, else none."""
        return self.max_completion_tokens or self.max_tokens

    def stop_sequences(self) -> list[str]:
        """``stop`` as a list."""
        if self.stop is None:
            return []
        return [self.stop] if isinstance(self.stop, str) else list(self.stop)

    def wants_reasoning(self) -> bool:
        """Whether reasoning was asked for (``reasoning_effort`` or ``thinking``, unless disabled)."""
        if self.reasoning_effort and self.reasoning_effort != "none":
            return True
        if isinstance(self.thinking, dict) and self.thinking.get("type") == "disabled":
            return False
        return bool(self.thinking)
