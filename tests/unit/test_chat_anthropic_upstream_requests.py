"""Requests for an Anthropic upstream: OpenAI requests (system and developer turns, tool calls and
results, sampling) rendered as Anthropic Messages, what Anthropic cannot honour refused by
parameter, reasoning that cannot be replayed left out, and an OpenAI client's
``reasoning_effort`` turning adaptive thinking on."""

from typing import Any

import pytest
from support.chat_anthropic import body, parse

from shared.chat.canonical import (
    ChatRequest,
    Message,
    Reasoning,
    ReasoningConfig,
    ReasoningEffort,
    Role,
    Text,
)
from shared.chat.from_openai import request_from_openai
from shared.chat.to_anthropic import request_to_anthropic
from shared.errors import InvalidRequest
from shared.http.body import parse_model
from shared.wire.openai import ChatCompletionRequest


def from_openai(data: dict[str, Any]) -> ChatRequest:
    return request_from_openai(parse_model(ChatCompletionRequest, {"model": "m", **data}))


# --- OpenAI requests to an Anthropic upstream --------------------------------------------------


def test_openai_system_developer_and_tools_to_anthropic() -> None:
    request = from_openai(
        {
            "messages": [
                {"role": "system", "content": "S"},
                {"role": "user", "content": "q"},
                {"role": "developer", "content": "D"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"id": "a", "type": "function", "function": {"name": "f", "arguments": ""}},
                        {"id": "b", "type": "function", "function": {"name": "f", "arguments": '{"x": [1]}'}},
                    ],
                },
                {"role": "tool", "tool_call_id": "a", "content": "1"},
                {"role": "tool", "tool_call_id": "b", "content": "2"},
                {"role": "user", "content": "and?"},
            ],
            "max_tokens": 50,
            "parallel_tool_calls": False,
            "tools": [{"type": "function", "function": {"name": "f"}}],
        }
    )
    rendered = request_to_anthropic(request)
    assert rendered["system"] == [{"type": "text", "text": "S"}, {"type": "text", "text": "D"}]
    assert [m["role"] for m in rendered["messages"]] == ["user", "assistant", "user"]
    assert rendered["messages"][1]["content"] == [
        {"type": "tool_use", "id": "a", "name": "f", "input": {}},
        {"type": "tool_use", "id": "b", "name": "f", "input": {"x": [1]}},
    ]
    assert [b["type"] for b in rendered["messages"][2]["content"]] == ["tool_result", "tool_result", "text"]
    assert rendered["tools"] == [{"name": "f", "input_schema": {"type": "object", "properties": {}}}]
    assert rendered["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", '"text"'])
def test_tool_arguments_that_are_not_a_json_object_are_refused(arguments: str) -> None:
    call = {"id": "a", "type": "function", "function": {"name": "f", "arguments": arguments}}
    request = from_openai(
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": [call]}]}
    )
    with pytest.raises(InvalidRequest, match="arguments must be a JSON object"):
        request_to_anthropic(request, default_max_tokens=10)


def test_what_anthropic_cannot_honour() -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_to_anthropic(
            from_openai({"messages": [{"role": "user", "content": "q"}], "n": 2, "max_tokens": 5})
        )
    assert caught.value.param == "n"
    with pytest.raises(InvalidRequest) as caught:
        request_to_anthropic(
            from_openai({"messages": [{"role": "user", "content": "q"}], "logprobs": True}),
            default_max_tokens=5,
        )
    assert caught.value.param == "logprobs"
    with pytest.raises(InvalidRequest) as caught:
        request_to_anthropic(from_openai({"messages": [{"role": "user", "content": "q"}]}))
    assert caught.value.param == "max_tokens"
    small = {"type": "enabled", "budget_tokens": 500}
    with pytest.raises(InvalidRequest, match="at least 1024"):
        request_to_anthropic(
            from_openai({"messages": [{"role": "user", "content": "q"}], "thinking": small}),
            default_max_tokens=9000,
        )


def test_openai_sampling_to_anthropic() -> None:
    request = from_openai(
        {
            "messages": [{"role": "user", "content": "q"}],
            "temperature": 1.7,
            "seed": 3,
            "frequency_penalty": 1,
            "presence_penalty": 1,
            "user": "u",
            "reasoning_effort": "none",
            "response_format": {"type": "json_object"},
        }
    )
    rendered = request_to_anthropic(request, default_max_tokens=64)
    assert rendered["max_tokens"] == 64
    assert rendered["temperature"] == 1.0
    assert rendered["metadata"] == {"user_id": "u"}
    assert rendered["thinking"] == {"type": "disabled"}
    assert rendered["output_config"] == {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    assert not {"seed", "frequency_penalty", "presence_penalty", "user", "n"} & set(rendered)


def test_unsigned_reasoning_is_not_replayed_to_anthropic() -> None:
    request = ChatRequest(
        model="m",
        messages=(Message(Role.USER, (Text("q"),)), Message(Role.ASSISTANT, (Reasoning("r"), Text("a")))),
        max_tokens=10,
        reasoning=ReasoningConfig(effort=ReasoningEffort.MINIMAL),
    )
    rendered = request_to_anthropic(request)
    assert rendered["messages"][1]["content"] == [{"type": "text", "text": "a"}]
    assert rendered["output_config"] == {"effort": "low"}


def test_an_openai_clients_reasoning_effort_turns_adaptive_thinking_on() -> None:
    """OpenAI's ``reasoning_effort`` asks for reasoning; Claude thinks only when ``thinking`` says so."""
    openai_effort = request_to_anthropic(
        from_openai({"messages": [{"role": "user", "content": "q"}], "reasoning_effort": "high"}),
        default_max_tokens=64,
    )
    anthropic_effort = request_to_anthropic(parse(body(output_config={"effort": "high"})))

    assert openai_effort["thinking"] == {"type": "adaptive"}
    assert openai_effort["output_config"] == {"effort": "high"}
    assert "thinking" not in anthropic_effort, "an Anthropic client's effort alone stays effort alone"
    assert anthropic_effort["output_config"] == {"effort": "high"}


def test_a_turn_with_nothing_to_replay_is_left_out_and_its_neighbours_merge() -> None:
    """Unsigned reasoning from another provider is all the middle turn held; an empty turn is refused."""
    request = ChatRequest(
        model="m",
        messages=(
            Message(Role.USER, (Text("q1"),)),
            Message(Role.ASSISTANT, (Reasoning("thought elsewhere"),)),
            Message(Role.USER, (Text("q2"),)),
        ),
        max_tokens=10,
    )

    assert request_to_anthropic(request)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "q1"}, {"type": "text", "text": "q2"}]}
    ]
