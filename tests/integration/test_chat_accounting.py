"""Credits and routing facts in chat responses: X-Credits-Remaining, ``auto``, plan gates, the clamp."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chat_support import (
    LoopbackServer,
    RecordingUpstream,
    chat_http,
    install_catalog,
    openai_route,
    queued_usage_events,
)

from shared.usage.events import UsageEvent
from shared.usage.service import apply_usage_event

TOOLS = [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}]
PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


def post(key: str, body: dict[str, Any]) -> httpx.Response:
    async def go() -> httpx.Response:
        async with chat_http() as http:
            return await http.post(
                "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
            )

    return asyncio.run(go())


def user(text: str) -> list[dict[str, Any]]:
    return [{"role": "user", "content": text}]


def settle_queued(queue_url: str) -> list[dict[str, Any]]:
    """Run the usage consumer's logic on every queued event (settle or release), as the worker would."""
    events = queued_usage_events(queue_url)
    for event in events:
        apply_usage_event(UsageEvent.model_validate(event))
    return events


@pytest.fixture
def recorder(chat_world) -> Iterator[RecordingUpstream]:
    """Every model of the catalog routed to one recording upstream (the simulator behind it)."""
    upstream = RecordingUpstream()
    with LoopbackServer(upstream) as server:
        from shared.catalog.loader import load_catalog_file

        ids = [m.id for m in load_catalog_file().models if m.routes]
        install_catalog(routes={i: [openai_route(f"{server.url}/v1", i)] for i in ids})
        yield upstream


def test_credits_remaining_is_the_balance_after_a_success(chat_world) -> None:
    pro = post(chat_world.pro.key, {"model": "qwen3", "messages": user("hi")})
    free = post(chat_world.free.key, {"model": "hrllm", "messages": user("bok")})

    assert pro.status_code == free.status_code == 200
    assert pro.headers["x-credits-remaining"] == str(chat_world.pro.balance()) == "999"
    assert free.headers["x-credits-remaining"] == str(chat_world.free.balance()) == "99"
    settle_queued(chat_world.usage_queue)
    assert chat_world.pro.balance() == 999 and chat_world.free.balance() == 99, "settled at the reserved cost"


@pytest.mark.parametrize(
    ("who", "body", "status", "code", "param"),
    [
        (
            "pro",
            {"model": "qwen3", "temperature": 3, "messages": user("x")},
            400,
            "invalid_request",
            "temperature",
        ),
        ("pro", {"model": "no-such-model", "messages": user("x")}, 404, "model_not_found", "model"),
        ("free", {"model": "qwen3", "messages": user("x")}, 403, "permission_denied", "model"),
        (
            "free",
            {"model": "auto", "tools": TOOLS, "messages": user("use a tool")},
            403,
            "permission_denied",
            "tools",
        ),
        (
            "free",
            {"model": "auto", "response_format": {"type": "json_object"}, "messages": user("json")},
            403,
            "permission_denied",
            "response_format",
        ),
    ],
)
def test_errors_after_auth_carry_the_balance_and_charge_nothing(
    chat_world, recorder, who, body, status, code, param
) -> None:
    account = chat_world.pro if who == "pro" else chat_world.free
    before = account.balance()

    response = post(account.key, body)

    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["code"] == code and error["param"].startswith(param)
    if status == 403:
        assert "Pro" in error["message"], "names the Pro requirement"
    assert response.headers["x-credits-remaining"] == str(before) == str(account.balance())
    assert response.headers["x-request-id"]
    assert recorder.calls == [], "never sent upstream"
    assert queued_usage_events(chat_world.usage_queue) == []


def test_a_free_key_on_auto_is_routed_to_the_free_model(chat_world, recorder) -> None:
    response = post(chat_world.free.key, {"model": "auto", "messages": user("pozdrav")})

    assert response.status_code == 200
    assert response.json()["model"] == "hrllm" and response.headers["x-sluice-model"] == "hrllm"
    assert [c.body["model"] for c in recorder.calls] == ["hrllm"]
    assert recorder.calls[0].body["messages"][0]["role"] == "system", "the model's persona comes first"
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["public_model"] == "auto" and event["routed_model"] == "hrllm"


@pytest.mark.parametrize(
    ("extra", "content", "routed", "cost"),
    [
        ({"tools": TOOLS}, "use a tool", "qwen3", 1),
        ({"response_format": {"type": "json_object"}}, "json please", "qwen3", 1),
        ({"reasoning_effort": "high"}, "think hard", "kimi-k2-thinking", 1),
        (
            {},
            [
                {
                    "type": "image_url",
                    "image_url": {"url": "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()},
                },
                {"type": "text", "text": "what is this"},
            ],
            "kimi-k2.5",
            2,
        ),
    ],
)
def test_auto_picks_a_model_with_every_needed_capability_and_charges_its_price(
    chat_world, recorder, extra, content, routed, cost
) -> None:
    body = {"model": "auto", "messages": [{"role": "user", "content": content}], **extra}

    response = post(chat_world.pro.key, body)

    assert response.status_code == 200, response.text
    assert response.json()["model"] == routed and response.headers["x-sluice-model"] == routed
    assert [c.body["model"] for c in recorder.calls] == [routed]
    assert response.headers["x-credits-remaining"] == str(1000 - cost)
    [event] = settle_queued(chat_world.usage_queue)
    assert event["credits"] == cost
    assert chat_world.pro.balance() == 1000 - cost, "charged what the routed model costs, no more"


@pytest.mark.parametrize(
    ("who", "model", "field", "cap"),
    [
        ("pro", "qwen3", "max_tokens", 8192),
        ("pro", "kimi-k2", "max_completion_tokens", 8192),
        ("free", "hrllm", "max_tokens", 4096),
    ],
)
def test_max_tokens_over_the_plan_cap_is_clamped_and_said_so(
    chat_world, recorder, who, model, field, cap
) -> None:
    account = chat_world.pro if who == "pro" else chat_world.free

    response = post(account.key, {"model": model, field: 32000, "messages": user("long answer")})

    assert response.status_code == 200
    assert response.headers["x-sluice-max-tokens-clamped"] == str(cap)
    [call] = recorder.calls
    assert call.body["max_tokens"] == cap
    assert response.json()["usage"]["completion_tokens"] <= cap


def test_max_tokens_within_the_cap_is_passed_as_is_without_the_header(chat_world, recorder) -> None:
    response = post(chat_world.pro.key, {"model": "qwen3", "max_tokens": 8192, "messages": user("x")})

    assert response.status_code == 200
    assert "x-sluice-max-tokens-clamped" not in response.headers
    assert recorder.calls[0].body["max_tokens"] == 8192
