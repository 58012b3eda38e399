"""OpenAI's deprecated function calling both ways: ``functions`` / ``function_call`` as canonical
tools, legacy history (an assistant's ``function_call``, ``role: "function"`` results) as tool calls
and results, and the answer as ``message.function_call`` / ``delta.function_call`` with finish
reason ``function_call``; a Free key's 403 names ``functions``."""

from __future__ import annotations

import json
from dataclasses import replace
from typing import Any

import pytest
from openai.types.chat import ChatCompletion as SdkCompletion
from openai.types.chat import ChatCompletionChunk as SdkChunk

from shared.chat import events as ev
from shared.chat.canonical import (
    ChatRequest,
    ChatResponse,
    Choice,
    Finish,
    FinishReason,
    Role,
    Text,
    Tool,
    ToolCall,
    ToolChoice,
    ToolChoiceMode,
    ToolResult,
)
from shared.chat.from_openai import request_from_openai
from shared.chat.openai_legacy import LegacyFunctionsStreamWriter
from shared.chat.stream_openai import render_openai_chunks
from shared.chat.to_anthropic import request_to_anthropic
from shared.chat.to_openai import request_to_openai
from shared.chat.to_openai_response import response_to_openai
from shared.errors import InvalidRequest, PermissionDenied
from shared.gateway.plan_gates import check_features_allowed
from shared.gateway.sse_render import OpenAISse
from shared.http.body import parse_model
from shared.providers.bedrock_request import request_to_converse
from shared.wire.openai import ChatCompletionRequest

WEATHER = {"name": "weather", "description": "Weather of a city", "parameters": {"type": "object"}}
USER = {"role": "user", "content": "weather in Paris?"}


def parse(**fields: Any) -> ChatRequest:
    data = {"model": "m", "messages": [USER], **fields}
    return request_from_openai(parse_model(ChatCompletionRequest, data))


def refused(**fields: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse(**fields)
    return caught.value


@pytest.mark.parametrize(
    ("function_call", "choice"),
    [
        (None, None),
        ("auto", ToolChoice(ToolChoiceMode.AUTO)),
        ("none", ToolChoice(ToolChoiceMode.NONE)),
        ({"name": "weather"}, ToolChoice(ToolChoiceMode.TOOL, name="weather")),
    ],
)
def test_functions_are_tools_and_function_call_the_tool_choice(function_call: Any, choice: Any) -> None:
    fields = {"functions": [WEATHER]} | ({"function_call": function_call} if function_call else {})
    request = parse(**fields)

    assert request.tools == (Tool("weather", {"type": "object"}, "Weather of a city"),)
    assert request.tool_choice == choice
    assert request.parallel_tool_calls is False and request.legacy_functions
    assert not request.extras, "typed, not passed through"
    upstream = request_to_openai(request)
    assert "functions" not in upstream and "function_call" not in upstream
    assert upstream["tools"] == [{"type": "function", "function": WEATHER}]
    assert upstream["parallel_tool_calls"] is False


def test_a_request_with_tools_is_not_legacy() -> None:
    request = parse(tools=[{"type": "function", "function": WEATHER}])

    assert not request.legacy_functions and request.parallel_tool_calls is None


def test_legacy_function_names_must_be_unique_and_are_named_so() -> None:
    assert refused(functions=[WEATHER, WEATHER]).param == "functions.1"


def legacy_history() -> list[dict[str, Any]]:
    return [
        USER,
        {"role": "assistant", "content": None, "function_call": {"name": "weather", "arguments": "{}"}},
        {"role": "function", "name": "weather", "content": "sunny"},
    ]


def test_legacy_history_is_a_tool_call_and_its_result() -> None:
    request = parse(functions=[WEATHER], messages=legacy_history())

    call, result = request.messages[1], request.messages[2]
    assert call.role is Role.ASSISTANT and call.parts == (ToolCall("call_fn_1", "weather", "{}"),)
    assert result.role is Role.USER and result.name is None
    assert result.parts == (ToolResult("call_fn_1", (Text("sunny"),)),)
    assert parse(functions=[WEATHER], messages=legacy_history()) == request, "the same ids every turn"


def test_legacy_history_reaches_each_upstream_format_as_tool_calls() -> None:
    request = parse(functions=[WEATHER], messages=legacy_history())

    openai_messages = request_to_openai(request)["messages"]
    assert openai_messages[1]["tool_calls"][0]["id"] == "call_fn_1"
    assert openai_messages[1]["content"] is None
    assert openai_messages[2] == {"role": "tool", "tool_call_id": "call_fn_1", "content": "sunny"}
    anthropic = request_to_anthropic(request, default_max_tokens=100)
    assert anthropic["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_fn_1", "name": "weather", "input": {}}
    ]
    assert anthropic["messages"][2]["content"][0]["tool_use_id"] == "call_fn_1"
    assert anthropic["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}
    converse = request_to_converse(replace(request, model="anthropic.claude-sonnet-4-5"))
    assert converse["messages"][1]["content"] == [
        {"toolUse": {"toolUseId": "call_fn_1", "name": "weather", "input": {}}}
    ]
    assert converse["messages"][2]["content"][0]["toolResult"]["toolUseId"] == "call_fn_1"


def test_a_function_result_answers_the_latest_unanswered_call_of_its_name() -> None:
    def call(name: str) -> dict[str, Any]:
        return {"role": "assistant", "function_call": {"name": name, "arguments": "{}"}}

    def result(name: str, text: str) -> dict[str, Any]:
        return {"role": "function", "name": name, "content": text}

    messages = [USER, call("a"), call("b"), call("a"), result("a", "3"), result("a", "1"), result("b", "2")]
    request = parse(messages=messages)

    answered = [m.parts[0] for m in request.messages[4:]]
    assert [(r.tool_call_id, r.content) for r in answered if isinstance(r, ToolResult)] == [
        ("call_fn_3", (Text("3"),)),
        ("call_fn_1", (Text("1"),)),
        ("call_fn_2", (Text("2"),)),
    ]


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([USER, {"role": "function", "name": "weather", "content": "sunny"}], "messages.1.name"),
        ([*legacy_history(), {"role": "function", "name": "weather", "content": "again"}], "messages.3.name"),
        ([USER, {"role": "function", "content": "sunny"}], "messages.1.name"),
        (
            [{"role": "user", "content": "x", "function_call": {"name": "f", "arguments": ""}}],
            "messages.0.function_call",
        ),
    ],
)
def test_a_function_message_without_its_call_is_refused_by_name(messages: list[Any], param: str) -> None:
    error = refused(messages=messages)

    assert error.param == param


