"""The upstream simulator's Anthropic Messages route refusing: its key and version checks, and 400s
in Anthropic's format that name the problem, through the official ``anthropic`` SDK or raw
``httpx``; the faults it injects are in test_simulator_anthropic_faults.py."""

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
    user,
)

from sluice.simulator import SimulatorConfig, SimulatorServer


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
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [{"role": "user", "content": [{"type": "text", "text": ""}]}],
            },
            "text content blocks must be non-empty",
        ),
        (
            {
                "model": "m",
                "max_tokens": 5,
                "messages": [*user(), {"role": "assistant", "content": " \n"}, *user()],
            },
            "text content blocks must contain non-whitespace text",
        ),
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
