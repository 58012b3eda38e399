"""The upstream simulator's Anthropic Messages route answering, through the official ``anthropic``
SDK on a real uvicorn port (raw ``httpx`` where the bytes themselves are the point); its refusals
are in test_simulator_anthropic_refusals.py and its faults in test_simulator_anthropic_faults.py."""

from __future__ import annotations

import json
import time
from typing import Any, Literal

import anthropic
import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel
from simulator_anthropic_support import (
    CLOCK,
    HELLO,
    PIXEL,
    VERSION,
    WEATHER,
    anthropic_client,  # noqa: F401 - the `claude` fixture
    root,
    simulator_server,  # noqa: F401 - the `server` fixture
    sse_events,
    text_of,
    user,
)

from sluice.simulator import SimulatorServer
from sluice.simulator.replies import REASONING_TEXT
from sluice.simulator.tokens import IMAGE_PART_TOKENS, count_tokens

# Answers


def test_a_text_answer_matches_the_openai_route_word_for_word_and_token_for_token(
    server: SimulatorServer, claude: anthropic.Anthropic
) -> None:
    raw = claude.messages.with_raw_response.create(
        model="sim-model", max_tokens=100, system="Answer briefly.", messages=user()
    )
    message = raw.parse()
    completion = openai.OpenAI(base_url=server.base_url, api_key="anything").chat.completions.create(
        model="sim-model",
        max_tokens=100,
        messages=[{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": HELLO}],
    )

    assert raw.headers["x-sluice-simulator"] == "1"
    assert message.id.startswith("msg_")
    assert message.model == "sim-model"
    assert [block.type for block in message.content] == ["text"]
    text = text_of(message.content[0])
    assert text.startswith(f"Simulated reply to: {HELLO}")
    assert text == completion.choices[0].message.content
    assert completion.usage is not None
    assert (
        message.usage.input_tokens
        == completion.usage.prompt_tokens
        == count_tokens(f"Answer briefly. {HELLO}")
    )
    assert message.usage.output_tokens == completion.usage.completion_tokens == count_tokens(text)
    assert (message.stop_reason, message.stop_sequence) == ("end_turn", None)


def test_a_system_turn_counts_like_the_system_prompt(claude: anthropic.Anthropic) -> None:
    top_level = claude.messages.create(model="m", max_tokens=100, system="Answer briefly.", messages=user())
    as_turn = claude.messages.create(
        model="m",
        max_tokens=100,
        messages=[{"role": "system", "content": "Answer briefly."}, *user()],
    )

    assert as_turn.usage == top_level.usage
    assert as_turn.content == top_level.content


def test_a_stream_has_anthropic_events_in_order_and_the_same_text(claude: anthropic.Anthropic) -> None:
    whole = claude.messages.create(model="m", max_tokens=100, messages=user())
    events: list[Any] = list(claude.messages.create(model="m", max_tokens=100, messages=user(), stream=True))

    kinds = [event.type for event in events]
    deltas = [event.delta.text for event in events if event.type == "content_block_delta"]
    assert kinds == [
        "message_start",
        "content_block_start",
        *["content_block_delta"] * len(deltas),
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start, finish = events[0], events[-2]
    assert start.type == "message_start" and finish.type == "message_delta"
    assert start.message.content == [] and start.message.usage.input_tokens == whole.usage.input_tokens
    assert all(count_tokens(delta) == 1 for delta in deltas)
    assert "".join(deltas) == text_of(whole.content[0])
    assert finish.delta.stop_reason == "end_turn"
    assert finish.usage.output_tokens == whole.usage.output_tokens == len(deltas)


def test_the_stream_is_framed_with_event_lines_and_starts_with_a_ping(server: SimulatorServer) -> None:
    response = httpx.post(
        f"{root(server)}/v1/messages",
        json={"model": "m", "max_tokens": 10, "messages": user(), "stream": True},
        headers=VERSION,
    )

    events = sse_events(response.text)
    assert response.headers["content-type"].startswith("text/event-stream")
    assert response.headers["x-sluice-simulator"] == "1"
    assert all(name == data["type"] for name, data in events)
    assert [name for name, _ in events[:3]] == ["message_start", "ping", "content_block_start"]
    assert "[DONE]" not in response.text


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


def test_a_stop_sequence_ends_the_text_and_is_named(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model="m", max_tokens=100, messages=user(), stop_sequences=["simulator"])
    with claude.messages.stream(
        model="m", max_tokens=100, messages=user(), stop_sequences=["nothing", "simulator"]
    ) as stream:
        streamed = stream.get_final_message()

    assert text_of(message.content[0]) == "Simulated reply to: Hello"
    assert (message.stop_reason, message.stop_sequence) == ("stop_sequence", "simulator")
    assert (streamed.stop_reason, streamed.stop_sequence) == ("stop_sequence", "simulator")
    assert message.usage.output_tokens == 4


def test_max_tokens_cuts_the_answer(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(model="m", max_tokens=5, messages=user())

    assert message.stop_reason == "max_tokens"
    assert count_tokens(text_of(message.content[0])) == message.usage.output_tokens == 5


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


def test_unknown_fields_and_n_are_accepted_and_ignored(claude: anthropic.Anthropic) -> None:
    message = claude.messages.create(
        model="m",
        max_tokens=100,
        messages=user(),
        extra_body={"n": 3, "context_management": {"edits": []}, "metadata": {"user_id": "u1"}},
        extra_headers={"anthropic-beta": "context-management-2025-06-27"},
    )

    assert [block.type for block in message.content] == ["text"]


# Pacing


def test_tokens_stream_at_the_token_rate(server: SimulatorServer) -> None:
    def text_arrivals(rate: str) -> list[float]:
        arrivals = []
        with httpx.stream(
            "POST",
            f"{root(server)}/v1/messages",
            json={"model": "m", "max_tokens": 15, "messages": user(), "stream": True},
            headers={**VERSION, "x-sim-token-rate": rate},
        ) as response:
            for line in response.iter_lines():
                if line.startswith("data: ") and '"text_delta"' in line:
                    arrivals.append(time.monotonic())
        return arrivals

    paced, unpaced = text_arrivals("40"), text_arrivals("0")

    assert len(paced) == len(unpaced) == 15
    spread = paced[-1] - paced[0]
    assert spread >= 14 / 40 * 0.8
    assert unpaced[-1] - unpaced[0] < spread / 4


def test_a_non_streaming_message_waits_for_its_tokens(claude: anthropic.Anthropic) -> None:
    def elapsed(rate: str) -> float:
        started = time.monotonic()
        claude.messages.create(
            model="m", max_tokens=10, messages=user(), extra_headers={"x-sim-token-rate": rate}
        )
        return time.monotonic() - started

    assert elapsed("0") < elapsed("25") / 2
