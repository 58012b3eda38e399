"""When Claude thinks (shared/chat/claude_rules.py): forced tool calls, tool loops, the effort
without thinking, and routes whose model thinks by budget, as both request mappers apply them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from support.claude_requests import BEDROCK_CLAUDE, WEATHER, from_anthropic, from_openai, tool_loop

from shared.chat.canonical import ChatRequest, Reasoning, ReasoningConfig, ThinkingMode
from shared.chat.to_anthropic import request_to_anthropic
from shared.providers.bedrock_request import request_to_converse

FORCED = [
    pytest.param("required", id="required"),
    pytest.param({"type": "function", "function": {"name": "get_weather"}}, id="named"),
]


def anthropic_choice(req: ChatRequest) -> tuple[Any, Any, Any]:
    body = request_to_anthropic(req)
    return body.get("tool_choice"), body.get("thinking"), body.get("output_config")


def converse(req: ChatRequest) -> dict[str, Any]:
    """Converse arguments for ``req`` sent to a Claude model on Bedrock."""
    return request_to_converse(replace(req, model=BEDROCK_CLAUDE))


def bedrock_choice(req: ChatRequest) -> tuple[Any, Any, Any]:
    kwargs = converse(req)
    choice = kwargs["toolConfig"].get("toolChoice")
    return choice, kwargs.get("additionalModelRequestFields", {}).get("thinking"), kwargs.get("outputConfig")


@pytest.mark.parametrize("tool_choice", FORCED)
def test_an_openai_clients_forced_tool_call_wins_over_thinking(tool_choice: Any) -> None:
    """Claude refuses a forced tool call while it thinks: the call is kept, thinking is left out
    and the effort still goes; the client's temperature goes too, since nothing thinks."""
    req = from_openai(tools=[WEATHER], tool_choice=tool_choice, reasoning_effort="high", temperature=0.2)

    choice, thinking, output = anthropic_choice(req)
    assert choice["type"] in ("any", "tool") and thinking is None and output == {"effort": "high"}
    assert request_to_anthropic(req)["temperature"] == 0.2
    choice, thinking, output = bedrock_choice(req)
    assert set(choice) <= {"any", "tool"} and thinking is None and output == {"effort": "high"}


def test_auto_tool_choice_keeps_thinking() -> None:
    req = from_openai(tools=[WEATHER], tool_choice="auto", reasoning_effort="high")

    assert anthropic_choice(req)[1] == {"type": "adaptive"}
    assert bedrock_choice(req)[1] == {"type": "adaptive"}


def test_an_anthropic_clients_forced_tool_and_thinking_go_as_sent() -> None:
    req = from_anthropic(
        tools=[{"name": "get_weather", "input_schema": {"type": "object"}}],
        tool_choice={"type": "any"},
        thinking={"type": "enabled", "budget_tokens": 2048},
    )

    assert anthropic_choice(req)[:2] == ({"type": "any"}, {"type": "enabled", "budget_tokens": 2048})


def test_an_openai_tool_loop_goes_on_without_thinking_claude_could_not_take() -> None:
    """Unsigned ``reasoning_content`` cannot go back to Claude, which, thinking, wants the last
    tool-calling turn to start with its signed thinking: the next step is asked without it."""
    req = tool_loop(reasoning_effort="high", temperature=0.2)

    body = request_to_anthropic(req)
    kwargs = converse(req)

    assert (
        "thinking" not in body and body["temperature"] == 0.2 and body["output_config"] == {"effort": "high"}
    )
    assert body["messages"][1]["content"][0]["type"] == "tool_use"
    assert "additionalModelRequestFields" not in kwargs and kwargs["inferenceConfig"]["temperature"] == 0.2


