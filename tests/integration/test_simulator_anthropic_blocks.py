"""The upstream simulator's Anthropic Messages route answering with more than text: a tool use
round trip and ``tool_choice``, thinking blocks with their signatures, image blocks counted like
the OpenAI route's image parts, and JSON output to a schema that the SDK parses, through the
official ``anthropic`` SDK on a real uvicorn port; its plain text answers and their streams are in
test_simulator_anthropic_answers.py."""

from __future__ import annotations

import json
from typing import Any, Literal

import anthropic
import jsonschema
import openai
import pytest
from pydantic import BaseModel
from simulator_anthropic_support import (
    CLOCK,
    HELLO,
    PIXEL,
    WEATHER,
    anthropic_client,  # noqa: F401 - the `claude` fixture
    simulator_server,  # noqa: F401 - the `server` fixture
    text_of,
    user,
)

from sluice.simulator import SimulatorServer
from sluice.simulator.replies import REASONING_TEXT
from sluice.simulator.tokens import IMAGE_PART_TOKENS, count_tokens

# Tools


def test_a_tool_use_round_trip(claude: anthropic.Anthropic) -> None:
    asked = user("What is the weather in Paris? use the tool")
    first = claude.messages.create(model="m", max_tokens=200, tools=[WEATHER], messages=asked)
    with claude.messages.stream(model="m", max_tokens=200, tools=[WEATHER], messages=asked) as stream:
        streamed = stream.get_final_message()
    call = first.content[1]
    assert call.type == "tool_use"
    history = [
        *asked,
        first.to_param(),
        {
            "role": "user",
            "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "21 degrees"}],
        },
    ]
    second = claude.messages.create(model="m", max_tokens=200, tools=[WEATHER], messages=history)

    assert first.stop_reason == streamed.stop_reason == "tool_use"
    assert text_of(first.content[0]) == "Calling get_weather."
    assert call.id.startswith("toolu_") and call.name == "get_weather"
    assert call.input == {"city": "sample", "unit": "celsius"}
    jsonschema.validate(call.input, WEATHER["input_schema"])
    assert [block.type for block in streamed.content] == ["text", "tool_use"]
    assert streamed.content[1].type == "tool_use" and streamed.content[1].input == call.input
    assert second.stop_reason == "end_turn"
    assert [block.type for block in second.content] == ["text"]
    assert text_of(second.content[0]).startswith("Tool result received: 21 degrees")


@pytest.mark.parametrize(
    ("tool_choice", "text", "called"),
    [
        ({"type": "any"}, "no mention here", ["get_weather"]),
        ({"type": "tool", "name": "get_time"}, "use the tool", ["get_time"]),
        ({"type": "none"}, "use the tool", []),
        ({"type": "auto", "disable_parallel_tool_use": True}, "get_time or get_weather", ["get_time"]),
        ({"type": "auto"}, "get_time or get_weather", ["get_time", "get_weather"]),
    ],
)
def test_tool_choice_is_honoured(
    claude: anthropic.Anthropic, tool_choice: Any, text: str, called: list[str]
) -> None:
    message = claude.messages.create(
        model="m",
        max_tokens=200,
        tools=[WEATHER, CLOCK],
        tool_choice=tool_choice,
        messages=user(text),
    )

    assert [block.name for block in message.content if block.type == "tool_use"] == called
    assert message.stop_reason == ("tool_use" if called else "end_turn")


# Thinking, images and JSON output


def test_thinking_comes_first_with_a_signature_and_counts_as_output(claude: anthropic.Anthropic) -> None:
    thinking: Any = {"type": "enabled", "budget_tokens": 1024}
    message = claude.messages.create(model="m", max_tokens=2048, thinking=thinking, messages=user())
    with claude.messages.stream(model="m", max_tokens=2048, thinking=thinking, messages=user()) as stream:
        streamed = stream.get_final_message()
    adaptive = claude.messages.create(
        model="m", max_tokens=50, thinking={"type": "adaptive"}, messages=user()
    )
    disabled = claude.messages.create(
        model="m", max_tokens=50, thinking={"type": "disabled"}, messages=user()
    )

    reasoning, text = message.content
    assert reasoning.type == "thinking" and text.type == "text"
    assert reasoning.thinking == REASONING_TEXT
    assert reasoning.signature
    assert message.usage.output_tokens == count_tokens(reasoning.thinking) + count_tokens(text.text)
    assert streamed.content[0].type == "thinking"
    assert (streamed.content[0].thinking, streamed.content[0].signature) == (
        reasoning.thinking,
        reasoning.signature,
    )
    assert [block.type for block in adaptive.content] == ["thinking", "text"]
    assert [block.type for block in disabled.content] == ["text"]


def test_an_image_block_is_accepted_and_counted(claude: anthropic.Anthropic, server: SimulatorServer) -> None:
    image: Any = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PIXEL}}
    message = claude.messages.create(
        model="m",
        max_tokens=50,
        messages=[{"role": "user", "content": [image, {"type": "text", "text": HELLO}]}],
    )
    by_url = claude.messages.create(
        model="m",
        max_tokens=50,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image", "source": {"type": "url", "url": "https://example.com/a.png"}},
                    {"type": "text", "text": HELLO},
                ],
            }
        ],
    )
    completion = openai.OpenAI(base_url=server.base_url, api_key="anything").chat.completions.create(
        model="m",
        max_tokens=50,
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PIXEL}"}},
                    {"type": "text", "text": HELLO},
                ],
            }
        ],
    )

    assert completion.usage is not None
    assert message.usage.input_tokens == by_url.usage.input_tokens == count_tokens(HELLO) + IMAGE_PART_TOKENS
    assert message.usage.input_tokens == completion.usage.prompt_tokens
    assert text_of(message.content[0]) == completion.choices[0].message.content


def test_output_config_format_gives_json_and_the_sdk_parses_it(claude: anthropic.Anthropic) -> None:
    schema = WEATHER["input_schema"]

    class Forecast(BaseModel):
        city: str
        unit: Literal["celsius", "fahrenheit"]
        highs: list[int]

    message = claude.messages.create(
        model="m",
        max_tokens=100,
        messages=user("forecast"),
        output_config={"format": {"type": "json_schema", "schema": schema}},
    )
    parsed = claude.messages.parse(
        model="m", max_tokens=100, messages=user("forecast"), output_format=Forecast
    )

    jsonschema.validate(json.loads(text_of(message.content[0])), schema)
    assert parsed.parsed_output == Forecast(city="sample", unit="celsius", highs=[1])
