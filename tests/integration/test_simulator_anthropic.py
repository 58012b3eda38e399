"""The upstream simulator's Anthropic Messages route, through the official ``anthropic`` SDK on a
real uvicorn port (raw ``httpx`` where the bytes themselves are the point)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from typing import Any, Literal

import anthropic
import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel

from sluice.simulator import SimulatorConfig, SimulatorServer
from sluice.simulator.anthropic import FAULT_ERROR_TYPES
from sluice.simulator.faults import HTTP_FAULTS
from sluice.simulator.replies import REASONING_TEXT
from sluice.simulator.tokens import IMAGE_PART_TOKENS, count_tokens

VERSION = {"anthropic-version": "2023-06-01"}
HELLO = "Hello simulator, please answer"
WEATHER: Any = {
    "name": "get_weather",
    "description": "Weather for a city",
    "input_schema": {
        "type": "object",
        "properties": {
            "city": {"type": "string"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        },
        "required": ["city", "unit"],
        "additionalProperties": False,
    },
}
CLOCK: Any = {
    "name": "get_time",
    "input_schema": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
}
# A 1x1 transparent PNG.
PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
        "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
    )
).decode()


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig()) as running:
        yield running


def root(server: SimulatorServer) -> str:
    return f"http://{server.host}:{server.port}"


@pytest.fixture
def claude(server: SimulatorServer) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=root(server), api_key="anything", max_retries=0)


def user(text: str = HELLO) -> list[Any]:
    return [{"role": "user", "content": text}]


def text_of(block: object) -> str:
    assert isinstance(block, anthropic.types.TextBlock), block
    return block.text


def sse_events(text: str) -> list[tuple[str, dict[str, Any]]]:
    """``(event name, data)`` of every event of an Anthropic SSE body."""
    events = []
    for frame in filter(None, text.split("\n\n")):
        name, data = frame.split("\n")
        events.append((name.removeprefix("event: "), json.loads(data.removeprefix("data: "))))
    return events


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


# Auth and validation


def test_the_api_key_is_checked_when_the_simulator_has_one() -> None:
    """The SDK sends its key as ``Authorization: Bearer``; ``x-api-key`` (what Sluice sends) works too."""
    no_bearer: Any = {"Authorization": anthropic.Omit()}
    with SimulatorServer(SimulatorConfig(api_key="sim-secret")) as strict:
        url = root(strict)
        right = anthropic.Anthropic(base_url=url, api_key="sim-secret", max_retries=0)
        as_x_api_key = anthropic.Anthropic(
            base_url=url, api_key="unused", default_headers={**no_bearer, "x-api-key": "sim-secret"}
        )
        wrong = anthropic.Anthropic(base_url=url, api_key="nope", max_retries=0)
        missing = anthropic.Anthropic(
            base_url=url, api_key="unused", default_headers=no_bearer, max_retries=0
        )

        for client in (right, as_x_api_key):
            assert (
                client.messages.create(model="m", max_tokens=5, messages=user()).stop_reason == "max_tokens"
            )
        for client, message in ((wrong, "invalid x-api-key"), (missing, "x-api-key header is required")):
            with pytest.raises(anthropic.AuthenticationError) as raised:
                client.messages.create(model="m", max_tokens=5, messages=user())
            assert raised.value.status_code == 401
            assert raised.value.body == {
                "type": "error",
                "error": {"type": "authentication_error", "message": message},
            }


def test_the_anthropic_version_header_is_required(server: SimulatorServer) -> None:
    response = httpx.post(
        f"{root(server)}/v1/messages", json={"model": "m", "max_tokens": 5, "messages": user()}
    )

    assert response.status_code == 400
    assert response.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }


def test_a_malformed_request_is_a_bad_request_error(claude: anthropic.Anthropic) -> None:
    image_without_data: Any = {"type": "image", "source": {"type": "base64"}}
    with pytest.raises(anthropic.BadRequestError) as raised:
        claude.messages.create(
            model="m", max_tokens=5, messages=[{"role": "user", "content": [image_without_data]}]
        )

    body: Any = raised.value.body
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"].startswith("messages.0.content.0.image.source.base64")


TOOL_USE = {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {}}


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"{not json", "not valid JSON"),
        ({"model": "m", "messages": user()}, "max_tokens: Field required"),
        ({"model": "m", "max_tokens": 5, "messages": []}, "messages: List should have at least 1 item"),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "tool", "content": "x"}]},
            "messages.0.role",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "document"}]}],
            },
            "'document' found",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [
                    {"role": "system", "content": [{"type": "image", "source": {"type": "url", "url": "u"}}]}
                ],
            },
            "messages.0: image blocks are not allowed in system turns",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [
                    {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_x"}]}
                ],
            },
            "unexpected tool_use_id found in tool_result blocks: toolu_x",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [*user(), {"role": "assistant", "content": [TOOL_USE]}, *user("and?")],
            },
            "messages.2: tool_use ids were found without tool_result blocks immediately after: toolu_1",
        ),
        ({"model": "m", "max_tokens": 5, "messages": [*user(), *user("")]}, "non-empty content"),
        (
            {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [TOOL_USE]}]},
            "user turns",
        ),
        (
            {"model": "m", "max_tokens": 2000, "messages": user(), "thinking": {"type": "enabled"}},
            "budget_tokens",
        ),
        (
            {
                "model": "m",
                "max_tokens": 1024,
                "messages": user(),
                "thinking": {"type": "enabled", "budget_tokens": 1024},
            },
            "max_tokens must be greater than thinking.budget_tokens",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": user(),
                "tools": [WEATHER],
                "tool_choice": {"type": "tool"},
            },
            "tool_choice.name",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": user(),
                "tools": [WEATHER],
                "tool_choice": {"type": "tool", "name": "nope"},
            },
            "'nope', which is not in tools",
        ),
        ({"model": "m", "max_tokens": 5, "messages": user(), "temperature": 1.5}, "temperature"),
        (
            {"model": "m", "max_tokens": 5, "messages": user(), "temperature": 0.5, "top_p": 0.9},
            "temperature and top_p cannot both be set for this model",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": user(), "stop_sequences": ["END", "\n"]},
            "each stop sequence must contain non-whitespace",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": user(), "output_config": {"effort": "max"}},
            "effort 'max' needs thinking enabled or adaptive",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": user(),
                "thinking": {"type": "adaptive"},
                "temperature": 0.5,
            },
            "temperature may only be set to 1 when thinking is enabled or adaptive",
        ),
        (
            {"model": "m", "max_tokens": 5, "messages": user(), "thinking": {"type": "adaptive"}, "top_k": 5},
            "top_k cannot be set when thinking",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": user(),
                "thinking": {"type": "adaptive"},
                "top_p": 0.5,
            },
            "top_p must be between 0.95 and 1",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": user(),
                "tools": [WEATHER],
                "tool_choice": {"type": "any"},
                "thinking": {"type": "adaptive"},
            },
            "tool_choice may only be auto or none when thinking",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [
                    *user(),
                    {"role": "assistant", "content": [TOOL_USE]},
                    {
                        "role": "user",
                        "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "18"}],
                    },
                ],
                "tools": [WEATHER],
                "thinking": {"type": "adaptive"},
            },
            "messages.1.content.0.type: expected thinking or redacted_thinking, found tool_use",
        ),
    ],
)
def test_bad_requests_are_400s_in_anthropic_format_naming_the_problem(
    server: SimulatorServer, body: Any, problem: str
) -> None:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response = httpx.post(
        f"{root(server)}/v1/messages",
        content=content,
        headers={**VERSION, "content-type": "application/json"},
    )

    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert problem in response.json()["error"]["message"]


# Faults


def test_every_http_fault_has_an_anthropic_error_type() -> None:
    assert set(FAULT_ERROR_TYPES) == set(HTTP_FAULTS)


@pytest.mark.parametrize(
    ("fault", "exception", "error_type"),
    [
        ("http_400", anthropic.BadRequestError, "invalid_request_error"),
        ("http_429", anthropic.RateLimitError, "rate_limit_error"),
        ("http_500", anthropic.InternalServerError, "api_error"),
        ("http_503", anthropic.ServiceUnavailableError, "overloaded_error"),
    ],
)
def test_http_faults_reach_the_sdk_as_typed_anthropic_errors(
    claude: anthropic.Anthropic, fault: str, exception: type[anthropic.APIStatusError], error_type: str
) -> None:
    with pytest.raises(exception) as by_header:
        claude.messages.create(model="m", max_tokens=5, messages=user(), extra_headers={"x-sim-fault": fault})
    with pytest.raises(exception) as by_marker:
        claude.messages.create(model="m", max_tokens=5, messages=user(f"hi [sim:fault={fault}]"), stream=True)

    for raised in (by_header, by_marker):
        body: Any = raised.value.body
        assert body["error"]["type"] == error_type
        assert raised.value.response.headers["x-sluice-simulator"] == "1"
    assert (by_header.value.response.headers.get("retry-after") == "1") is (fault == "http_429")


def test_fail_times_counts_anthropic_requests(claude: anthropic.Anthropic) -> None:
    marked = user("retry me [sim:fail_times=1;key=anthropic-fail-once]")

    with pytest.raises(anthropic.ServiceUnavailableError):
        claude.messages.create(model="m", max_tokens=5, messages=marked)
    assert claude.messages.create(model="m", max_tokens=5, messages=marked).stop_reason == "max_tokens"


def test_malformed_sse_breaks_the_sdk_stream_and_invalid_json_the_message(
    claude: anthropic.Anthropic,
) -> None:
    fault = {"x-sim-fault": "malformed_sse"}
    with pytest.raises(json.JSONDecodeError):
        list(
            claude.messages.create(model="m", max_tokens=5, messages=user(), stream=True, extra_headers=fault)
        )
    with pytest.raises(json.JSONDecodeError):
        claude.messages.create(model="m", max_tokens=5, messages=user(), extra_headers=fault)


@pytest.mark.parametrize("stream", [True, False])
def test_reset_mid_stream_drops_the_connection(server: SimulatorServer, stream: bool) -> None:
    received = bytearray()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            f"{root(server)}/v1/messages",
            json={
                "model": "m",
                "max_tokens": 50,
                "messages": user("[sim:fault=reset_mid_stream]"),
                "stream": stream,
            },
            headers=VERSION,
        ) as response,
    ):
        for piece in response.iter_bytes():
            received.extend(piece)

    assert received
    assert b"message_stop" not in received
    if stream:
        assert b"event: message_start" in received


def test_hang_after_first_sends_the_opening_events_then_stalls(server: SimulatorServer) -> None:
    received: list[str] = []
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST",
            f"{root(server)}/v1/messages",
            json={"model": "m", "max_tokens": 50, "messages": user(), "stream": True},
            headers={**VERSION, "x-sim-fault": "hang_after_first"},
            timeout=httpx.Timeout(5, read=0.5),
        ) as response,
    ):
        received.extend(line for line in response.iter_lines() if line.startswith("event: "))

    assert received == ["event: message_start", "event: ping", "event: content_block_start"]


def test_lone_surrogate_starts_the_text_with_half_an_emoji(claude: anthropic.Anthropic) -> None:
    fault = {"x-sim-fault": "lone_surrogate"}
    message = claude.messages.create(model="m", max_tokens=5, messages=user(), extra_headers=fault)
    with claude.messages.stream(model="m", max_tokens=5, messages=user(), extra_headers=fault) as stream:
        streamed = "".join(stream.text_stream)

    for text in (text_of(message.content[0]), streamed):
        assert text.startswith("\ud83dSimulated") and text.count("\ud83d") == 1
    assert message.usage.output_tokens == 5


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
