"""Retries and fallbacks over fake providers: what is retried, when a route is abandoned, what fails."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from shared.catalog.models import ModelEntry, UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse, Choice, FinishReason, Message, Role, Text, Usage
from shared.errors import InvalidRequest, UpstreamUnavailable
from shared.gateway import router
from shared.providers.base import failed_connect, failed_status

REQUEST = ChatRequest(model="public", messages=(Message(Role.USER, (Text("hi"),)),))
ANSWER = ChatResponse(id="x", model="up", choices=(Choice(0, (Text("ok"),)),), usage=Usage(3, 1))


class Script:
    """A fake provider: per upstream model id, what each successive call does."""

    def __init__(self, plan: dict[str, list[Any]]) -> None:
        self.plan = plan
        self.calls: list[str] = []

    def _next(self, route: UpstreamRoute) -> Any:
        self.calls.append(route.model)
        steps = self.plan[route.model]
        return steps.pop(0) if len(steps) > 1 else steps[0]

    async def complete(self, request: ChatRequest, route: UpstreamRoute) -> ChatResponse:
        step = self._next(route)
        if isinstance(step, Exception):
            raise step
        return ANSWER

    async def stream(self, request: ChatRequest, route: UpstreamRoute) -> AsyncIterator[ev.StreamEvent]:
        step = self._next(route)
        for item in step if isinstance(step, list) else [step]:
            if isinstance(item, Exception):
                raise item
            yield item


def entry(model_id: str, *routes: str, cost: int = 1) -> ModelEntry:
    return ModelEntry(
        id=model_id,
        display_name=model_id,
        tier="pro",
        context_window=1000,
        max_output_tokens=100,
        credit_cost=cost,
        routes=tuple(UpstreamRoute(provider="openai", base_url="http://x", model=r) for r in routes),
    )


@pytest.fixture(autouse=True)
def no_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "BACKOFF_BASE_S", 0.0)


def complete(script: Script, *models: ModelEntry):
    return asyncio.run(router.complete(REQUEST, list(models), lambda route: script))


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


def text_stream(*words: str) -> list[ev.StreamEvent]:
    return [ev.Start(), *(ev.TextDelta(w) for w in words), ev.Finish(FinishReason.STOP)]


async def read_stream(script: Script, *models: ModelEntry) -> tuple[str, list[ev.StreamEvent]]:
    opened = await router.open_stream(REQUEST, list(models), lambda route: script)
    return opened.target.route.model, [event async for event in opened.events()]


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
