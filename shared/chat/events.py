"""Canonical stream events: what every upstream stream is parsed into and every client stream
is rendered from. A small tagged union of frozen dataclasses."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from shared.chat.canonical import FinishReason, JsonObject, Usage


class ErrorKind(StrEnum):
    """Why a stream failed after it started."""

    API_ERROR = "api_error"
    OVERLOADED = "overloaded"
    RATE_LIMITED = "rate_limited"
    INVALID_REQUEST = "invalid_request"
    TIMEOUT = "timeout"


@dataclass(frozen=True, slots=True)
class Start:
    """The upstream opened its answer. ``id``/``model`` are the upstream's, for logs only."""

    id: str | None = None
    model: str | None = None
    usage: Usage | None = None


@dataclass(frozen=True, slots=True)
class TextDelta:
    """Answer text. ``logprobs``: the OpenAI ``logprobs`` object of the upstream chunk this text
    came in, kept with it so that it reaches the client on the same chunk (OpenAI-compatible
    upstreams only)."""

    text: str
    choice: int = 0
    logprobs: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class RefusalDelta:
    """The model's refusal text (OpenAI's ``delta.refusal``), kept apart from the answer's text:
    an OpenAI client gets it as ``delta.refusal``, an Anthropic client as text (Anthropic has no
    refusal block). ``logprobs`` as for ``TextDelta`` (OpenAI's ``logprobs.refusal``)."""

    text: str
    choice: int = 0
    logprobs: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    """Reasoning text; ``logprobs`` as for ``TextDelta`` (vLLM sends them for reasoning tokens)."""

    text: str
    choice: int = 0
    logprobs: JsonObject | None = None


@dataclass(frozen=True, slots=True)
class ReasoningSignature:
    signature: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class RedactedReasoningBlock:
    data: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallStart:
    """A tool call opens; ``index`` counts tool calls of one choice from 0."""

    index: int
    id: str
    name: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class ToolCallArgsDelta:
    index: int
    json_fragment: str
    choice: int = 0


@dataclass(frozen=True, slots=True)
class Finish:
    reason: FinishReason
    stop_sequence: str | None = None
    choice: int = 0


@dataclass(frozen=True, slots=True)
class UsageReport:
    """Usage so far (cumulative); the last one seen is the total."""

    usage: Usage


@dataclass(frozen=True, slots=True)
class Error:
    message: str
    kind: ErrorKind = ErrorKind.API_ERROR


type StreamEvent = (
    Start
    | TextDelta
    | RefusalDelta
    | ReasoningDelta
    | ReasoningSignature
    | RedactedReasoningBlock
    | ToolCallStart
    | ToolCallArgsDelta
    | Finish
    | UsageReport
    | Error
)

ERROR_KIND_TO_ANTHROPIC: Mapping[ErrorKind, str] = {
    ErrorKind.API_ERROR: "api_error",
    ErrorKind.OVERLOADED: "overloaded_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.TIMEOUT: "timeout_error",
}
ERROR_KIND_FROM_ANTHROPIC: Mapping[str, ErrorKind] = {
    "api_error": ErrorKind.API_ERROR,
    "overloaded_error": ErrorKind.OVERLOADED,
    "rate_limit_error": ErrorKind.RATE_LIMITED,
    "invalid_request_error": ErrorKind.INVALID_REQUEST,
    "timeout_error": ErrorKind.TIMEOUT,
}
# The error's ``code``, as the same failure has it before the stream starts (shared/errors.py).
ERROR_KIND_CODE: Mapping[ErrorKind, str] = {
    ErrorKind.API_ERROR: "upstream_error",
    ErrorKind.OVERLOADED: "upstream_unavailable",
    ErrorKind.RATE_LIMITED: "rate_limit_exceeded",
    ErrorKind.INVALID_REQUEST: "invalid_request",
    ErrorKind.TIMEOUT: "upstream_timeout",
}
ERROR_KIND_TO_OPENAI: Mapping[ErrorKind, str] = {
    ErrorKind.API_ERROR: "api_error",
    ErrorKind.OVERLOADED: "api_error",
    ErrorKind.RATE_LIMITED: "rate_limit_error",
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.TIMEOUT: "api_error",
}