def answer(*parts: Any, reason: FinishReason = FinishReason.TOOL_CALLS) -> ChatResponse:
    return ChatResponse(None, "up", (Choice(0, parts, Finish(reason)),))


def test_the_answer_of_a_legacy_request_is_a_function_call() -> None:
    calls = (ToolCall("c1", "weather", '{"city": "Paris"}'), ToolCall("c2", "weather", "{}"))
    rendered = response_to_openai(answer(*calls), model="m", legacy_functions=True)

    choice = rendered["choices"][0]
    assert choice["finish_reason"] == "function_call"
    assert choice["message"] == {
        "role": "assistant",
        "content": None,
        "refusal": None,
        "function_call": {"name": "weather", "arguments": '{"city": "Paris"}'},
    }
    sdk = SdkCompletion.model_validate(rendered).choices[0].message
    assert sdk.function_call is not None and sdk.function_call.name == "weather"
    modern = response_to_openai(answer(*calls), model="m")["choices"][0]
    assert modern["finish_reason"] == "tool_calls" and len(modern["message"]["tool_calls"]) == 2
    text = response_to_openai(answer(Text("hi"), reason=FinishReason.STOP), model="m", legacy_functions=True)
    assert text["choices"][0]["message"]["content"] == "hi"
    assert text["choices"][0]["finish_reason"] == "stop"


def stream_events() -> list[ev.StreamEvent]:
    return [
        ev.Start(),
        ev.ToolCallStart(0, "c1", "weather"),
        ev.ToolCallArgsDelta(0, '{"city": '),
        ev.ToolCallArgsDelta(0, '"Paris"}'),
        ev.ToolCallStart(1, "c2", "other"),
        ev.ToolCallArgsDelta(1, "{}"),
        ev.Finish(FinishReason.TOOL_CALLS),
    ]


def sse_chunks(renderer: OpenAISse, events: list[ev.StreamEvent]) -> list[dict[str, Any]]:
    frames = [frame for event in events for frame in renderer.feed(event)] + renderer.close()
    datas = [frame.decode().removeprefix("data: ").strip() for frame in frames]
    return [json.loads(data) for data in datas if data != "[DONE]"]


def test_a_legacy_stream_carries_the_first_call_as_function_call_deltas() -> None:
    chunks = sse_chunks(OpenAISse(model="m", include_usage=False, legacy_functions=True), stream_events())

    for chunk in chunks:
        SdkChunk.model_validate(chunk)
    deltas = [c["choices"][0]["delta"] for c in chunks]
    assert deltas == [
        {"role": "assistant", "content": ""},
        {"function_call": {"name": "weather", "arguments": ""}},
        {"function_call": {"arguments": '{"city": '}},
        {"function_call": {"arguments": '"Paris"}'}},
        {},
    ]
    assert chunks[-1]["choices"][0]["finish_reason"] == "function_call"
    modern = sse_chunks(OpenAISse(model="m", include_usage=False), stream_events())
    assert all("function_call" not in c["choices"][0]["delta"] for c in modern)
    assert sum("tool_calls" in c["choices"][0]["delta"] for c in modern) == 5
    assert modern[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_a_legacy_stream_keeps_text_and_refusals() -> None:
    writer = LegacyFunctionsStreamWriter(model="m", new_id=lambda: "chatcmpl-1", created=1)
    events: list[ev.StreamEvent] = [
        ev.Start(),
        ev.TextDelta("a"),
        ev.RefusalDelta("no"),
        ev.Finish(FinishReason.STOP),
    ]
    deltas = [c["choices"][0]["delta"] for c in render_openai_chunks(events, writer)]

    assert deltas[1:] == [{"content": "a"}, {"refusal": "no"}, {}]


def test_a_free_key_may_not_use_functions_and_is_told_so() -> None:
    with pytest.raises(PermissionDenied) as denied:
        check_features_allowed(parse(functions=[WEATHER]), "free")

    assert denied.value.param == "functions" and "Pro" in denied.value.message
    check_features_allowed(parse(functions=[WEATHER]), "pro")
