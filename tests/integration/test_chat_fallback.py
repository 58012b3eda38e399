"""Retries and fallbacks before the first byte, and what reaches the client when every route fails.

Upstreams are real servers on loopback: the simulator behind a recorder (it sees every attempt),
a recorder that always answers 503, or a port nobody listens on.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from chat_support import (
    LoopbackServer,
    RecordingUpstream,
    chat_http,
    install_catalog,
    openai_route,
    queued_usage_events,
)

from shared.catalog.models import UpstreamRoute
from shared.gateway import router, streaming
from shared.providers import http_client
from shared.settings import get_settings
from sluice.local.moto_server import free_port


@pytest.fixture(autouse=True)
def quick_backoff(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(router, "BACKOFF_BASE_S", 0.01)


@pytest.fixture
def failing() -> Iterator[tuple[RecordingUpstream, str]]:
    upstream = RecordingUpstream(fail_status=503)
    with LoopbackServer(upstream) as server:
        yield upstream, f"{server.url}/v1"


@pytest.fixture
def healthy() -> Iterator[tuple[RecordingUpstream, str]]:
    upstream = RecordingUpstream()
    with LoopbackServer(upstream) as server:
        yield upstream, f"{server.url}/v1"


def sdk(key: str, http) -> Any:
    return openai.AsyncOpenAI(base_url="http://sluice.test/v1", api_key=key, http_client=http, max_retries=0)


def ask(key: str, content: str, *, model: str = "qwen3", stream: bool = False):
    """The completion (or every streamed chunk) for one user message, through the SDK."""

    async def go():
        async with chat_http() as http:
            messages = [{"role": "user", "content": content}]
            answer = await sdk(key, http).chat.completions.create(
                model=model, messages=messages, stream=stream
            )
            return [chunk async for chunk in answer] if stream else answer

    return asyncio.run(go())


def streamed_text(chunks) -> str:
    return "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)


@pytest.mark.parametrize("stream", [False, True])
def test_route_one_returns_503_so_route_two_answers(chat_world, failing, healthy, stream) -> None:
    (bad, bad_url), (good, good_url) = failing, healthy
    install_catalog(routes={"qwen3": [openai_route(bad_url, "first"), openai_route(good_url, "second")]})

    answer = ask(chat_world.pro.key, "who answers", stream=stream)

    text = streamed_text(answer) if stream else answer.choices[0].message.content
    assert text.startswith("Simulated reply to: who answers")
    assert len(bad.calls) == router.ATTEMPTS_PER_ROUTE, "route 1 was retried, then abandoned"
    assert [c.body["model"] for c in good.calls] == ["second"]
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is True and event["routed_model"] == "qwen3"
    assert chat_world.pro.balance() == 999, "charged once"


def test_a_dead_route_falls_back_to_the_next(chat_world, healthy) -> None:
    good, good_url = healthy
    dead = f"http://127.0.0.1:{free_port()}/v1"
    install_catalog(routes={"qwen3": [openai_route(dead), openai_route(good_url)]})

    completion = ask(chat_world.pro.key, "anyone home")

    assert completion.choices[0].message.content.startswith("Simulated reply to: anyone home")
    assert len(good.calls) == 1


def test_a_transient_503_is_retried_on_the_same_route(chat_world, healthy) -> None:
    good, good_url = healthy
    install_catalog(routes={"qwen3": [openai_route(good_url)]})
    marker = f"[sim:fail_times=1;key={uuid.uuid4().hex};fault=http_503]"

    completion = ask(chat_world.pro.key, f"{marker} try again")

    assert completion.choices[0].message.content.startswith("Simulated reply to: try again")
    assert len(good.calls) == 2, "one failed attempt, one retry"
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_every_route_failing_is_a_503_json_error_and_nothing_is_charged(chat_world, failing, stream) -> None:
    bad, bad_url = failing
    install_catalog(routes={"qwen3": [openai_route(bad_url, "a"), openai_route(bad_url, "b")]})

    with pytest.raises(openai.InternalServerError) as failed:
        ask(chat_world.pro.key, "hello", stream=stream)

    assert failed.value.status_code == 503
    assert failed.value.code == "upstream_unavailable" and failed.value.type == "api_error"
    assert failed.value.response.headers["x-request-id"]
    assert len(bad.calls) == 2 * router.ATTEMPTS_PER_ROUTE
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is False and event["status"] == 503
    assert chat_world.pro.balance() == 1000


def test_an_upstream_400_is_the_clients_400_without_retries(chat_world, healthy) -> None:
    good, good_url = healthy
    install_catalog(routes={"qwen3": [openai_route(good_url)]})

    with pytest.raises(openai.BadRequestError) as failed:
        ask(chat_world.pro.key, "[sim:fault=http_400] bad")

    assert "Simulated bad request" in failed.value.message
    assert len(good.calls) == 1, "a 400 is the request's fault: not retried, no fallback"
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is False and event["status"] == 400
    assert chat_world.pro.balance() == 1000


@pytest.fixture
def short_read_timeout(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("SLUICE_UPSTREAM_READ_TIMEOUT", "0.3")
    monkeypatch.setattr(http_client, "_clients", {})  # a new pooled client, with the new timeout
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_an_upstream_hanging_past_the_read_timeout_is_a_504(chat_world, short_read_timeout) -> None:
    with pytest.raises(openai.InternalServerError) as failed:
        ask(chat_world.pro.key, "[sim:fault=hang;hang_seconds=30] hello")

    assert failed.value.status_code == 504 and failed.value.code == "upstream_timeout"
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is False
    assert chat_world.pro.balance() == 1000


def test_a_stream_whose_upstream_times_out_ends_with_an_error_event(
    chat_world, short_read_timeout, monkeypatch
) -> None:
    monkeypatch.setattr(streaming, "FIRST_WAIT_S", 0.05)  # the 200 has gone out before the timeout
    monkeypatch.setattr(streaming, "KEEPALIVE_S", 0.1)

    async def go() -> tuple[int, list[str]]:
        async with chat_http() as http:
            body = {
                "model": "qwen3",
                "stream": True,
                "messages": [{"role": "user", "content": "[sim:fault=hang;hang_seconds=30] hello"}],
            }
            headers = {"Authorization": f"Bearer {chat_world.pro.key}"}
            response = await http.post("/v1/chat/completions", json=body, headers=headers)
            return response.status_code, response.text.splitlines()

    status, lines = asyncio.run(go())

    assert status == 200
    assert ": keep-alive" in lines
    data = [json.loads(line[6:]) for line in lines if line.startswith("data: {")]
    assert [set(d) for d in data] == [{"error"}]
    assert "did not answer in time" in data[0]["error"]["message"]
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is False and event["status"] == 504
    assert chat_world.pro.balance() == 1000


def test_auto_names_the_candidate_that_answered_when_the_first_failed_after_the_response_began(
    chat_world, monkeypatch
) -> None:
    """The first ``auto`` candidate fails only after the stream's response has begun (its head not
    yet sent): the header and every chunk name the candidate that answered."""
    monkeypatch.setattr(streaming, "FIRST_WAIT_S", 0.05)
    slow_failure = RecordingUpstream(fail_status=503, fail_after_s=0.1)
    with LoopbackServer(slow_failure) as bad, LoopbackServer(RecordingUpstream()) as good:
        install_catalog(
            routes={
                "hrllm": [openai_route(f"{bad.url}/v1", "hrllm")],
                "qwen3": [openai_route(f"{good.url}/v1", "qwen3")],
            }
        )

        async def go():
            async with chat_http() as http:
                body = {"model": "auto", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
                headers = {"Authorization": f"Bearer {chat_world.pro.key}"}
                return await http.post("/v1/chat/completions", json=body, headers=headers)

        response = asyncio.run(go())

    assert len(slow_failure.calls) == router.ATTEMPTS_PER_ROUTE, "the first candidate failed slowly"
    assert response.status_code == 200
    assert response.headers["x-sluice-model"] == "qwen3"
    chunks = [json.loads(line[6:]) for line in response.text.splitlines() if line.startswith("data: {")]
    assert chunks and {chunk["model"] for chunk in chunks} == {"qwen3"}
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["routed_model"] == "qwen3" and event["charged"] is True


@pytest.mark.parametrize("stream", [False, True])
def test_a_route_that_cannot_carry_n_2_is_passed_over_for_one_that_can(chat_world, healthy, stream) -> None:
    """Anthropic's Messages API has no ``n``: that route refuses before calling, and the
    OpenAI-compatible route after it answers both choices; charged once."""
    good, good_url = healthy
    anthropic = UpstreamRoute(
        provider="anthropic", base_url=f"http://127.0.0.1:{free_port()}", model="claude"
    )
    install_catalog(routes={"qwen3": [anthropic, openai_route(good_url)]})

    async def go():
        async with chat_http() as http:
            messages = [{"role": "user", "content": "two ways"}]
            answer = await sdk(chat_world.pro.key, http).chat.completions.create(
                model="qwen3", messages=messages, n=2, stream=stream
            )
            return [chunk async for chunk in answer] if stream else answer

    answer = asyncio.run(go())

    indexes = (
        {c.choices[0].index for c in answer if c.choices} if stream else {c.index for c in answer.choices}
    )
    assert indexes == {0, 1}
    assert [c.body["n"] for c in good.calls] == [2]
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["charged"] is True
    assert chat_world.pro.balance() == 999
