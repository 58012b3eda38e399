"""Canonical requests as Bedrock Converse requests (pure); answers, streams and errors the other way
are in test_provider_bedrock_answers.py."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from typing import Any

import pytest

from shared.chat.canonical import (
    CacheControl,
    ChatRequest,
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
    WireFormat,
)
from shared.errors import InvalidRequest
from shared.providers.bedrock_request import request_to_converse

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
        max_tokens=4096,  # over the budget, as Claude requires
        reasoning=ReasoningConfig(mode=ThinkingMode.ENABLED, budget_tokens=2048, effort=ReasoningEffort.HIGH),
    )

    kwargs = request_to_converse(req)
    thinks = request_to_converse(thinking)

    # temperature 1.7, clamped to 1 (its no-op value), leaves top_p alone: Claude takes only one.
    assert kwargs["inferenceConfig"] == {"maxTokens": 300, "topP": 0.9, "stopSequences": ["END"]}
    assert kwargs["additionalModelRequestFields"] == {"top_k": 40}
    assert kwargs["additionalModelResponseFieldPaths"] == ["/stop_sequence"]
    # While Claude thinks: temperature 1 (1.7 clamped to it), no top_k, no top_p below 0.95.
    assert thinks["inferenceConfig"] == {"maxTokens": 4096, "temperature": 1.0, "stopSequences": ["END"]}
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


def test_a_turn_with_nothing_to_replay_is_left_out_and_its_neighbours_merge() -> None:
    """Unsigned reasoning from another provider is all the middle turn held; Converse refuses empty content."""
    req = chat(user(Text("q1")), assistant(Reasoning("thought elsewhere")), user(Text("q2")))

    assert request_to_converse(req)["messages"] == [
        {"role": "user", "content": [{"text": "q1"}, {"text": "q2"}]}
    ]
