"""The upstream simulator refusing, over HTTP: bad requests get a 400 in OpenAI's error format,
an API key is checked when one is configured, and the faults it injects by header or marker (HTTP
errors, failing the first requests of a key, invalid JSON and malformed SSE, a lone surrogate,
hangs and dropped connections), in-process through Starlette's TestClient and, for timing and
dropped connections, on a real uvicorn port."""

from __future__ import annotations

import json
import time

import httpx
import pytest
from simulator_openai_support import (
    WEATHER,
    _client,  # noqa: F401 - the `client` fixture
    _server,  # noqa: F401 - the `server` fixture
    body,
    sse_payloads,
)
from starlette.testclient import TestClient

from sluice.simulator import SimulatorConfig, SimulatorServer, create_app

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