def test_a_tool_turn_that_starts_with_signed_thinking_keeps_thinking() -> None:
    """A history that kept Claude's signed thinking ahead of the calls keeps thinking on."""
    loop = tool_loop(reasoning_effort="high")
    signed = replace(
        loop.messages[1], parts=(Reasoning("I should call the tool.", "sig"), *loop.messages[1].parts[1:])
    )
    req = replace(loop, messages=(loop.messages[0], signed, *loop.messages[2:]), extras_format=None,
                  reasoning=ReasoningConfig(mode=ThinkingMode.ADAPTIVE))  # fmt: skip

    assert request_to_anthropic(req)["thinking"] == {"type": "adaptive"}
    assert converse(req)["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}


def test_a_last_turn_without_tool_calls_keeps_thinking() -> None:
    req = from_openai(
        messages=[
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": "a", "reasoning_content": "unsigned"},
            {"role": "user", "content": "and?"},
        ],
        reasoning_effort="high",
    )

    assert request_to_anthropic(req)["thinking"] == {"type": "adaptive"}
    assert converse(req)["additionalModelRequestFields"] == {"thinking": {"type": "adaptive"}}


@pytest.mark.parametrize("effort", ["xhigh", "max"])
def test_an_effort_claude_takes_only_while_thinking_goes_as_high_when_thinking_is_left_out(
    effort: str,
) -> None:
    """Claude refuses ``xhigh`` and ``max`` without thinking; a forced tool call or a tool loop's
    next step left thinking out, so the effort is the highest it takes without."""
    forced = from_openai(tools=[WEATHER], tool_choice="required", reasoning_effort=effort)
    loop = tool_loop(reasoning_effort=effort)
    thinking = from_openai(reasoning_effort=effort)

    for req in (forced, loop):
        assert request_to_anthropic(req)["output_config"] == {"effort": "high"}
        assert converse(req)["outputConfig"] == {"effort": "high"}
    assert request_to_anthropic(thinking)["output_config"] == {"effort": effort}
    assert converse(thinking)["outputConfig"] == {"effort": effort}


def test_an_anthropic_clients_effort_goes_as_sent() -> None:
    req = from_anthropic(output_config={"effort": "max"})

    assert request_to_anthropic(req)["output_config"] == {"effort": "max"}


def budget_route(req: ChatRequest) -> tuple[Any, Any, Any, Any]:
    """thinking and effort as both mappers send them to a model that thinks by budget."""
    body = request_to_anthropic(req, thinking_style="budget")
    kwargs = request_to_converse(replace(req, model=BEDROCK_CLAUDE), thinking_style="budget")
    return (
        body.get("thinking"),
        body.get("output_config"),
        kwargs.get("additionalModelRequestFields", {}).get("thinking"),
        kwargs.get("outputConfig"),
    )


@pytest.mark.parametrize(
    ("effort", "max_tokens", "budget"),
    [
        ("high", 40000, 16384),  # the effort's budget
        ("low", 40000, 2048),
        ("max", 40000, 20000),  # at most half of max_tokens
        ("high", 4096, 2048),
        ("minimal", 1500, 1024),  # Claude's floor, still under max_tokens
    ],
)
def test_on_a_budget_thinking_model_an_effort_becomes_a_budget(
    effort: str, max_tokens: int, budget: int
) -> None:
    """Claude before 4.6 takes neither adaptive thinking nor effort."""
    req = from_openai(reasoning_effort=effort, max_tokens=max_tokens)

    expected = {"type": "enabled", "budget_tokens": budget}
    assert budget_route(req) == (expected, None, expected, None)


def test_on_a_budget_thinking_model_no_room_for_the_floor_means_no_thinking() -> None:
    assert budget_route(from_openai(reasoning_effort="high", max_tokens=1024)) == (None, None, None, None)


def test_on_a_budget_thinking_model_adaptive_thinking_without_an_effort_gets_a_medium_budget() -> None:
    """Sluice's own callers may ask for adaptive thinking with no effort."""
    req = replace(
        from_openai(max_tokens=40000),
        extras_format=None,
        reasoning=ReasoningConfig(mode=ThinkingMode.ADAPTIVE),
    )
    thinking = budget_route(req)

    assert thinking[0] == thinking[2] == {"type": "enabled", "budget_tokens": 8192}


def test_on_a_budget_thinking_model_an_anthropic_client_goes_as_sent() -> None:
    req = from_anthropic(thinking={"type": "adaptive"}, output_config={"effort": "high"})

    assert request_to_anthropic(req, thinking_style="budget")["thinking"] == {"type": "adaptive"}
    assert request_to_anthropic(req, thinking_style="budget")["output_config"] == {"effort": "high"}


def test_an_effort_of_none_disables_thinking_on_both_claude_mappers() -> None:
    """Claude models that think by default would think without it; a model that is not Claude,
    on Bedrock, gets no ``thinking`` at all."""
    req = from_openai(reasoning_effort="none")

    assert anthropic_choice(req)[1:] == ({"type": "disabled"}, None)
    assert converse(req)["additionalModelRequestFields"] == {"thinking": {"type": "disabled"}}
    assert "outputConfig" not in converse(req)
    assert "additionalModelRequestFields" not in request_to_converse(replace(req, model="meta.llama3-70b"))
