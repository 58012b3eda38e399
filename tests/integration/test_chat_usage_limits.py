"""SPEC "Usage limits" through POST /v1/chat/completions, every row, Free and Pro.

Each limit is probed at the limit (served) and one past it (refused). Refused requests are sent
nowhere and charged nothing: the recording upstream behind every model sees no request, no usage
event is queued and the balance is unchanged.
"""

from __future__ import annotations

import asyncio
import base64
import json
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

from shared.catalog.loader import load_catalog_file

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)
# Per plan: the model a key may call, body bytes, one message, all messages, max_tokens cap.
LIMITS = {
    "free": ("hrllm", 64 * 1024, 8_000, 32_000, 4_096),
    "pro": ("kimi-k2", 256 * 1024, 24_000, 120_000, 8_192),
}
PLANS = ["free", "pro"]


@pytest.fixture
def world(chat_world):
    return chat_world


@pytest.fixture
def recorder(chat_world) -> Iterator[RecordingUpstream]:
    upstream = RecordingUpstream()
    with LoopbackServer(upstream) as server:
        ids = [m.id for m in load_catalog_file().models if m.routes]
        install_catalog(routes={i: [openai_route(f"{server.url}/v1", i)] for i in ids})
        yield upstream


def post_raw(key: str, raw: bytes) -> httpx.Response:
    async def go() -> httpx.Response:
        async with chat_http() as http:
            headers = {"Authorization": f"Bearer {key}", "Content-Type": "application/json"}
            return await http.post("/v1/chat/completions", content=raw, headers=headers)

    return asyncio.run(go())


def post(key: str, body: dict[str, Any]) -> httpx.Response:
    return post_raw(key, json.dumps(body, ensure_ascii=False).encode())  # UTF-8 on the wire, as SDKs send


def body_for(plan: str, messages: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {"model": LIMITS[plan][0], "max_tokens": 16, "messages": messages, **extra}


def user(content: Any) -> dict[str, Any]:
    return {"role": "user", "content": content}


def conversation(count: int, each: int, last: int | None = None) -> list[dict[str, Any]]:
    """``count`` alternating user/assistant messages of ``each`` characters (the last: ``last``)."""
    sizes = [each] * (count - 1) + [each if last is None else last]
    return [{"role": "user" if i % 2 == 0 else "assistant", "content": "a" * n} for i, n in enumerate(sizes)]


def padded_to(plan: str, size: int) -> bytes:
    """A valid request of exactly ``size`` bytes, padded by a system prompt (not message content)."""
    body = body_for(plan, [{"role": "system", "content": ""}, user("hi")])
    body["messages"][0]["content"] = "s" * (size - len(json.dumps(body).encode()))
    raw = json.dumps(body).encode()
    assert len(raw) == size
    return raw


def assert_refused(response: httpx.Response, status: int, limit: str, world, recorder) -> None:
    assert response.status_code == status, response.text[:300]
    assert limit in response.json()["error"]["message"], "the message names the limit"
    assert recorder.calls == [], "nothing sent upstream"
    assert queued_usage_events(world.usage_queue) == [], "nothing reserved or charged"


def served_then_forgotten(response: httpx.Response, world, recorder) -> None:
    """The request at the limit was served; clear its traces before probing one past it."""
    assert response.status_code == 200, response.text[:300]
    assert len(recorder.calls) == 1
    queued_usage_events(world.usage_queue)
    recorder.calls.clear()


def account_of(world, plan: str):
    return world.pro if plan == "pro" else world.free


@pytest.mark.parametrize("plan", PLANS)
def test_request_body_over_the_plan_limit_is_413(world, recorder, plan) -> None:
    account, limit = account_of(world, plan), LIMITS[plan][1]

    served_then_forgotten(post_raw(account.key, padded_to(plan, limit)), world, recorder)
    over = post_raw(account.key, padded_to(plan, limit + 1))

    assert_refused(over, 413, f"{limit // 1024} KB", world, recorder)
    assert over.json()["error"]["code"] == "request_too_large"
    assert account.balance() == (999 if plan == "pro" else 99), "only the served request was charged"


@pytest.mark.parametrize("plan", PLANS)
def test_one_message_over_the_plan_limit_is_400_naming_it(world, recorder, plan) -> None:
    account, per_message = account_of(world, plan), LIMITS[plan][2]

    served_then_forgotten(post(account.key, body_for(plan, [user("a" * per_message)])), world, recorder)
    over = post(account.key, body_for(plan, [user("a" * (per_message + 1))]))

    assert_refused(over, 400, f"{per_message:,} per message", world, recorder)
    assert over.json()["error"]["param"] == "messages.0.content"


@pytest.mark.parametrize("plan", PLANS)
def test_all_messages_over_the_plan_limit_is_400_naming_it(world, recorder, plan) -> None:
    account, per_message, total = account_of(world, plan), LIMITS[plan][2], LIMITS[plan][3]
    count = total // per_message + 1  # each message well within its own limit
    count += 1 - count % 2  # odd: the conversation ends with the user
    each = total // count
    last = total - each * (count - 1)

    served_then_forgotten(post(account.key, body_for(plan, conversation(count, each, last))), world, recorder)
    over = post(account.key, body_for(plan, conversation(count, each, last + 1)))

    assert_refused(over, 400, f"allows {total:,}", world, recorder)
    assert over.json()["error"]["param"] == "messages"


@pytest.mark.parametrize("plan", PLANS)
@pytest.mark.parametrize("field", ["max_tokens", "max_completion_tokens"])
def test_max_tokens_over_the_plan_cap_is_clamped_not_refused(world, recorder, plan, field) -> None:
    account, cap = account_of(world, plan), LIMITS[plan][4]
    body = {"model": LIMITS[plan][0], field: cap + 1, "messages": [user("x")]}

    over = post(account.key, body)
    at_cap = post(account.key, {**body, field: cap})

    assert over.status_code == at_cap.status_code == 200
    assert over.headers["x-sluice-max-tokens-clamped"] == str(cap)
    assert "x-sluice-max-tokens-clamped" not in at_cap.headers
    assert [c.body["max_tokens"] for c in recorder.calls] == [cap, cap], "the upstream got the cap"


@pytest.mark.parametrize("char", ["č", "😀"])
def test_characters_not_bytes_are_counted(world, recorder, char) -> None:
    allowed = char * 8_000
    assert len(allowed.encode()) > 8_000

    served_then_forgotten(post(world.free.key, body_for("free", [user(allowed)])), world, recorder)
    over = post(world.free.key, body_for("free", [user(allowed + char)]))

    assert_refused(over, 400, "8,000 per message", world, recorder)


def test_image_parts_do_not_count_as_characters(world, recorder) -> None:
    per_message = LIMITS["pro"][2]
    url = "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()

    def with_text(n: int) -> dict[str, Any]:
        content = [{"type": "image_url", "image_url": {"url": url}}, {"type": "text", "text": "a" * n}]
        return {"model": "kimi-k2.5", "max_tokens": 16, "messages": [user(content)]}

    served = post(world.pro.key, with_text(per_message))
    assert recorder.calls[0].body["messages"][0]["content"][0]["type"] == "image_url", "the image went up"
    served_then_forgotten(served, world, recorder)
    over = post(world.pro.key, with_text(per_message + 1))

    assert_refused(over, 400, f"{per_message:,} per message", world, recorder)
