"""The upstream simulator's Anthropic Messages route refusing: its key and version checks, 400s
in Anthropic's format that name the problem, and the faults it injects (HTTP errors, broken and
stalled streams), through the official ``anthropic`` SDK or raw ``httpx``."""

from __future__ import annotations

import json
from typing import Any

import anthropic
import httpx
import pytest
from simulator_anthropic_support import (
    VERSION,
    WEATHER,
    anthropic_client,  # noqa: F401 - the `claude` fixture
    root,
    simulator_server,  # noqa: F401 - the `server` fixture
    text_of,
    user,
)

from sluice.simulator import SimulatorConfig, SimulatorServer
from sluice.simulator.anthropic import FAULT_ERROR_TYPES
from sluice.simulator.faults import HTTP_FAULTS

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
