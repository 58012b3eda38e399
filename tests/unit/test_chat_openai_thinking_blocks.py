"""Signed reasoning for OpenAI clients (``thinking_blocks``): a Claude route's answer carries its
signed and redacted reasoning blocks, and an assistant message sent back with them replays them to
Claude, so the next step of a tool loop thinks too."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from openai.lib.streaming._deltas import accumulate_delta
from openai.types.chat import ChatCompletionChunk as SdkChunk
from support.claude_requests import BEDROCK_CLAUDE, WEATHER, from_openai

from shared.chat import events as ev
from shared.chat.canonical import ChatResponse, Choice, Reasoning, RedactedReasoning, Text
from shared.chat.stream_openai import OpenAIStreamWriter
from shared.chat.to_anthropic import request_to_anthropic
from shared.chat.to_openai import request_to_openai
from shared.chat.to_openai_response import response_to_openai
from shared.errors import InvalidRequest
from shared.providers.bedrock_request import request_to_converse

SIGNED = {"type": "thinking", "thinking": "I should call the tool.", "signature": "sig-1"}
REDACTED = {"type": "redacted_thinking", "data": "opaque"}


def tool_loop(*blocks: dict[str, Any], **fields: Any) -> Any:
    """An OpenAI client's next tool-loop step, its assistant message sent back as it came."""
    assistant: dict[str, Any] = {
        "role": "assistant",
        "reasoning_content": "I should call the tool.",
        "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
        ],
    }
    if blocks:
        assistant["thinking_blocks"] = list(blocks)
    messages = [
        {"role": "user", "content": "weather?"},
        assistant,
        {"role": "tool", "tool_call_id": "call_1", "content": "18 degrees"},
    ]
    return from_openai(messages=messages, tools=[WEATHER], **fields)


def test_thinking_blocks_stand_for_the_reasoning_of_an_assistant_message() -> None:
    req = tool_loop({**SIGNED, "index": 0}, REDACTED)
    unsigned = tool_loop()

    assert req.messages[1].parts[:2] == (
        Reasoning("I should call the tool.", "sig-1"),
        RedactedReasoning("opaque"),
    )
    assert len([p for p in req.messages[1].parts if isinstance(p, Reasoning)]) == 1
    assert unsigned.messages[1].parts[0] == Reasoning("I should call the tool.")
    assert tool_loop({"type": "thinking", "thinking": "elsewhere"}).messages[1].parts[0] == Reasoning(
        "elsewhere"
    )


@pytest.mark.parametrize(
    ("block", "param"),
    [
        ({"type": "thinking", "signature": "sig-1"}, "messages.1.thinking_blocks.0.thinking"),
        ({"type": "redacted_thinking"}, "messages.1.thinking_blocks.0.data"),
        ({"type": "summary", "text": "t"}, "messages.1.thinking_blocks.0"),
    ],
)
def test_a_malformed_thinking_block_is_a_400_naming_it(block: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        tool_loop(block)

    assert refused.value.param == param


def test_a_tool_loop_sent_back_with_its_signed_thinking_goes_on_thinking() -> None:
    """Without the blocks the loop's next step leaves thinking out (Claude would refuse it)."""
    req = tool_loop(SIGNED, reasoning_effort="high")
    body = request_to_anthropic(req)
    converse = request_to_converse(replace(req, model=BEDROCK_CLAUDE))

    assert body["thinking"] == {"type": "adaptive"}
    assert body["messages"][1]["content"][0] == SIGNED
    assert converse["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}
    first = converse["messages"][1]["content"][0]
    assert first == {
        "reasoningContent": {"reasoningText": {"text": SIGNED["thinking"], "signature": "sig-1"}}
    }
    assert "thinking" not in request_to_anthropic(tool_loop(reasoning_effort="high"))


def test_an_openai_compatible_upstream_gets_no_thinking_blocks() -> None:
    history = request_to_openai(tool_loop(SIGNED))["messages"][1]

    assert history["reasoning_content"] == "I should call the tool." and "thinking_blocks" not in history


def test_an_answer_carries_signed_and_redacted_reasoning_as_thinking_blocks() -> None:
    parts = (Reasoning("6*7=42", "sig-abc"), RedactedReasoning("opaque"), Text("42"))
    answer = response_to_openai(ChatResponse(None, "up", (Choice(0, parts),)), model="m")
    unsigned = response_to_openai(
        ChatResponse(None, "up", (Choice(0, (Reasoning("6*7"), Text("42"))),)), model="m"
    )

    message = answer["choices"][0]["message"]
    assert message["thinking_blocks"] == [
        {"type": "thinking", "thinking": "6*7=42", "signature": "sig-abc"},
        {"type": "redacted_thinking", "data": "opaque"},
    ]
    assert "thinking_blocks" not in unsigned["choices"][0]["message"]


def test_a_stream_ends_each_block_with_a_thinking_blocks_delta_the_sdk_accumulates() -> None:
    writer = OpenAIStreamWriter(model="m", new_id=lambda: "chatcmpl-1", created=1)
    events: list[ev.StreamEvent] = [
        ev.Start(),
        ev.ReasoningDelta("Two "),
        ev.ReasoningDelta("cities."),
        ev.ReasoningSignature("sig-1"),
        ev.RedactedReasoningBlock("opaque"),
        ev.ReasoningDelta("Then Zagreb."),
        ev.ReasoningSignature("sig-2"),
        ev.TextDelta("Done."),
    ]
    chunks = [chunk for event in events for chunk in writer.feed(event)]
    for chunk in chunks:
        SdkChunk.model_validate(chunk)

    message: dict[object, object] = {}
    for chunk in chunks:
        accumulate_delta(message, chunk["choices"][0]["delta"])

    assert message["reasoning_content"] == "Two cities.Then Zagreb." and message["content"] == "Done."
    assert message["thinking_blocks"] == [
        {"index": 0, "type": "thinking", "thinking": "Two cities.", "signature": "sig-1"},
        {"index": 1, "type": "redacted_thinking", "data": "opaque"},
        {"index": 2, "type": "thinking", "thinking": "Then Zagreb.", "signature": "sig-2"},
    ]


@pytest.mark.parametrize(
    "between",
    [ev.TextDelta("Hi."), ev.ToolCallStart(index=0, id="call_1", name="get_weather")],
    ids=["text", "tool call"],
)
def test_a_signature_covers_its_own_blocks_reasoning_only(between: ev.StreamEvent) -> None:
    """Unsigned reasoning (an OpenAI-compatible upstream's) ends where the next block begins: the
    writer keeps none of it, and a later signed block carries its own text alone."""
    writer = OpenAIStreamWriter(model="m", new_id=lambda: "chatcmpl-1", created=1)
    events: list[ev.StreamEvent] = [
        ev.Start(),
        ev.ReasoningDelta("Unsigned, "),
        ev.ReasoningDelta("from elsewhere."),
        between,
        ev.ReasoningDelta("Signed."),
        ev.ReasoningSignature("sig-1"),
    ]
    chunks = [chunk for event in events for chunk in writer.feed(event)]

    blocks = [block for c in chunks for block in c["choices"][0]["delta"].get("thinking_blocks", [])]
    assert blocks == [{"index": 0, "type": "thinking", "thinking": "Signed.", "signature": "sig-1"}]
