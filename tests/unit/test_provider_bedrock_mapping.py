"""Canonical <-> Bedrock Converse mapping, stream parsing and error classification (pure)."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
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
    CacheControl,
    ChatRequest,
    Finish,
    FinishReason,
    Image,
    Message,
    Part,
    Reasoning,
    ReasoningConfig,
    ReasoningEffort,
    RedactedReasoning,
    Refusal,
    ResponseFormat,
    ResponseFormatKind,
    Role,
    Sampling,
    ServerTool,
    Text,
    ThinkingMode,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolReference,
    ToolResult,
    Usage,
    WireFormat,
)
from shared.errors import InvalidRequest, UpstreamError, UpstreamTimeout, UpstreamUnavailable
from shared.providers.base import UpstreamCallFailed
from shared.providers.bedrock_errors import client_error_failure, upstream_failure
from shared.providers.bedrock_request import request_to_converse
from shared.providers.bedrock_response import (
    FINISH_FROM_CONVERSE,
    ConverseStreamParser,
    finish_from_converse,
    response_from_converse,
    usage_from_converse,
)

PNG = b"\x89PNG\r\n\x1a\nfake"
PNG_B64 = base64.b64encode(PNG).decode()
WEATHER = Tool(
    "get_weather",
    {"type": "object", "properties": {"city": {"type": "string"}}},
    description="Current weather",
)


def user(*parts: Part) -> Message:
    return Message(Role.USER, tuple(parts))


def assistant(*parts: Part) -> Message:
    return Message(Role.ASSISTANT, tuple(parts))


def chat(*messages: Message, **changes: Any) -> ChatRequest:
    return ChatRequest(model="anthropic.claude-sonnet-4-5", messages=messages, **changes)


# --- canonical -> Converse ---------------------------------------------------------------------


def test_a_whole_conversation_maps_to_converse_blocks() -> None:
    req = chat(
        Message(Role.SYSTEM, (Text("Answer briefly."),)),
        user(Text("Weather in Paris?"), Image(media_type="image/png", data=PNG_B64)),
        assistant(
            Reasoning("Need the tool.", signature="sig-1"),
            Reasoning("unsigned, from elsewhere"),
            Text("Checking."),
            ToolCall("tool-1", "get_weather", '{"city": "Paris"}'),
        ),
        user(
            ToolResult("tool-1", (Text("Sunny"), Image(media_type="image/jpeg", data=PNG_B64)), is_error=True)
        ),
        user(Text("Thanks")),
        system=(Text("You are Sluice."),),
        tools=(WEATHER,),
    )

    kwargs = request_to_converse(req)

    assert kwargs["modelId"] == "anthropic.claude-sonnet-4-5"
    assert kwargs["system"] == [{"text": "You are Sluice."}, {"text": "Answer briefly."}]
    assert kwargs["messages"] == [
        {
            "role": "user",
            "content": [
                {"text": "Weather in Paris?"},
                {"image": {"format": "png", "source": {"bytes": PNG}}},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"reasoningContent": {"reasoningText": {"text": "Need the tool.", "signature": "sig-1"}}},
                {"text": "Checking."},
                {"toolUse": {"toolUseId": "tool-1", "name": "get_weather", "input": {"city": "Paris"}}},
            ],
        },
        {
            "role": "user",
            "content": [
                {
                    "toolResult": {
                        "toolUseId": "tool-1",
                        "content": [
                            {"text": "Sunny"},
                            {"image": {"format": "jpeg", "source": {"bytes": PNG}}},
                        ],
                        "status": "error",
                    }
                },
                {"text": "Thanks"},
            ],
        },
    ]
    assert kwargs["toolConfig"] == {
        "tools": [
            {
                "toolSpec": {
                    "name": "get_weather",
                    "description": "Current weather",
                    "inputSchema": {"json": WEATHER.parameters},
                }
            }
        ]
    }
    assert "inferenceConfig" not in kwargs
    assert "additionalModelRequestFields" not in kwargs


def test_sampling_stop_and_model_specific_fields() -> None:
    req = chat(
        user(Text("Hi")),
        max_tokens=300,
        stop=("END",),
        sampling=Sampling(temperature=1.7, top_p=0.9, top_k=40, frequency_penalty=1.0, seed=7),
    )
    thinking = replace(
        req,
        reasoning=ReasoningConfig(mode=ThinkingMode.ENABLED, budget_tokens=2048, effort=ReasoningEffort.HIGH),
    )

    kwargs = request_to_converse(req)
    thinks = request_to_converse(thinking)

    # temperature 1.7, clamped to 1 (its no-op value), leaves top_p alone: Claude takes only one.
    assert kwargs["inferenceConfig"] == {"maxTokens": 300, "topP": 0.9, "stopSequences": ["END"]}
    assert kwargs["additionalModelRequestFields"] == {"top_k": 40}
    assert kwargs["additionalModelResponseFieldPaths"] == ["/stop_sequence"]
    # While Claude thinks: temperature 1 (1.7 clamped to it), no top_k, no top_p below 0.95.
    assert thinks["inferenceConfig"] == {"maxTokens": 300, "temperature": 1.0, "stopSequences": ["END"]}
    assert thinks["additionalModelRequestFields"] == {"thinking": {"type": "enabled", "budget_tokens": 2048}}
    assert thinks["outputConfig"] == {"effort": "high"}


def test_json_schema_response_format_becomes_a_text_format() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    fmt = ResponseFormat(ResponseFormatKind.JSON_SCHEMA, name="answer", schema=schema)

    kwargs = request_to_converse(chat(user(Text("Hi")), response_format=fmt))

    definition = kwargs["outputConfig"]["textFormat"]["structure"]["jsonSchema"]
    assert kwargs["outputConfig"]["textFormat"]["type"] == "json_schema"
    assert json.loads(definition["schema"]) == schema
    assert definition["name"] == "answer"


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        (ToolChoice(ToolChoiceMode.AUTO), {"auto": {}}),
        (ToolChoice(ToolChoiceMode.REQUIRED), {"any": {}}),
        (ToolChoice(ToolChoiceMode.TOOL, name="get_weather"), {"tool": {"name": "get_weather"}}),
    ],
)
def test_tool_choice_modes(choice: ToolChoice, expected: dict) -> None:
    kwargs = request_to_converse(chat(user(Text("Hi")), tools=(WEATHER,), tool_choice=choice))
    assert kwargs["toolConfig"]["toolChoice"] == expected


def test_tool_choice_none_withholds_the_tools_unless_the_history_needs_them() -> None:
    none = ToolChoice(ToolChoiceMode.NONE)
    fresh = request_to_converse(chat(user(Text("Hi")), tools=(WEATHER,), tool_choice=none))
    history = request_to_converse(
        chat(
            user(Text("Hi")),
            assistant(ToolCall("t1", "get_weather", "{}")),
            user(ToolResult("t1", (Text("Sunny"),))),
            tools=(WEATHER,),
            tool_choice=none,
        )
    )

    assert "toolConfig" not in fresh
    assert history["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    assert "toolChoice" not in history["toolConfig"]


def test_earlier_tool_calls_without_declared_tools_declare_stand_ins() -> None:
    """Converse refuses toolUse/toolResult blocks without a toolConfig; OpenAI clients often send
    the history without ``tools`` once they want a plain answer."""
    req = chat(
        user(Text("Hi")),
        assistant(ToolCall("t1", "get_weather", "{}"), ToolCall("t2", "get_time", "{}")),
        user(ToolResult("t1", (Text("Sunny"),)), ToolResult("t2", (Text("Noon"),))),
        assistant(ToolCall("t3", "get_weather", "{}")),
        user(ToolResult("t3", (Text("Rain"),))),
    )

    config = request_to_converse(req)["toolConfig"]

    assert [t["toolSpec"]["name"] for t in config["tools"]] == ["get_weather", "get_time"]
    assert config["tools"][0]["toolSpec"]["inputSchema"] == {"json": {"type": "object", "properties": {}}}
    assert "toolChoice" not in config
    assert "toolConfig" not in request_to_converse(chat(user(Text("Hi"))))


def test_cache_breakpoints_become_cache_points() -> None:
    cached = CacheControl(ttl="1h")
    req = chat(
        user(Text("long document", cache=CacheControl())),
        system=(Text("system", cache=cached),),
        tools=(Tool("t", {"type": "object"}, cache=CacheControl()),),
    )

    kwargs = request_to_converse(req)

    assert kwargs["system"] == [{"text": "system"}, {"cachePoint": {"type": "default", "ttl": "1h"}}]
    assert kwargs["messages"][0]["content"] == [
        {"text": "long document"},
        {"cachePoint": {"type": "default"}},
    ]
    assert kwargs["toolConfig"]["tools"][1] == {"cachePoint": {"type": "default"}}


def test_redacted_reasoning_and_refusals_replay_and_empty_text_is_dropped() -> None:
    secret = base64.b64encode(b"opaque").decode()
    kwargs = request_to_converse(
        chat(user(Text("")), assistant(RedactedReasoning(secret), Refusal("I can't")), user(Text("ok")))
    )

    assert [m["role"] for m in kwargs["messages"]] == ["assistant", "user"], "the empty turn is left out"
    assert kwargs["messages"][0]["content"] == [
        {"reasoningContent": {"redactedContent": b"opaque"}},
        {"text": "I can't"},
    ]


@pytest.mark.parametrize(
    ("req", "param"),
    [
        (chat(user(Image(url="https://example.com/cat.png"))), "messages"),
        (chat(user(Image(media_type="image/bmp", data=PNG_B64))), "messages"),
        (chat(user(Image(media_type="image/png", data="not base64!"))), "messages"),
        (chat(user(ToolResult("t", (ToolReference("search"),)))), "messages"),
        (chat(user(Text("Hi")), n=2), "n"),
        (chat(user(Text("Hi")), logprobs=True), "logprobs"),
        (chat(user(Text("Hi")), tools=(ServerTool("web_search_20250305", "web_search"),)), "tools.0"),
        (
            chat(user(Text("Hi")), reasoning=ReasoningConfig(mode=ThinkingMode.ENABLED)),
            "thinking.budget_tokens",
        ),
        (  # Claude's floor, named here rather than refused upstream
            chat(user(Text("Hi")), reasoning=ReasoningConfig(mode=ThinkingMode.ENABLED, budget_tokens=500)),
            "thinking.budget_tokens",
        ),
    ],
)
def test_what_converse_cannot_carry_is_refused(req: ChatRequest, param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_to_converse(req)
    assert caught.value.param == param


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


def test_an_openai_clients_reasoning_effort_turns_adaptive_thinking_on() -> None:
    req = chat(
        user(Text("Hi")),
        reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH),
        extras_format=WireFormat.OPENAI,
    )

    kwargs = request_to_converse(req)
    from_anthropic = request_to_converse(replace(req, extras_format=WireFormat.ANTHROPIC))

    assert kwargs["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}
    assert kwargs["outputConfig"] == {"effort": "high"}
    assert "additionalModelRequestFields" not in from_anthropic


def test_a_malformed_event_stream_frame_is_a_retryable_failure() -> None:
    from botocore.eventstream import ChecksumMismatch

    failure = upstream_failure(ChecksumMismatch(0x1234, 0x5678))

    assert failure is not None and failure.retryable
    assert "malformed stream event" in str(failure)


def test_a_turn_with_nothing_to_replay_is_left_out_and_its_neighbours_merge() -> None:
    """Unsigned reasoning from another provider is all the middle turn held; Converse refuses empty content."""
    req = chat(user(Text("q1")), assistant(Reasoning("thought elsewhere")), user(Text("q2")))

    assert request_to_converse(req)["messages"] == [
        {"role": "user", "content": [{"text": "q1"}, {"text": "q2"}]}
    ]
