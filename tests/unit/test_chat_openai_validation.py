"""What a Chat Completions request must be, as OpenAI refuses it: JSON numbers and booleans (no
``"2"`` or ``"yes"``), content on every turn but an assistant's that carries something else, no
deprecated ``functions`` alongside ``tools``; and an error's ``param`` is the client's field path, without the union
members pydantic tried."""

from __future__ import annotations

from typing import Any

import pytest

from shared.chat.canonical import ChatRequest
from shared.chat.from_openai import request_from_openai
from shared.errors import InvalidRequest
from shared.http.body import parse_model
from shared.wire.openai import ChatCompletionRequest

USER = {"role": "user", "content": "hi"}
CALL = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}


def parse(**fields: Any) -> ChatRequest:
    return request_from_openai(
        parse_model(ChatCompletionRequest, {"model": "m", "messages": [USER], **fields})
    )


def refused(**fields: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        parse(**fields)
    return caught.value


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"stream": "yes"}, "stream"),
        ({"stream": 1}, "stream"),
        ({"logprobs": "true"}, "logprobs"),
        ({"parallel_tool_calls": "false"}, "parallel_tool_calls"),
        ({"stream_options": {"include_usage": "yes"}}, "stream_options.include_usage"),
        ({"max_tokens": "2"}, "max_tokens"),
        ({"max_completion_tokens": "64"}, "max_completion_tokens"),
        ({"n": "2"}, "n"),
        ({"n": True}, "n"),
        ({"seed": "7"}, "seed"),
        ({"temperature": "0.5"}, "temperature"),
        ({"top_logprobs": "3"}, "top_logprobs"),
    ],
)
def test_numbers_and_booleans_must_be_json_numbers_and_booleans(fields: dict[str, Any], param: str) -> None:
    assert refused(**fields).param == param


def test_json_numbers_are_still_read_as_before() -> None:
    request = parse(n=2.0, temperature=1, max_tokens=16, stream=False, seed=0)

    assert (request.n, request.sampling.temperature, request.max_tokens, request.sampling.seed) == (
        2,
        1.0,
        16,
        0,
    )


@pytest.mark.parametrize(
    ("messages", "param"),
    [
        ([{"role": "user"}], "messages.0.content"),
        ([{"role": "user", "content": None}], "messages.0.content"),
        ([{"role": "user", "content": []}], "messages.0.content"),
        ([{"role": "system"}, USER], "messages.0.content"),
        ([USER, {"role": "assistant"}], "messages.1.content"),
        (
            [USER, {"role": "assistant", "tool_calls": [CALL]}, {"role": "tool", "tool_call_id": "c1"}],
            "messages.2.content",
        ),
    ],
)
def test_a_turn_without_content_is_refused(messages: list[dict[str, Any]], param: str) -> None:
    assert refused(messages=messages).param == param


def test_an_assistant_turn_may_leave_content_out_when_it_calls_tools_or_refuses() -> None:
    calls = parse(
        messages=[
            USER,
            {"role": "assistant", "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "c1", "content": "ok"},
        ]
    )
    refusal = parse(messages=[USER, {"role": "assistant", "refusal": "no"}, USER])
    empty = parse(messages=[{"role": "user", "content": ""}])

    assert len(calls.messages) == 3 and len(refusal.messages) == 3 and empty.messages[0].parts == ()


FUNCTIONS = [{"name": "f", "parameters": {"type": "object"}}]
TOOLS = [{"type": "function", "function": {"name": "g"}}]


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"functions": FUNCTIONS, "tools": TOOLS}, "functions"),
        ({"functions": FUNCTIONS, "tool_choice": "auto"}, "functions"),
        ({"function_call": "auto", "tool_choice": "auto"}, "function_call"),
        ({"function_call": {"name": "g"}, "tools": TOOLS}, "function_call"),
    ],
)
def test_the_deprecated_functions_mixed_with_tools_are_refused_by_name(
    fields: dict[str, Any], param: str
) -> None:
    """The deprecated spelling is read (test_chat_openai_legacy.py), but not alongside the new one."""
    error = refused(**fields)

    assert error.param == param and "deprecated spelling of tools" in error.message


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"tool_choice": {"type": "function"}}, "tool_choice"),
        ({"messages": [{"role": "user", "content": [{"type": "text"}]}]}, "messages.0.content.0.text"),
        (
            {
                "messages": [
                    {
                        "role": "user",
                        "content": [{"type": "image_url", "image_url": {"url": "x", "detail": "ultra"}}],
                    }
                ]
            },
            "messages.0.content.0.image_url.detail",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]},
            "messages.0.content.0.image_url.url",
        ),
        (
            {"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": "http://x"}]}]},
            "messages.0.content.0.image_url",
        ),
        ({"messages": [{"role": "user", "content": [{"type": "video"}]}]}, "messages.0.content.0"),
        ({"thinking": {"type": "enabled", "budget_tokens": "9"}}, "thinking.budget_tokens"),
    ],
)
def test_param_is_the_clients_field_path(fields: dict[str, Any], param: str) -> None:
    error = refused(**fields)

    assert error.param == param and error.message.startswith(f"{param}: ")


def test_two_tools_of_one_name_are_refused() -> None:
    weather = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}

    assert refused(tools=[weather, weather]).param == "tools.1"
