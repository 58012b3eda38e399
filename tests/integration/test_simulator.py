"""The upstream simulator over HTTP: in-process through Starlette's TestClient, and on a real
uvicorn port (for timing, dropped connections and the official OpenAI SDK)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any, Literal

import httpx
import jsonschema
import openai
import pytest
from pydantic import BaseModel
from starlette.testclient import TestClient

from sluice.simulator import SimulatorConfig, SimulatorServer, create_app
from sluice.simulator.tokens import count_tokens

WEATHER: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather for a city",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer", "minimum": 1},
            },
            "required": ["city", "unit"],
            "additionalProperties": False,
        },
    },
}
CLOCK: dict[str, Any] = {
    "type": "function",
    "function": {
        "name": "get_time",
        "parameters": {"type": "object", "properties": {"zone": {"type": "string"}}, "required": ["zone"]},
    },
}


def body(text: str = "Hello simulator, please answer", **fields: Any) -> dict[str, Any]:
    return {"model": "test-model", "messages": [{"role": "user", "content": text}], **fields}


def sse_payloads(text: str) -> list[Any]:
    """The ``data:`` payloads of an SSE body, JSON-decoded except for ``[DONE]``."""
    payloads = [line.removeprefix("data: ") for line in text.split("\n\n") if line.startswith("data: ")]
    return [payload if payload == "[DONE]" else json.loads(payload) for payload in payloads]


@pytest.fixture
def client() -> Iterator[TestClient]:
    with TestClient(create_app(SimulatorConfig())) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def server() -> Iterator[SimulatorServer]:
    with SimulatorServer(SimulatorConfig()) as running:
        yield running


# Discovery


def test_models_and_health_say_they_are_a_simulator(client: TestClient) -> None:
    models = client.get("/v1/models")
    health = client.get("/health")

    assert models.status_code == 200
    assert models.json()["object"] == "list"
    assert {model["owned_by"] for model in models.json()["data"]} == {"sluice-simulator"}
    assert models.headers["x-sluice-simulator"] == "1"
    assert health.json()["status"] == "ok"
    assert health.headers["x-sluice-simulator"] == "1"


def test_unknown_paths_answer_in_openai_error_format(client: TestClient) -> None:
    response = client.get("/v1/nothing")

    assert response.status_code == 404
    assert response.json()["error"]["type"] == "invalid_request_error"


# Non-streaming


def test_a_completion_is_deterministic_with_fresh_ids_and_real_usage(client: TestClient) -> None:
    first = client.post("/v1/chat/completions", json=body()).json()
    second = client.post("/v1/chat/completions", json=body()).json()

    message = first["choices"][0]["message"]
    assert first["object"] == "chat.completion"
    assert first["model"] == "test-model"
    assert first["id"].startswith("chatcmpl-") and first["id"] != second["id"]
    assert message["role"] == "assistant"
    assert message["content"].startswith("Simulated reply to: Hello simulator, please answer")
    assert message["content"] == second["choices"][0]["message"]["content"]
    assert first["usage"]["prompt_tokens"] == 4
    assert first["usage"]["completion_tokens"] == count_tokens(message["content"])
    assert first["choices"][0]["finish_reason"] == "stop"


def test_n_choices_differ_and_stop_and_max_tokens_apply_to_each(client: TestClient) -> None:
    many = client.post("/v1/chat/completions", json=body(n=3)).json()
    capped = client.post("/v1/chat/completions", json=body(n=2, max_tokens=5)).json()
    stopped = client.post("/v1/chat/completions", json=body(stop=["simulator"])).json()

    assert [choice["index"] for choice in many["choices"]] == [0, 1, 2]
    assert len({choice["message"]["content"] for choice in many["choices"]}) == 3
    assert [count_tokens(choice["message"]["content"]) for choice in capped["choices"]] == [5, 5]
    assert {choice["finish_reason"] for choice in capped["choices"]} == {"length"}
    assert capped["usage"]["completion_tokens"] == 10
    assert stopped["choices"][0]["message"]["content"] == "Simulated reply to: Hello"
    assert stopped["choices"][0]["finish_reason"] == "stop"


def test_reasoning_is_returned_as_reasoning_content(client: TestClient) -> None:
    answer = client.post("/v1/chat/completions", json=body(reasoning_effort="low")).json()

    message = answer["choices"][0]["message"]
    assert message["reasoning_content"].startswith("Simulated reasoning")
    assert answer["usage"]["completion_tokens_details"]["reasoning_tokens"] == count_tokens(
        message["reasoning_content"]
    )


def test_json_schema_replies_validate(client: TestClient) -> None:
    schema = WEATHER["function"]["parameters"]
    response_format = {"type": "json_schema", "json_schema": {"name": "weather", "schema": schema}}

    answer = client.post("/v1/chat/completions", json=body(response_format=response_format)).json()

    jsonschema.validate(json.loads(answer["choices"][0]["message"]["content"]), schema)


def test_tool_calls_come_with_text_and_schema_valid_arguments(client: TestClient) -> None:
    answer = client.post(
        "/v1/chat/completions", json=body("call get_time and get_weather", tools=[WEATHER, CLOCK])
    ).json()

    choice = answer["choices"][0]
    calls = choice["message"]["tool_calls"]
    assert choice["finish_reason"] == "tool_calls"
    assert choice["message"]["content"] == "Calling get_time and get_weather."
    assert [call["function"]["name"] for call in calls] == ["get_time", "get_weather"]
    assert len({call["id"] for call in calls}) == 2
    jsonschema.validate(json.loads(calls[0]["function"]["arguments"]), CLOCK["function"]["parameters"])
    jsonschema.validate(json.loads(calls[1]["function"]["arguments"]), WEATHER["function"]["parameters"])


def test_a_tool_result_is_quoted_back(client: TestClient) -> None:
    messages = [
        {"role": "user", "content": "use the tool"},
        {
            "role": "assistant",
            "content": "Calling get_weather.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "21 degrees and sunny"},
    ]

    answer = client.post(
        "/v1/chat/completions", json={"model": "m", "messages": messages, "tools": [WEATHER]}
    ).json()

    assert answer["choices"][0]["message"]["content"].startswith("Tool result received: 21 degrees and sunny")
    assert answer["choices"][0]["finish_reason"] == "stop"


# Streaming


def test_a_stream_has_openai_chunk_shape_one_token_per_delta(client: TestClient) -> None:
    response = client.post(
        "/v1/chat/completions", json=body(stream=True, stream_options={"include_usage": True})
    )

    payloads = sse_payloads(response.text)
    chunks, usage_chunk, done = payloads[:-2], payloads[-2], payloads[-1]
    contents = [chunk["choices"][0]["delta"].get("content") for chunk in chunks[1:-1]]
    assert response.headers["content-type"].startswith("text/event-stream")
    assert done == "[DONE]"
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert len({chunk["id"] for chunk in payloads[:-1]}) == 1
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    assert all(count_tokens(content) == 1 for content in contents)
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert usage_chunk["choices"] == []
    assert usage_chunk["usage"]["completion_tokens"] == len(contents) == count_tokens("".join(contents))


def test_streamed_reasoning_precedes_content(client: TestClient) -> None:
    payloads = sse_payloads(client.post("/v1/chat/completions", json=body(stream=True, thinking=True)).text)

    kinds = [next(iter(chunk["choices"][0]["delta"]), None) for chunk in payloads[1:-1]]
    assert kinds[0] == "reasoning_content"
    assert kinds.index("content") > kinds.index("reasoning_content")
    assert "reasoning_content" not in kinds[kinds.index("content") :]


def test_streamed_tool_calls_are_incremental(client: TestClient) -> None:
    request = body("call get_weather and get_time", tools=[WEATHER, CLOCK], stream=True)

    payloads = sse_payloads(client.post("/v1/chat/completions", json=request).text)

    deltas = [chunk["choices"][0]["delta"] for chunk in payloads[:-1]]
    text = "".join(delta.get("content") or "" for delta in deltas)
    call_deltas = [call for delta in deltas for call in delta.get("tool_calls", [])]
    assert text == "Calling get_weather and get_time."
    assert payloads[-2]["choices"][0]["finish_reason"] == "tool_calls"
    for index, tool in enumerate([WEATHER, CLOCK]):
        mine = [call for call in call_deltas if call["index"] == index]
        assert mine[0]["id"].startswith("call_")
        assert mine[0]["function"]["name"] == tool["function"]["name"]
        assert all("id" not in call for call in mine[1:])
        pieces = [call["function"]["arguments"] for call in mine[1:]]
        assert len(pieces) >= 2
        jsonschema.validate(json.loads("".join(pieces)), tool["function"]["parameters"])


# Validation and auth


@pytest.mark.parametrize(
    "content",
    [
        b"{not json",
        b"[]",
        json.dumps({"model": "m"}).encode(),
        json.dumps({"messages": [{"role": "user", "content": "hi"}]}).encode(),
        json.dumps(body(n=0)).encode(),
        json.dumps(
            body(tools=[WEATHER], tool_choice={"type": "function", "function": {"name": "x"}})
        ).encode(),
    ],
)
def test_bad_requests_get_400_in_openai_format(client: TestClient, content: bytes) -> None:
    response = client.post(
        "/v1/chat/completions", content=content, headers={"content-type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert response.json()["error"]["message"]


def test_an_api_key_is_required_only_when_configured() -> None:
    with TestClient(create_app(SimulatorConfig(api_key="sim-secret"))) as strict:
        missing = strict.post("/v1/chat/completions", json=body())
        wrong = strict.post("/v1/chat/completions", json=body(), headers={"authorization": "Bearer nope"})
        right = strict.post(
            "/v1/chat/completions", json=body(), headers={"authorization": "Bearer sim-secret"}
        )

    assert (missing.status_code, wrong.status_code, right.status_code) == (401, 401, 200)
    assert wrong.json()["error"]["code"] == "invalid_api_key"


# Faults


@pytest.mark.parametrize(
    ("fault", "status"), [("http_500", 500), ("http_503", 503), ("http_429", 429), ("http_400", 400)]
)
def test_http_faults_by_header_and_by_marker(client: TestClient, fault: str, status: int) -> None:
    by_header = client.post("/v1/chat/completions", json=body(), headers={"x-sim-fault": fault})
    by_marker = client.post("/v1/chat/completions", json=body(f"hello [sim:fault={fault}]", stream=True))

    for response in (by_header, by_marker):
        assert response.status_code == status
        assert set(response.json()["error"]) == {"message", "type", "param", "code"}
    assert (by_header.headers.get("retry-after") == "1") is (fault == "http_429")


def test_fail_times_fails_only_the_first_requests_of_a_key(client: TestClient) -> None:
    headers = {"x-sim-fail-times": "1", "x-sim-fail-key": "header-test"}
    marked = body("retry me [sim:fail_times=2;key=marker-test;fault=http_500]")

    by_header = [
        client.post("/v1/chat/completions", json=body(), headers=headers).status_code for _ in range(3)
    ]
    by_marker = [client.post("/v1/chat/completions", json=marked).status_code for _ in range(3)]

    assert by_header == [503, 200, 200]
    assert by_marker == [500, 500, 200]


def test_a_new_app_starts_with_fresh_fail_counters() -> None:
    headers = {"x-sim-fail-times": "1", "x-sim-fail-key": "same"}
    statuses = []
    for _ in range(2):
        with TestClient(create_app(SimulatorConfig())) as fresh:
            statuses.append(fresh.post("/v1/chat/completions", json=body(), headers=headers).status_code)

    assert statuses == [503, 503]


def test_invalid_json_and_malformed_sse(client: TestClient) -> None:
    invalid = client.post("/v1/chat/completions", json=body(), headers={"x-sim-fault": "invalid_json"})
    malformed = client.post("/v1/chat/completions", json=body("[sim:fault=malformed_sse] hi", stream=True))

    assert invalid.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        json.loads(invalid.content)
    assert "data: {not json\n\n" in malformed.text
    with pytest.raises(json.JSONDecodeError):
        sse_payloads(malformed.text)


def test_lone_surrogate_starts_the_text_with_half_an_emoji(client: TestClient) -> None:
    fault = {"x-sim-fault": "lone_surrogate"}
    answer = client.post("/v1/chat/completions", json=body(), headers=fault)
    stream = client.post("/v1/chat/completions", json=body(stream=True), headers=fault)

    assert json.loads(answer.content)["choices"][0]["message"]["content"].startswith("\ud83dSimulated")
    text = "".join(
        (chunk["choices"][0]["delta"].get("content") or "")
        for chunk in sse_payloads(stream.text)
        if isinstance(chunk, dict) and chunk.get("choices")
    )
    assert text.startswith("\ud83dSimulated") and text.count("\ud83d") == 1
    with pytest.raises(UnicodeEncodeError):
        text.encode("utf-8")


def test_hang_delays_the_whole_answer(client: TestClient) -> None:
    started = time.monotonic()
    client.post("/v1/chat/completions", json=body())
    quick = time.monotonic() - started

    started = time.monotonic()
    response = client.post(
        "/v1/chat/completions", json=body(), headers={"x-sim-fault": "hang", "x-sim-hang-seconds": "0.5"}
    )
    hung = time.monotonic() - started

    assert response.status_code == 200
    assert hung > quick + 0.4


def test_hang_sends_nothing_until_the_client_gives_up(server: SimulatorServer) -> None:
    with pytest.raises(httpx.ReadTimeout):
        httpx.post(
            f"{server.base_url}/chat/completions",
            json=body("[sim:fault=hang]"),
            timeout=httpx.Timeout(5, read=0.5),
        )


def test_hang_after_first_sends_one_chunk_then_stalls(server: SimulatorServer) -> None:
    received: list[str] = []
    with (
        pytest.raises(httpx.ReadTimeout),
        httpx.stream(
            "POST",
            f"{server.base_url}/chat/completions",
            json=body(stream=True),
            headers={"x-sim-fault": "hang_after_first"},
            timeout=httpx.Timeout(5, read=0.5),
        ) as response,
    ):
        assert response.status_code == 200
        received.extend(line for line in response.iter_lines() if line)

    assert len(received) == 1
    assert json.loads(received[0].removeprefix("data: "))["choices"][0]["delta"]["role"] == "assistant"


@pytest.mark.parametrize("stream", [True, False])
def test_reset_mid_stream_drops_the_connection(server: SimulatorServer, stream: bool) -> None:
    received = bytearray()
    with (
        pytest.raises(httpx.RemoteProtocolError),
        httpx.stream(
            "POST",
            f"{server.base_url}/chat/completions",
            json=body("[sim:fault=reset_mid_stream]", stream=stream),
        ) as response,
    ):
        for piece in response.iter_bytes():
            received.extend(piece)

    assert received
    assert b"[DONE]" not in received
    if not stream:
        with pytest.raises(json.JSONDecodeError):
            json.loads(received)


# Pacing


def _content_arrivals(
    server: SimulatorServer, headers: dict[str, str], tokens: int
) -> tuple[float, list[float]]:
    started = time.monotonic()
    arrivals: list[float] = []
    with httpx.stream(
        "POST",
        f"{server.base_url}/chat/completions",
        json=body("Tell me everything you know about rivers and lakes", stream=True, max_tokens=tokens),
        headers=headers,
    ) as response:
        for line in response.iter_lines():
            if line.startswith("data: {") and json.loads(line[6:])["choices"][0]["delta"].get("content"):
                arrivals.append(time.monotonic())
    return started, arrivals


def test_tokens_stream_incrementally_at_the_token_rate(server: SimulatorServer) -> None:
    started, arrivals = _content_arrivals(server, {"x-sim-token-rate": "20"}, tokens=20)
    _, unpaced = _content_arrivals(server, {}, tokens=20)

    assert len(arrivals) == 20
    spread = arrivals[-1] - arrivals[0]
    assert arrivals[0] - started < spread / 4
    assert arrivals == sorted(arrivals)
    assert unpaced[-1] - unpaced[0] < spread / 4


def test_a_non_streaming_answer_waits_for_its_tokens(server: SimulatorServer) -> None:
    def elapsed(rate: str) -> float:
        started = time.monotonic()
        httpx.post(
            f"{server.base_url}/chat/completions",
            json=body(max_tokens=10),
            headers={"x-sim-token-rate": rate},
        )
        return time.monotonic() - started

    assert elapsed("0") < elapsed("25") / 2


# The official SDK


def test_the_openai_sdk_talks_to_the_simulator(server: SimulatorServer) -> None:
    sdk = openai.OpenAI(base_url=server.base_url, api_key="anything")

    completion = sdk.chat.completions.create(
        model="sdk-model", messages=[{"role": "user", "content": "Hi from the SDK"}], max_tokens=6
    )
    stream = sdk.chat.completions.create(
        model="sdk-model",
        messages=[{"role": "user", "content": "Hi from the SDK"}],
        max_tokens=6,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)

    assert completion.model == "sdk-model"
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None and completion.usage.completion_tokens == 6
    streamed = "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices)
    assert streamed == completion.choices[0].message.content
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 6
    assert [model.owned_by for model in sdk.models.list()] == ["sluice-simulator"]


def test_the_openai_sdk_streams_tool_calls_and_parses_structured_output(server: SimulatorServer) -> None:
    sdk = openai.OpenAI(base_url=server.base_url, api_key="anything")

    class Forecast(BaseModel):
        city: str
        unit: Literal["celsius", "fahrenheit"]
        highs: list[int]

    with sdk.chat.completions.stream(
        model="sdk-model",
        messages=[{"role": "user", "content": "use the tool for Zagreb"}],
        tools=[WEATHER],  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_completion()
    parsed = sdk.chat.completions.parse(
        model="sdk-model", messages=[{"role": "user", "content": "forecast"}], response_format=Forecast
    )

    tool_calls = final.choices[0].message.tool_calls
    assert tool_calls is not None
    call = tool_calls[0]
    assert final.choices[0].finish_reason == "tool_calls"
    assert final.choices[0].message.content == "Calling get_weather."
    assert call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "sample", "unit": "celsius"}
    assert parsed.choices[0].message.parsed == Forecast(city="sample", unit="celsius", highs=[1])


def test_the_openai_sdk_sees_injected_errors(server: SimulatorServer) -> None:
    sdk = openai.OpenAI(base_url=server.base_url, api_key="anything", max_retries=0)

    with pytest.raises(openai.RateLimitError) as raised:
        sdk.chat.completions.create(model="m", messages=[{"role": "user", "content": "[sim:fault=http_429]"}])

    assert raised.value.response.headers["retry-after"] == "1"
