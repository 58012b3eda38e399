"""Bedrock Converse answers, ConverseStream events and botocore errors in canonical form (pure):
finish reasons, usage, content blocks, stream deltas, and which failures are retried."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    EventStreamError,
    NoCredentialsError,
    ParamValidationError,
    ReadTimeoutError,
)

from shared.chat import events as ev
from shared.chat.canonical import (
    Finish,
    FinishReason,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    Usage,
)
from shared.errors import InvalidRequest, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from shared.providers.base import UpstreamCallFailed
from shared.providers.bedrock_errors import client_error_failure, upstream_failure
from shared.providers.bedrock_response import (
    FINISH_FROM_CONVERSE,
    ConverseStreamParser,
    finish_from_converse,
    response_from_converse,
    usage_from_converse,
)

# --- Converse -> canonical ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("stop_reason", "reason"),
    [
        ("end_turn", FinishReason.STOP),
        ("tool_use", FinishReason.TOOL_CALLS),
        ("max_tokens", FinishReason.LENGTH),
        ("stop_sequence", FinishReason.STOP_SEQUENCE),
        ("guardrail_intervened", FinishReason.CONTENT_FILTER),
        ("content_filtered", FinishReason.CONTENT_FILTER),
        ("model_context_window_exceeded", FinishReason.CONTEXT_WINDOW),
        ("malformed_tool_use", FinishReason.ERROR),
    ],
)
def test_stop_reasons(stop_reason: str, reason: FinishReason) -> None:
    assert finish_from_converse(stop_reason) == Finish(reason)


def test_every_stop_reason_botocore_knows_is_mapped() -> None:
    import botocore.session

    model = botocore.session.get_session().get_service_model("bedrock-runtime")
    enum = model.shape_for("StopReason").enum
    assert set(enum) <= set(FINISH_FROM_CONVERSE)


def test_the_matched_stop_sequence_is_kept_and_unknown_reasons_refused() -> None:
    assert finish_from_converse("stop_sequence", {"stop_sequence": "END"}) == Finish(
        FinishReason.STOP_SEQUENCE, "END"
    )
    assert finish_from_converse("end_turn", {"stop_sequence": "END"}) == Finish(FinishReason.STOP)
    with pytest.raises(UpstreamError):
        finish_from_converse("daydreaming")


def test_usage_adds_cache_reads_and_writes_to_the_prompt() -> None:
    usage = {
        "inputTokens": 10,
        "outputTokens": 4,
        "totalTokens": 64,
        "cacheReadInputTokens": 30,
        "cacheWriteInputTokens": 20,
    }
    assert usage_from_converse(usage) == Usage(60, 4, cache_read_tokens=30, cache_write_tokens=20)
    assert usage_from_converse({"inputTokens": 3, "outputTokens": 2, "totalTokens": 5}) == Usage(3, 2)


def test_a_converse_answer_in_canonical_form() -> None:
    body = {
        "output": {
            "message": {
                "role": "assistant",
                "content": [
                    {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s"}}},
                    {"reasoningContent": {"redactedContent": b"opaque"}},
                    {"text": "Let me check."},
                    {
                        "toolUse": {
                            "toolUseId": "tooluse_1",
                            "name": "get_weather",
                            "input": {"city": "Paris"},
                        }
                    },
                ],
            }
        },
        "stopReason": "tool_use",
        "usage": {"inputTokens": 12, "outputTokens": 8, "totalTokens": 20},
        "metrics": {"latencyMs": 300},
        "ResponseMetadata": {"RequestId": "req-1"},
    }

    answer = response_from_converse(body, model="anthropic.claude")

    assert answer.id == "req-1"
    assert answer.model == "anthropic.claude"
    assert answer.choices[0].parts == (
        Reasoning("hmm", signature="s"),
        RedactedReasoning(base64.b64encode(b"opaque").decode()),
        Text("Let me check."),
        ToolCall("tooluse_1", "get_weather", '{"city": "Paris"}'),
    )
    assert answer.choices[0].finish == Finish(FinishReason.TOOL_CALLS)
    assert answer.usage == Usage(12, 8)


def test_an_unknown_content_block_is_an_upstream_error() -> None:
    body = {
        "output": {"message": {"role": "assistant", "content": [{"video": {}}]}},
        "stopReason": "end_turn",
    }
    with pytest.raises(UpstreamError):
        response_from_converse(body, model="m")


# --- ConverseStream ----------------------------------------------------------------------------


STREAM: list[dict[str, Any]] = [
    {"messageStart": {"role": "assistant"}},
    {"contentBlockDelta": {"delta": {"reasoningContent": {"text": "Thinking"}}, "contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"reasoningContent": {"signature": "sig"}}, "contentBlockIndex": 0}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": "Let me check."}, "contentBlockIndex": 1}},
    {"contentBlockStop": {"contentBlockIndex": 1}},
    {
        "contentBlockStart": {
            "start": {"toolUse": {"toolUseId": "tu_1", "name": "get_weather"}},
            "contentBlockIndex": 2,
        }
    },
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"city": '}}, "contentBlockIndex": 2}},
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '"Paris"}'}}, "contentBlockIndex": 2}},
    {"contentBlockStop": {"contentBlockIndex": 2}},
    {"messageStop": {"stopReason": "tool_use"}},
    {
        "metadata": {
            "usage": {"inputTokens": 20, "outputTokens": 9, "totalTokens": 29},
            "metrics": {"latencyMs": 1},
        }
    },
]


def test_a_converse_stream_in_canonical_events() -> None:
    parser = ConverseStreamParser(model="anthropic.claude")
    events = [event for raw in STREAM for event in parser.feed(raw)]

    assert events == [
        ev.Start(model="anthropic.claude"),
        ev.ReasoningDelta("Thinking"),
        ev.ReasoningSignature("sig"),
        ev.TextDelta("Let me check."),
        ev.ToolCallStart(0, "tu_1", "get_weather"),
        ev.ToolCallArgsDelta(0, '{"city": '),
        ev.ToolCallArgsDelta(0, '"Paris"}'),
        ev.Finish(FinishReason.TOOL_CALLS),
        ev.UsageReport(Usage(20, 9)),
    ]


def test_stream_redacted_reasoning_and_unknown_deltas() -> None:
    parser = ConverseStreamParser(model="m")
    redacted = {
        "contentBlockDelta": {
            "delta": {"reasoningContent": {"redactedContent": b"x"}},
            "contentBlockIndex": 0,
        }
    }
    citation = {"contentBlockDelta": {"delta": {"citation": {"title": "t"}}, "contentBlockIndex": 0}}

    assert parser.feed(redacted) == [ev.RedactedReasoningBlock(base64.b64encode(b"x").decode())]
    assert parser.feed(citation) == []
    assert parser.feed({"somethingNew": {}}) == []


def test_tool_input_for_a_block_that_is_not_a_tool_call_is_an_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        ConverseStreamParser(model="m").feed(
            {"contentBlockDelta": {"delta": {"toolUse": {"input": "{}"}}, "contentBlockIndex": 3}}
        )


@pytest.mark.parametrize(
    ("event", "retryable"),
    [
        ("throttlingException", True),
        ("serviceUnavailableException", True),
        ("modelStreamErrorException", True),
        ("internalServerException", True),
        ("validationException", False),
    ],
)
def test_stream_exception_events_raise_classified_failures(event: str, retryable: bool) -> None:
    with pytest.raises(UpstreamCallFailed) as caught:
        ConverseStreamParser(model="m").feed({event: {"message": "boom"}})
    assert caught.value.retryable is retryable
    assert isinstance(caught.value.client_error, UpstreamUnavailable if retryable else InvalidRequest)


# --- botocore errors ---------------------------------------------------------------------------


def client_error(code: str, status: int = 400, message: str = "boom") -> ClientError:
    response = {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": status}}
    return ClientError(response, "Converse")


@pytest.mark.parametrize(
    ("code", "status", "retryable", "client_type"),
    [
        ("ThrottlingException", 429, True, UpstreamUnavailable),
        ("ServiceUnavailableException", 503, True, UpstreamUnavailable),
        ("ModelNotReadyException", 429, True, UpstreamUnavailable),
        ("InternalServerException", 500, True, UpstreamUnavailable),
        ("ModelTimeoutException", 408, True, UpstreamUnavailable),
        ("ModelErrorException", 424, True, UpstreamUnavailable),
        ("ValidationException", 400, False, InvalidRequest),
        ("AccessDeniedException", 403, True, UpstreamError),
        ("ResourceNotFoundException", 404, True, UpstreamError),
        ("SomethingNewException", 400, False, InvalidRequest),
        ("SomethingNewException", 503, True, UpstreamUnavailable),
    ],
)
def test_client_error_codes(code: str, status: int, retryable: bool, client_type: type) -> None:
    failure = upstream_failure(client_error(code, status))
    assert failure is not None
    assert failure.retryable is retryable
    assert type(failure.client_error) is client_type


def test_validation_keeps_bedrocks_message_for_the_client() -> None:
    failure = client_error_failure({"Error": {"Code": "ValidationException", "Message": "Input is too long"}})
    assert "Input is too long" in failure.client_error.message


def test_event_stream_errors_use_the_event_name_as_code() -> None:
    error = EventStreamError(
        {"Error": {"Code": "throttlingException", "Message": "slow down"}}, "ConverseStream"
    )
    failure = upstream_failure(error)
    assert failure is not None and failure.retryable


def test_network_and_local_botocore_errors() -> None:
    timeout = upstream_failure(ReadTimeoutError(endpoint_url="https://bedrock"))
    unreachable = upstream_failure(EndpointConnectionError(endpoint_url="https://bedrock"))
    no_credentials = upstream_failure(NoCredentialsError())
    bad_params = upstream_failure(ParamValidationError(report="Invalid type for parameter messages"))

    assert timeout is not None and timeout.retryable and isinstance(timeout.client_error, UpstreamTimeout)
    assert unreachable is not None and unreachable.retryable
    assert no_credentials is not None and no_credentials.retryable
    assert bad_params is not None and not bad_params.retryable
    assert upstream_failure(ValueError("a bug")) is None


def test_a_malformed_event_stream_frame_is_a_retryable_failure() -> None:
    from botocore.eventstream import ChecksumMismatch

    failure = upstream_failure(ChecksumMismatch(0x1234, 0x5678))

    assert failure is not None and failure.retryable
    assert "malformed stream event" in str(failure)
