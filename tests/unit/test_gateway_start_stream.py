"""start_stream: the upstream call leaves at once, and the HTTP status waits for a fast answer."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
from support.loop_turns import Turns
from test_gateway_accounting import CHEAP, call

from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse, FinishReason
from shared.errors import UpstreamUnavailable
from shared.gateway import streaming
from shared.gateway.streaming import start_stream
from shared.providers.base import UpstreamCallFailed

REQUEST = call(CHEAP).request


class Upstream:
    """A provider whose stream notes the loop turn it was called in, then answers or fails."""

    def __init__(self, turns: Turns, failure: Exception | None = None, pause_s: float = 0.0) -> None:
        self.turns = turns
        self.failure = failure
        self.pause_s = pause_s
        self.called_in: list[int] = []

    async def complete(self, request: ChatRequest, route: UpstreamRoute) -> ChatResponse:
        raise NotImplementedError("streams only")

    async def stream(self, request: ChatRequest, route: UpstreamRoute) -> AsyncIterator[ev.StreamEvent]:
        self.called_in.append(self.turns.now)
        if self.pause_s:
            await asyncio.sleep(self.pause_s)
        if self.failure is not None:
            raise self.failure
        yield ev.Start()
        yield ev.TextDelta("hi")
        yield ev.Finish(FinishReason.STOP)


def test_the_upstream_call_leaves_in_the_loop_turn_that_starts_the_stream() -> None:
    """Not after whatever else is ready to run: the request was built during the admission."""

    async def run() -> tuple[int, list[int], bool]:
        upstream = Upstream(Turns())
        started_in = upstream.turns.now
        task = await start_stream(call(CHEAP), REQUEST, lambda route: upstream)
        return started_in, upstream.called_in, task.done()

    started_in, called_in, done = asyncio.run(run())

    assert called_in == [started_in]
    assert done


def test_an_upstream_that_fails_fast_is_the_clients_error_not_a_stream() -> None:
    async def run() -> None:
        failure = UpstreamCallFailed("bad gateway", retryable=False, client_error=UpstreamUnavailable("down"))
        upstream = Upstream(Turns(), failure=failure)
        await start_stream(call(CHEAP), REQUEST, lambda route: upstream)

    with pytest.raises(UpstreamUnavailable):
        asyncio.run(run())


def test_an_upstream_slower_than_the_first_wait_returns_a_stream_still_opening(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(streaming, "FIRST_WAIT_S", 0.01)

    async def run() -> tuple[bool, bool]:
        upstream = Upstream(Turns(), pause_s=0.05)
        task = await start_stream(call(CHEAP), REQUEST, lambda route: upstream)
        opening = not task.done()
        await task
        return opening, task.done()

    assert asyncio.run(run()) == (True, True)
