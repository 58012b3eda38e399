"""The 413 of a chat body over a limit names the limit that applies to the caller.

The body is read before the key is checked, up to the largest plan's limit (256 KB). A body over
it is refused there; the 413 still names the caller's plan and its limit when the key is valid,
and, without a valid key, says that no plan allows more. Both wire formats, both plans, a body
that declares its length and one that arrives in chunks without it.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from chat_support import chat_http

FIVE_MB = 5 * 1024 * 1024
PATHS = ["/v1/chat/completions", "/v1/messages", "/v1/messages/count_tokens"]


def post(path: str, size: int, key: str | None, *, chunked: bool = False) -> httpx.Response:
    """``size`` bytes of (unparsed) body: the limit is checked before any parsing."""
    headers = {"Content-Type": "application/json"}
    if key is not None:
        headers["Authorization"] = f"Bearer {key}"

    async def chunks() -> AsyncIterator[bytes]:
        for start in range(0, size, 64 * 1024):
            yield b"x" * min(64 * 1024, size - start)

    async def go() -> httpx.Response:
        content: Any = chunks() if chunked else b"x" * size
        async with chat_http() as http:
            return await http.post(path, content=content, headers=headers)

    return asyncio.run(go())


def message_of(response: httpx.Response, path: str) -> str:
    assert response.status_code == 413, response.text[:300]
    body = response.json()
    if path.startswith("/v1/messages"):
        assert body["type"] == "error" and body["error"]["type"] == "request_too_large"
    else:
        assert body["error"]["code"] == "request_too_large"
        assert body["error"]["type"] == "invalid_request_error"
    return body["error"]["message"]


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize(
    ("plan", "limit"), [("free", "the Free plan allows 64 KB"), ("pro", "the Pro plan allows 256 KB")]
)
def test_a_body_over_every_plan_limit_names_the_callers_plan(chat_world, path, plan, limit) -> None:
    account = chat_world.pro if plan == "pro" else chat_world.free

    response = post(path, FIVE_MB, account.key)

    assert message_of(response, path) == f"Request body is 5,242,880 bytes; {limit}."
    assert response.headers["x-credits-remaining"] == str(account.balance()), "the caller is known"


@pytest.mark.parametrize("path", PATHS)
def test_a_pro_body_just_over_its_limit_names_the_pro_plan(chat_world, path) -> None:
    response = post(path, 256 * 1024 + 1, chat_world.pro.key)

    assert message_of(response, path) == "Request body is 262,145 bytes; the Pro plan allows 256 KB."


@pytest.mark.parametrize("path", PATHS)
def test_a_chunked_body_over_every_limit_names_the_plan_without_a_size(chat_world, path) -> None:
    response = post(path, 300 * 1024, chat_world.free.key, chunked=True)

    assert message_of(response, path) == "Request body is over 256 KB; the Free plan allows 64 KB."


@pytest.mark.parametrize("path", PATHS)
@pytest.mark.parametrize("key", [None, "sk_sluice_" + "x" * 43], ids=["no_key", "unknown_key"])
def test_without_a_valid_key_the_413_says_the_largest_any_plan_allows(chat_world, path, key) -> None:
    response = post(path, FIVE_MB, key)

    assert message_of(response, path) == (
        "Request body is 5,242,880 bytes; no plan allows more than 256 KB (the Pro plan's limit)."
    )
    assert "x-credits-remaining" not in response.headers
