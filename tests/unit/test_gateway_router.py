"""Retries and fallbacks over fake providers: what is retried, when a route is abandoned, what fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from support.router_fakes import ANSWER, REQUEST, Script, complete, entry, read_stream, text_stream

from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse, Message, Role, Text
from shared.errors import InvalidRequest, UpstreamUnavailable
from shared.gateway import router
from shared.providers.base import failed_connect, failed_status


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "BACKOFF_BASE_S", 0.0)


def test_a_retryable_failure_is_retried_then_the_next_route_answers() -> None:
    script = Script({"a": [failed_status(503)], "b": ["ok"]})

    target, answer = complete(script, entry("m", "a", "b"))

    assert script.calls == ["a"] * router.ATTEMPTS_PER_ROUTE + ["b"]
    assert target.route.model == "b" and target.entry.id == "m" and answer is ANSWER


def test_a_transient_failure_is_retried_on_the_same_route() -> None:
    script = Script({"a": [failed_connect(OSError()), "ok"], "b": ["ok"]})

    target, _ = complete(script, entry("m", "a", "b"))

    assert script.calls == ["a", "a"] and target.route.model == "a"


def test_a_client_error_is_not_retried_and_reaches_the_client() -> None:
    script = Script({"a": [failed_status(400, message="bad field")], "b": ["ok"]})

    with pytest.raises(InvalidRequest) as refused:
        complete(script, entry("m", "a", "b"))

    assert script.calls == ["a"] and "bad field" in refused.value.message


def test_when_every_route_fails_the_last_failure_is_the_clients_error() -> None:
    script = Script({"a": [failed_status(503)], "b": [failed_status(502)]})

    with pytest.raises(UpstreamUnavailable):
        complete(script, entry("m", "a"), entry("n", "b"))

    assert script.calls == ["a", "a", "b", "b"], "then the next candidate model"


def test_backoff_honours_a_short_retry_after_and_is_jittered_otherwise(monkeypatch) -> None:
    monkeypatch.setattr(router, "BACKOFF_BASE_S", 0.2)

    assert router.backoff(0, 1.5) == 1.5
    assert all(0 <= router.backoff(3, 60.0) <= router.BACKOFF_CAP_S for _ in range(100))
    assert len({router.backoff(1, None) for _ in range(20)}) > 1


def test_a_stream_failing_before_its_first_content_falls_back() -> None:
    script = Script({"a": [[ev.Start(), failed_status(503)]], "b": [text_stream("hello")]})

    route, events = asyncio.run(read_stream(script, entry("m", "a", "b")))

    assert route == "b" and script.calls == ["a", "a", "b"]
    assert [e.text for e in events if isinstance(e, ev.TextDelta)] == ["hello"]


def test_a_stream_failing_after_its_first_content_ends_with_an_error_event() -> None:
    cut = [ev.Start(), ev.TextDelta("partial"), failed_connect(ConnectionResetError())]
    script = Script({"a": [cut], "b": [text_stream("never")]})

    route, events = asyncio.run(read_stream(script, entry("m", "a", "b")))

    assert route == "a" and script.calls == ["a"], "committed: no fallback after output"
    assert isinstance(events[-1], ev.Error) and "could not be reached" in events[-1].message
    assert [e.text for e in events if isinstance(e, ev.TextDelta)] == ["partial"]


def test_an_in_band_error_before_content_counts_as_a_retryable_failure() -> None:
    script = Script({"a": [[ev.Start(), ev.Error("overloaded")]], "b": [text_stream("fine")]})

    route, _ = asyncio.run(read_stream(script, entry("m", "a", "b")))

    assert route == "b"


def test_a_stream_with_no_route_at_all_is_unavailable() -> None:
    with pytest.raises(UpstreamUnavailable):
        asyncio.run(read_stream(Script({}), entry("m")))


def test_upstream_failures_are_typed_for_the_router() -> None:
    assert (
        failed_status(429, retry_after=2.0).retryable
        and failed_status(429, retry_after=2.0).retry_after == 2.0
    )
    assert failed_status(401).retryable, "a gateway credential problem: try another route"
    assert not failed_status(422).retryable
    assert failed_status(404).client_error.status == 502, "the operator's problem, not the caller's"


class Preparing(Script):
    """A fake provider that can build its upstream request ahead (``prepare``), as the HTTP
    providers do; each call records what it was handed."""

    def __init__(self, plan: dict[str, list[Any]], *, fail_prepare: bool = False) -> None:
        super().__init__(plan)
        self.fail_prepare = fail_prepare
        self.prepared: list[tuple[str, bool]] = []  # (upstream model, stream) per prepare
        self.handed: list[Any] = []  # per call: what ``prepared`` was (None: built by the call)

    def prepare(self, request: ChatRequest, route: UpstreamRoute, *, stream: bool) -> Any:
        self.prepared.append((request.model, stream))
        if self.fail_prepare:
            raise ValueError("cannot build")
        return ("built", request.model, stream)

    async def complete(
        self, request: ChatRequest, route: UpstreamRoute, prepared: Any = None
    ) -> ChatResponse:
        self.handed.append(prepared)
        return await super().complete(request, route)

    async def stream(
        self, request: ChatRequest, route: UpstreamRoute, prepared: Any = None
    ) -> AsyncIterator[ev.StreamEvent]:
        self.handed.append(prepared)
        async for event in super().stream(request, route):
            yield event


def test_a_request_built_ahead_is_what_the_first_attempt_sends() -> None:
    script = Preparing({"a": ["ok"]})
    models = [entry("m", "a")]
    ahead = router.FirstRequest(REQUEST, models, lambda route: script)

    ahead.build()
    asyncio.run(router.complete(REQUEST, models, lambda route: script, ahead))

    assert script.prepared == [("a", False)], "built once, for the first route's upstream model"
    assert script.handed == [("built", "a", False)]


def test_retries_and_fallbacks_build_their_own_request() -> None:
    script = Preparing({"a": [failed_status(503)], "b": ["ok"]})
    models = [entry("m", "a", "b")]
    ahead = router.FirstRequest(REQUEST, models, lambda route: script)

    ahead.build()
    target, _ = asyncio.run(router.complete(REQUEST, models, lambda route: script, ahead))

    assert target.route.model == "b"
    assert script.handed == [("built", "a", False), None, None]


def test_a_stream_gets_a_streaming_request_built_ahead() -> None:
    streamed = ChatRequest(model="public", messages=REQUEST.messages, stream=True)
    script = Preparing({"a": [text_stream("hi")]})
    models = [entry("m", "a")]
    ahead = router.FirstRequest(streamed, models, lambda route: script)

    ahead.build()
    opened = asyncio.run(router.open_stream(streamed, models, lambda route: script, ahead))

    assert opened.target.route.model == "a"
    assert script.handed == [("built", "a", True)]


def test_a_build_that_fails_is_left_to_the_call() -> None:
    script = Preparing({"a": ["ok"]}, fail_prepare=True)
    models = [entry("m", "a")]
    ahead = router.FirstRequest(REQUEST, models, lambda route: script)

    ahead.build()  # the failure is not raised here (an event loop callback)
    asyncio.run(router.complete(REQUEST, models, lambda route: script, ahead))

    assert script.handed == [None], "the call builds its request itself, and would fail there"


def test_a_build_that_comes_too_late_does_nothing() -> None:
    script = Preparing({"a": ["ok"]})
    models = [entry("m", "a")]
    ahead = router.FirstRequest(REQUEST, models, lambda route: script)

    asyncio.run(router.complete(REQUEST, models, lambda route: script, ahead))
    ahead.build()

    assert script.handed == [None] and script.prepared == [], "never built twice"


def test_a_request_built_ahead_is_only_used_for_the_same_request() -> None:
    script = Preparing({"a": ["ok"]})
    models = [entry("m", "a")]
    ahead = router.FirstRequest(REQUEST, models, lambda route: script)
    other = ChatRequest(model="public", messages=(Message(Role.USER, (Text("other"),)),))

    ahead.build()
    asyncio.run(router.complete(other, models, lambda route: script, ahead))

    assert script.handed == [None]


def test_providers_that_cannot_build_ahead_are_called_as_before() -> None:
    script = Script({"a": ["ok"]})  # no ``prepare``, and no ``prepared`` parameter
    models = [entry("m", "a")]
    ahead = router.FirstRequest(REQUEST, models, lambda route: script)

    ahead.build()
    target, answer = asyncio.run(router.complete(REQUEST, models, lambda route: script, ahead))

    assert target.route.model == "a" and answer is ANSWER
