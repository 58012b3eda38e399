"""The canonical chat shape: the hub every wire format converts to and from.

Frozen dataclasses, no I/O. Wire dicts live only at the edges (``from_*`` / ``to_*`` modules);
JSON that is JSON by nature (tool schemas, unknown passthrough fields) is typed ``JsonObject``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

type JsonObject = Mapping[str, Any]


class Role(StrEnum):
    """Who speaks. Tool results are parts of a USER message (as in Anthropic's format)."""

    SYSTEM = "system"
    USER = "user"
    ASSISTANT = "assistant"


class WireFormat(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"


class FinishReason(StrEnum):
    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"
    STOP_SEQUENCE = "stop_sequence"
    PAUSE = "pause"
    CONTEXT_WINDOW = "context_window"
    ERROR = "error"


class ToolChoiceMode(StrEnum):
    AUTO = "auto"
    NONE = "none"
    REQUIRED = "required"
    TOOL = "tool"


class ResponseFormatKind(StrEnum):
    TEXT = "text"
    JSON_OBJECT = "json_object"
    JSON_SCHEMA = "json_schema"


class ThinkingMode(StrEnum):
    ENABLED = "enabled"
    ADAPTIVE = "adaptive"
    DISABLED = "disabled"
    BETWEEN_TOOLS = "between_tools"


class ReasoningEffort(StrEnum):
    NONE = "none"
    MINIMAL = "minimal"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    XHIGH = "xhigh"
    MAX = "max"


@dataclass(frozen=True, slots=True)
class CacheControl:
    """A prompt-cache breakpoint (Anthropic ``cache_control``; some OpenAI-compatible hosts too)."""

    type: str = "ephemeral"
    ttl: str | None = None


@dataclass(frozen=True, slots=True)
class Text:
    text: str
    cache: CacheControl | None = None


@dataclass(frozen=True, slots=True)
class Image:
    """An image given by URL (http(s)) or inline as base64 ``data`` with its ``media_type``."""

    url: str | None = None
    media_type: str | None = None
    data: str | None = None
    detail: str | None = None
    cache: CacheControl | None = None

    def __post_init__(self) -> None:
        inline = self.data is not None and self.media_type is not None
        if inline == (self.url is not None):
            raise ValueError("an Image has either a url or inline media_type and data")


@dataclass(frozen=True, slots=True)
class ToolReference:
    """A tool named inside a tool result (Anthropic ``tool_reference``, used by tool search)."""

    tool_name: str
    cache: CacheControl | None = None


type ResultPart = Text | Image | ToolReference


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments_json: str
    cache: CacheControl | None = None


@dataclass(frozen=True, slots=True)
class ToolResult:
    tool_call_id: str
    content: tuple[ResultPart, ...] = ()
    is_error: bool = False
    cache: CacheControl | None = None


@dataclass(frozen=True, slots=True)
class Reasoning:
    text: str
    signature: str | None = None


@dataclass(frozen=True, slots=True)
class RedactedReasoning:
    data: str


@dataclass(frozen=True, slots=True)
class Refusal:
    text: str


type Part = Text | Image | ToolCall | ToolResult | Reasoning | RedactedReasoning | Refusal

ALLOWED_PARTS: Mapping[Role, tuple[type, ...]] = {
    Role.SYSTEM: (Text,),
    Role.USER: (Text, Image, ToolResult),
    Role.ASSISTANT: (Text, ToolCall, Reasoning, RedactedReasoning, Refusal),
}


@dataclass(frozen=True, slots=True)
class Message:
    role: Role
    parts: tuple[Part, ...]
    name: str | None = None


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call; ``extras`` keeps unknown fields of the source format."""

    name: str
    parameters: JsonObject | None = None
    description: str | None = None
    strict: bool | None = None
    cache: CacheControl | None = None
    extras: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ServerTool:
    """A provider-run tool (Anthropic ``web_search_...`` etc.): only an Anthropic upstream runs it."""

    type: str
    name: str
    config: JsonObject = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ToolChoice:
    mode: ToolChoiceMode
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ResponseFormat:
    kind: ResponseFormatKind
    name: str | None = None
    schema: JsonObject | None = None
    strict: bool | None = None
    description: str | None = None


@dataclass(frozen=True, slots=True)
class ReasoningConfig:
    mode: ThinkingMode | None = None
    budget_tokens: int | None = None
    effort: ReasoningEffort | None = None
    display: str | None = None


@dataclass(frozen=True, slots=True)
class Sampling:
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    frequency_penalty: float | None = None
    presence_penalty: float | None = None
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class ChatRequest:
    """One chat request, independent of the wire format it came in.

    ``system`` holds the top-level instructions; ``messages`` may still hold SYSTEM messages in
    place (OpenAI allows them anywhere). ``extras`` are unknown top-level fields of
    ``extras_format``, forwarded only to an upstream of that same format.

    ``legacy_functions``: the client declared its tools in OpenAI's deprecated style
    (``functions`` / ``function_call``). The request is the same as with ``tools`` (one call at a
    time); only the client's answer differs: ``function_call`` instead of ``tool_calls``, with
    finish reason ``function_call``, and errors name ``functions``.
    """

    model: str
    messages: tuple[Message, ...]
    system: tuple[Text, ...] = ()
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    sampling: Sampling = Sampling()
    tools: tuple[Tool | ServerTool, ...] = ()
    tool_choice: ToolChoice | None = None
    parallel_tool_calls: bool | None = None
    response_format: ResponseFormat | None = None
    reasoning: ReasoningConfig | None = None
    n: int | None = None
    user: str | None = None
    stream: bool = False
    include_usage: bool = False
    logprobs: bool | None = None
    top_logprobs: int | None = None
    extras: JsonObject = field(default_factory=dict)
    extras_format: WireFormat | None = None
    legacy_functions: bool = False
    # (the client's message index, its characters of content) for each user or assistant turn as
    # the client sent it, when parsing merged or folded turns (Messages requests): the usage
    # limits count these. None: ``messages`` are the client's own. Where the request came from,
    # not what it asks: left out of equality.
    turn_chars: tuple[tuple[int, int], ...] | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts. ``input_tokens`` is the whole prompt, cache reads and writes included."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int | None = None
    cache_write_tokens: int | None = None
    reasoning_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason
    stop_sequence: str | None = None


@dataclass(frozen=True, slots=True)
class Choice:
    """One answer. ``logprobs`` is an OpenAI-compatible upstream's object as it sent it
    (``{"content": [...], "refusal": ...}``): no other protocol has them."""

    index: int
    parts: tuple[Part, ...]
    finish: Finish | None = None
    logprobs: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class ChatResponse:
    """A complete answer. ``id`` and ``model`` are the upstream's: renderers take fresh ones."""

    id: str | None
    model: str
    choices: tuple[Choice, ...]
    usage: Usage | None = None
    created: int | None = None
