"""finish_body: reads what is left of a finished stream's body, within bounds."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from shared.providers import http_client
from shared.providers.http_client import finish_body


def test_the_rest_of_a_short_body_is_read() -> None:
    read: list[bytes] = []

    async def body() -> AsyncIterator[bytes]:
        for part in (b"\n", b""):
            read.append(part)
            yield part

    asyncio.run(finish_body(body()))
    assert read == [b"\n", b""]


def test_a_body_that_goes_on_is_left_after_the_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_client, "DRAIN_LIMIT_BYTES", 100)
    sent = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal sent
        while True:
            sent += 10
            yield b"x" * 10

    asyncio.run(finish_body(endless()))
    assert sent == 110, "stopped at the first chunk past the limit"


def test_a_body_that_stalls_is_left_after_the_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(http_client, "DRAIN_TIMEOUT_S", 0.05)

    async def stalled() -> AsyncIterator[bytes]:
        yield b""
        await asyncio.sleep(30)
        yield b"never"

    async def timed() -> float:
        loop = asyncio.get_running_loop()
        start = loop.time()
        await finish_body(stalled())
        return loop.time() - start

    assert asyncio.run(timed()) < 5, "returned on the drain timeout, not after the stall"
