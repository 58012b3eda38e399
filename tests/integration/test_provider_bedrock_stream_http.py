"""The Bedrock adapter's ``converse_stream`` over HTTP, from a fake endpoint that speaks the binary
event stream protocol to a real boto3 client: botocore's own EventStream read as canonical events,
an exception event after content as a classified failure, and a hang-up when the reader stops
early."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from fakes import bedrock_server as wire
from fakes.bedrock_server import FakeBedrock
from provider_bedrock_support import MODEL, ROUTE, WEATHER, collect, failure_of, request

from shared.chat import events as ev
from shared.chat.canonical import FinishReason, Usage
from shared.errors import UpstreamUnavailable
from shared.providers.bedrock import BedrockProvider

# --- converse_stream over HTTP: a real client and botocore's own EventStream ---------------------


@pytest.fixture(scope="module")
def bedrock_http() -> Iterator[tuple[FakeBedrock, str]]:
    server = FakeBedrock()
    with server.serve() as base_url:
        yield server, base_url


@pytest.fixture
def over_http(bedrock_http: tuple[FakeBedrock, str]) -> Iterator[tuple[FakeBedrock, BedrockProvider]]:
    """The fake endpoint, reset, and a provider whose client is a real boto3 client pointed at it."""
    server, base_url = bedrock_http
    server.frames, server.delay, server.endless = [], 0.0, False
    server.bodies.clear()
    server.ended.clear()

    def factory(region: str) -> Any:
        config = Config(retries={"mode": "standard", "total_max_attempts": 1}, read_timeout=5)
        return boto3.session.Session().client(
            "bedrock-runtime",
            region_name=region,
            endpoint_url=base_url,
            aws_access_key_id="test",
            aws_secret_access_key="test",
            config=config,
        )

    yield server, BedrockProvider(client_factory=factory)


def test_a_real_event_stream_over_http(over_http: tuple[FakeBedrock, BedrockProvider]) -> None:
    server, provider = over_http
    server.frames = wire.TOOL_CALL_FRAMES

    events = asyncio.run(collect(provider.stream(request(stream=True, tools=(WEATHER,)), ROUTE)))

    assert events == [
        ev.Start(model=MODEL),
        ev.TextDelta("Checking."),
        ev.ToolCallStart(0, "tu_9", "get_weather"),
        ev.ToolCallArgsDelta(0, '{"city":"Paris"}'),
        ev.Finish(FinishReason.TOOL_CALLS),
        ev.UsageReport(Usage(9, 4)),
    ]
    assert server.bodies[0]["messages"] == [{"role": "user", "content": [{"text": "Weather in Paris?"}]}]


def test_a_real_exception_event_after_content_is_a_classified_failure(
    over_http: tuple[FakeBedrock, BedrockProvider],
) -> None:
    server, provider = over_http
    server.frames = [*wire.TOOL_CALL_FRAMES[:2], wire.exception("throttlingException", "Too many tokens")]
    seen: list[ev.StreamEvent] = []

    async def run() -> None:
        async for item in provider.stream(request(stream=True), ROUTE):
            seen.append(item)

    failure = failure_of(run())

    assert seen == [ev.Start(model=MODEL), ev.TextDelta("Checking.")]
    assert failure.retryable
    assert isinstance(failure.client_error, UpstreamUnavailable)


def test_stopping_early_hangs_up_on_bedrock_and_ends_the_worker(
    over_http: tuple[FakeBedrock, BedrockProvider],
) -> None:
    server, provider = over_http
    server.frames, server.delay, server.endless = wire.TOOL_CALL_FRAMES[:2], 0.02, True

    async def read_three() -> list[ev.StreamEvent]:
        stream = provider.stream(request(stream=True), ROUTE)
        head = [await anext(stream) for _ in range(3)]
        await stream.aclose()  # type: ignore[attr-defined]
        return head

    head = asyncio.run(read_three())

    assert head[:2] == [ev.Start(model=MODEL), ev.TextDelta("Checking.")]
    deadline = time.monotonic() + 5
    while (server.ended == [] or _pump_threads()) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.ended == [True]  # the server saw the client hang up
    assert _pump_threads() == []


def _pump_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "bedrock-converse-stream"]
