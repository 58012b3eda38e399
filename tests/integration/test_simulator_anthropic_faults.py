"""The faults the upstream simulator's Anthropic Messages route injects, by header or by marker:
HTTP errors that reach the SDK as typed Anthropic errors, failing the first requests of a key,
malformed SSE and invalid JSON, dropped and stalled streams and a lone surrogate, through the
official ``anthropic`` SDK or raw ``httpx``."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import pytest
from simulator_anthropic_support import (
    VERSION,
    anthropic_client,  # noqa: F401 - the `claude` fixture
    root,
    simulator_server,  # noqa: F401 - the `server` fixture
    text_of,
    user,
)

from sluice.simulator import SimulatorServer
from sluice.simulator.anthropic import FAULT_ERROR_TYPES
from sluice.simulator.faults import HTTP_FAULTS


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
