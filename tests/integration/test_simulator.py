"""The upstream simulator over HTTP, answering: discovery, completions (choices, stop and
``max_tokens``, reasoning, structured output, tool calls and tool results) and their streams,
in-process through Starlette's TestClient, and the pace of tokens on a real uvicorn port."""

from __future__ import annotations

import json
import time

import httpx
import jsonschema
from simulator_openai_support import (
    CLOCK,
    WEATHER,
    _client,  # noqa: F401 - the `client` fixture
    _server,  # noqa: F401 - the `server` fixture
    body,
    sse_payloads,
)
from starlette.testclient import TestClient

from sluice.simulator import SimulatorServer
from sluice.simulator.tokens import count_tokens

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
