"""Requests OpenAI and Anthropic refuse and an upstream would too, with a message naming no field:
a tool choice the tools cannot satisfy, a Messages request with nothing but system turns. And
what a turn may not hold, said in the client's words."""

from __future__ import annotations

from typing import Any

import pytest
from support.chat_anthropic import body as anthropic_body
from support.chat_anthropic import parse as parse_anthropic

from shared.chat.from_openai import request_from_openai
from shared.errors import InvalidRequest
from shared.http.body import parse_model
from shared.wire.openai import ChatCompletionRequest

FUNCTION = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}
TOOL = {"name": "get_weather", "input_schema": {"type": "object"}}


def parse_openai(**fields: Any) -> Any:
    data = {"model": "m", "messages": [{"role": "user", "content": "Hi"}], **fields}
    return request_from_openai(parse_model(ChatCompletionRequest, data))


def refusal(parse: Any, **fields: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as refused:
        parse(**fields)
    return refused.value


@pytest.mark.parametrize(
    ("fields", "param", "says"),
    [
        (
            {"tools": [FUNCTION], "tool_choice": {"type": "function", "function": {"name": "nope"}}},
            "tool_choice",
            "'nope'",
        ),
        ({"tool_choice": "required"}, "tool_choice", "no tools"),
        ({"tools": [], "tool_choice": "required"}, "tool_choice", "no tools"),
        ({"functions": [FUNCTION["function"]], "function_call": {"name": "nope"}}, "function_call", "'nope'"),
    ],
)
def test_openai_a_tool_choice_the_tools_cannot_satisfy(fields: dict[str, Any], param: str, says: str) -> None:
    refused = refusal(parse_openai, **fields)

    assert refused.param == param and says in refused.message


def test_openai_choices_the_tools_can_satisfy_pass() -> None:
    named = {"type": "function", "function": {"name": "get_weather"}}
    assert parse_openai(tools=[FUNCTION], tool_choice=named).tool_choice.name == "get_weather"
    assert parse_openai(tools=[FUNCTION], tool_choice="required").tools
    assert parse_openai(tool_choice="auto").tool_choice is not None  # no tools: nothing to satisfy


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"tools": [TOOL], "tool_choice": {"type": "tool", "name": "nope"}}, "'nope'"),
        ({"tool_choice": {"type": "any"}}, "no tools"),
    ],
)
def test_anthropic_a_tool_choice_the_tools_cannot_satisfy(fields: dict[str, Any], says: str) -> None:
    refused = refusal(lambda: parse_anthropic(anthropic_body(**fields)))

    assert refused.param == "tool_choice" and says in refused.message


def test_anthropic_a_request_of_system_turns_only_is_refused() -> None:
    refused = refusal(
        lambda: parse_anthropic(anthropic_body(messages=[{"role": "system", "content": "Be nice."}]))
    )

    assert refused.param == "messages"


def test_what_a_turn_cannot_hold_is_said_in_the_clients_words() -> None:
    turn = {"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "x", "content": "r"}]}
    refused = refusal(
        lambda: parse_anthropic(anthropic_body(messages=[turn, {"role": "user", "content": "Hi"}]))
    )

    assert refused.param == "messages.0.content.0"
    assert refused.message == (
        "messages.0.content: an assistant message cannot contain tool results (a tool message, tool_result)."
    )
