"""Pydantic models of OpenAI Chat Completions requests.

Unknown top-level fields are kept (``extra="allow"``) and forwarded to OpenAI-compatible
upstreams; OpenAI's deprecated ``functions`` / ``function_call`` (and the ``function`` role, and an
assistant's ``function_call``) are typed, so that they are translated (``openai_legacy``), never
forwarded raw. Content given as a string is read as one text part. Constraints live in the
annotations, so a validation error names the parameter (``temperature``, ``stop``, ...).
Booleans and numbers must be JSON booleans and numbers (``"stream": "yes"`` is refused, as
OpenAI refuses it; pydantic alone would read it as true).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from shared.wire import anthropic
from shared.wire.anthropic import CacheControlParam
from shared.wire.strict import Number

Effort = Literal["none", "minimal", "low", "medium", "high", "xhigh", "max"]
# The length limit sits inside the optional type: outside it, `"stop": null` made pydantic raise a
# TypeError (a 500) instead of accepting the null.
StopSequences = Annotated[list[str], Field(max_length=4)]


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


def _parts_from_string(value: Any) -> Any:
    if isinstance(value, str):
        return [{"type": "text", "text": value}] if value else []
    if isinstance(value, list) and not value:  # an empty string is read as no parts; OpenAI refuses []
        raise PydanticCustomError("too_short", "Content should be a string or a non-empty array of parts")
    return value


def _list_from_string(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


class TextPart(_Open):
    type: Literal["text"]
    text: str
    cache_control: CacheControlParam | None = None


class ImageUrl(_Open):
    url: Annotated[str, Field(min_length=1)]
    detail: Literal["auto", "low", "high"] | None = None


class ImagePart(_Open):
    type: Literal["image_url"]
    image_url: ImageUrl
    cache_control: CacheControlParam | None = None


class RefusalPart(_Open):
    type: Literal["refusal"]
    refusal: str


ContentPart = Annotated[TextPart | ImagePart | RefusalPart, Field(discriminator="type")]


class FunctionCall(_Open):
    name: Annotated[str, Field(min_length=1)]
    arguments: str


class ToolCallParam(_Open):
    id: Annotated[str, Field(min_length=1)]
    type: Literal["function"] = "function"
    function: FunctionCall
    cache_control: CacheControlParam | None = None


# Signed reasoning as a Claude route's answer gave it (``thinking_blocks``, in Anthropic's shape); sent
# back, the next step of a tool loop can think too. A stream's ``index`` is ignored.
ThinkingBlock = Annotated[
    anthropic.ThinkingBlock | anthropic.RedactedThinkingBlock, Field(discriminator="type")
]


class ChatMessage(_Open):
    """One message. Which fields a role may carry is checked when translating to canonical.

    ``cache_control`` may mark a whole message, as the Vercel AI SDK's OpenAI-compatible provider
    writes it (OpenCode does for Claude models) and LiteLLM and OpenRouter read it: its last part.
    """

    role: Literal["system", "developer", "user", "assistant", "tool", "function"]
    content: Annotated[
        list[ContentPart] | None,
        BeforeValidator(_parts_from_string, json_schema_input_type=str | list[ContentPart] | None),
    ] = None
    name: str | None = None
    tool_calls: list[ToolCallParam] | None = None
    function_call: FunctionCall | None = None  # deprecated: an assistant's one call, no id
    tool_call_id: str | None = None
    reasoning_content: str | None = None
    thinking_blocks: list[ThinkingBlock] | None = None
    refusal: str | None = None
    cache_control: CacheControlParam | None = None


class FunctionDef(_Open):
    name: Annotated[str, Field(min_length=1, max_length=128)]
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


class ToolDef(_Open):
    type: Literal["function"]
    function: FunctionDef


class NamedFunction(_Open):
    name: Annotated[str, Field(min_length=1)]


class NamedToolChoice(_Open):
    type: Literal["function"]
    function: NamedFunction


class JsonSchemaSpec(_Open):
    name: Annotated[str, Field(min_length=1, max_length=64)]
    json_schema: Annotated[dict[str, Any] | None, Field(alias="schema")] = None
    strict: bool | None = None
    description: str | None = None


class ResponseFormatParam(_Open):
    type: Literal["text", "json_object", "json_schema"]
    json_schema: JsonSchemaSpec | None = None


class StreamOptions(_Open):
    include_usage: StrictBool | None = None


class ThinkingParam(BaseModel):
    """``thinking`` as OpenAI-compatible hosts (Moonshot, DeepSeek, GLM, vLLM) accept it."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["enabled", "disabled"]
    budget_tokens: Annotated[int | None, Field(ge=1), Number] = None


class ChatCompletionRequest(_Open):
    """``POST /v1/chat/completions``."""

    model: Annotated[str, Field(min_length=1)]
    messages: Annotated[list[ChatMessage], Field(min_length=1)]
    stream: StrictBool | None = None
    stream_options: StreamOptions | None = None
    temperature: Annotated[float | None, Field(ge=0, le=2), Number] = None
    top_p: Annotated[float | None, Field(ge=0, le=1), Number] = None
    top_k: Annotated[int | None, Field(ge=-1), Number] = None
    max_tokens: Annotated[int | None, Field(ge=1), Number] = None
    max_completion_tokens: Annotated[int | None, Field(ge=1), Number] = None
    n: Annotated[int | None, Field(ge=1, le=128), Number] = None
    stop: Annotated[
        StopSequences | None,
        BeforeValidator(_list_from_string, json_schema_input_type=str | StopSequences | None),
    ] = None
    frequency_penalty: Annotated[float | None, Field(ge=-2, le=2), Number] = None
    presence_penalty: Annotated[float | None, Field(ge=-2, le=2), Number] = None
    user: str | None = None
    response_format: ResponseFormatParam | None = None
    tools: list[ToolDef] | None = None
    tool_choice: Literal["none", "auto", "required"] | NamedToolChoice | None = None
    functions: list[FunctionDef] | None = None  # deprecated spelling of tools
    function_call: Literal["none", "auto"] | NamedFunction | None = None  # ... and of tool_choice
    parallel_tool_calls: StrictBool | None = None
    reasoning_effort: Effort | None = None
    thinking: ThinkingParam | None = None
    seed: Annotated[int | None, Number] = None
    logprobs: StrictBool | None = None
    top_logprobs: Annotated[int | None, Field(ge=0, le=20), Number] = None
