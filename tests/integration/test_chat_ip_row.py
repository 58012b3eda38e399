"""The public chat IP row (48/min, before auth) counts every request, also one refused before its
admission with a valid key: a bad body, an unknown model, a plan gate, no credits. Each refusal
carries the IP's ``X-RateLimit-*`` headers, and once the IP is over, the answer is the 429."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from chat_support import chat_http

HI = [{"role": "user", "content": "hi"}]


def post(key: str, bodies: list[Any], path: str = "/v1/chat/completions") -> list[httpx.Response]:
    async def go() -> list[httpx.Response]:
        async with chat_http() as http:
            headers = {"Authorization": f"Bearer {key}"}
            return [await http.post(path, json=body, headers=headers) for body in bodies]

    return asyncio.run(go())


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ({"model": "qwen3"}, 400),  # no messages
        ({"model": "no-such-model", "messages": HI}, 404),
        ({"model": "qwen3", "messages": HI, "stream": "yes"}, 400),
    ],
)
def test_a_refusal_before_admission_counts_against_the_ip(
    chat_world, body: dict[str, Any], status: int
) -> None:
    first, second = post(chat_world.pro.key, [body, body])

    assert (first.status_code, second.status_code) == (status, status)
    assert first.headers["x-ratelimit-limit"] == "48"
    assert int(first.headers["x-ratelimit-remaining"]) - int(second.headers["x-ratelimit-remaining"]) == 1


def test_plan_gates_and_anthropic_refusals_count_too(chat_world) -> None:
    gated = post(chat_world.free.key, [{"model": "qwen3", "messages": HI}])[0]
    messages = post(
        chat_world.pro.key, [{"model": "no-such-model", "max_tokens": 5, "messages": HI}], "/v1/messages"
    )[0]

    assert gated.status_code == 403 and gated.headers["x-ratelimit-remaining"]
    assert messages.status_code == 404 and messages.headers["x-ratelimit-remaining"]
    assert messages.json()["type"] == "error"


def test_once_the_ip_is_over_a_refused_request_is_a_429(chat_world) -> None:
    answers = post(chat_world.pro.key, [{"model": "no-such-model", "messages": HI}] * 49)

    assert [a.status_code for a in answers] == [404] * 48 + [429]
    assert answers[-1].json()["error"]["code"] == "rate_limit_exceeded"
    assert "retry-after" in answers[-1].headers
