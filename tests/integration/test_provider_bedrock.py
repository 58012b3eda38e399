"""The Bedrock adapter: ``converse`` through botocore's Stubber on a real client; ``converse_stream``
through a fake client whose stream yields the dicts botocore yields (slowly, from a blocking
iterator, as the real EventStream does), and over HTTP from a fake endpoint that speaks the
binary event stream protocol to a real boto3 client."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterable, Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import EventStreamError
from botocore.stub import Stubber
from fakes import bedrock_server as wire
from fakes.bedrock_server import FakeBedrock

from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import (
    ChatRequest,
    FinishReason,
    Image,
    Message,
    Reasoning,
    Role,
    Sampling,
    Text,
    Tool,
    ToolCall,
    Usage,
)
from shared.errors import InvalidRequest, UpstreamError, UpstreamUnavailable
from shared.providers.base import UpstreamCallFailed
from shared.providers.bedrock import BedrockProvider
from shared.settings import get_settings

MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"
type Stubbed = tuple[BedrockProvider, Stubber, list[str]]
ROUTE = UpstreamRoute(provider="bedrock", model=MODEL, region="eu-west-1")
WEATHER = Tool("get_weather", {"type": "object", "properties": {"city": {"type": "string"}}})


def request(**changes: Any) -> ChatRequest:
    messages = (Message(Role.USER, (Text("Weather in Paris?"),)),)
    return ChatRequest(**{"model": "sluice-smart", "messages": messages, "max_tokens": 200, **changes})


def failure_of(coro: Any) -> UpstreamCallFailed:
    with pytest.raises(UpstreamCallFailed) as caught:
        asyncio.run(coro)
    return caught.value


async def collect(events: AsyncIterator[ev.StreamEvent]) -> list[ev.StreamEvent]:
    return [event async for event in events]


# --- converse, with botocore's Stubber -----------------------------------------------------------


@pytest.fixture(scope="module")
def client() -> Any:
    return boto3.session.Session().client(
        "bedrock-runtime", region_name="eu-west-1", aws_access_key_id="test", aws_secret_access_key="test"
    )


@pytest.fixture
def stubbed(client: Any) -> Iterator[Stubbed]:
    """A provider whose clients are one real, stubbed bedrock-runtime client (regions recorded)."""
    regions: list[str] = []

    def factory(region: str) -> Any:
        regions.append(region)
        return client

    with Stubber(client) as stubber:
        yield BedrockProvider(client_factory=factory), stubber, regions
        stubber.assert_no_pending_responses()


def answer(content: list[Any], stop: str = "end_turn") -> dict[str, Any]:
    return {
        "output": {"message": {"role": "assistant", "content": content}},
        "stopReason": stop,
        "usage": {"inputTokens": 12, "outputTokens": 7, "totalTokens": 19},
        "metrics": {"latencyMs": 250},
    }


def test_converse_sends_the_mapped_request_and_reads_text(stubbed: Stubbed) -> None:
    provider, stubber, regions = stubbed
    expected = {
        "modelId": MODEL,
        "messages": [{"role": "user", "content": [{"text": "Weather in Paris?"}]}],
        "system": [{"text": "Be brief."}],
        "inferenceConfig": {"maxTokens": 200, "temperature": 0.5},
    }
    stubber.add_response("converse", answer([{"text": "Sunny, 21°C."}]), expected)

    result = asyncio.run(
        provider.complete(request(system=(Text("Be brief."),), sampling=Sampling(temperature=0.5)), ROUTE)
    )

    assert result.choices[0].parts == (Text("Sunny, 21°C."),)
    assert result.choices[0].finish is not None and result.choices[0].finish.reason is FinishReason.STOP
    assert result.usage == Usage(12, 7)
    assert result.model == MODEL
    assert regions == ["eu-west-1"]


def test_converse_reads_tool_use_and_reasoning(stubbed: Stubbed) -> None:
    provider, stubber, _ = stubbed
    content = [
        {"reasoningContent": {"reasoningText": {"text": "Use the tool.", "signature": "sig"}}},
        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
    ]
    stubber.add_response("converse", answer(content, stop="tool_use"))

    result = asyncio.run(provider.complete(request(tools=(WEATHER,)), ROUTE))

    assert result.choices[0].parts == (
        Reasoning("Use the tool.", signature="sig"),
        ToolCall("tooluse_1", "get_weather", '{"city": "Paris"}'),
    )
    assert result.choices[0].finish is not None and result.choices[0].finish.reason is FinishReason.TOOL_CALLS


def test_clients_are_built_once_per_region(stubbed: Stubbed) -> None:
    provider, stubber, regions = stubbed
    stubber.add_response("converse", answer([{"text": "a"}]))
    stubber.add_response("converse", answer([{"text": "b"}]))
    stubber.add_response("converse", answer([{"text": "c"}]))

    async def three() -> None:
        await provider.complete(request(), ROUTE)
        await provider.complete(request(), ROUTE)
        await provider.complete(request(), UpstreamRoute(provider="bedrock", model=MODEL))

    get_settings.cache_clear()
    asyncio.run(three())
    assert regions == ["eu-west-1", get_settings().region]


@pytest.mark.parametrize(
    ("code", "status", "retryable", "client_type"),
    [
        ("ThrottlingException", 429, True, UpstreamUnavailable),
        ("ServiceUnavailableException", 503, True, UpstreamUnavailable),
        ("ModelNotReadyException", 429, True, UpstreamUnavailable),
        ("ValidationException", 400, False, InvalidRequest),
        ("AccessDeniedException", 403, True, UpstreamError),
    ],
)
def test_converse_errors_are_classified(
    stubbed: Stubbed, code: str, status: int, retryable: bool, client_type: type
) -> None:
    provider, stubber, _ = stubbed
    stubber.add_client_error(
        "converse", service_error_code=code, service_message="nope", http_status_code=status
    )

    failure = failure_of(provider.complete(request(), ROUTE))

    assert failure.retryable is retryable
    assert type(failure.client_error) is client_type


def test_a_url_image_is_refused_before_any_call(stubbed: Stubbed) -> None:
    provider, _, regions = stubbed
    with pytest.raises(InvalidRequest):
        asyncio.run(
            provider.complete(request(messages=(Message(Role.USER, (Image(url="https://x/y.png"),)),)), ROUTE)
        )
    assert regions == []


# --- converse_stream, with a fake client ---------------------------------------------------------


class FakeEventStream:
    """Blocking iteration like botocore's EventStream; an Exception item is raised, as botocore
    raises EventStreamError for an exception event."""

    def __init__(self, events: Iterable[Any], delay: float) -> None:
        self._events = list(events)
        self._delay = delay
        self.closed = threading.Event()
        self.finished = threading.Event()

    def __iter__(self) -> Iterator[dict[str, Any]]:
        try:
            for item in self._events:
                if self.closed.wait(self._delay):  # a closed connection ends the read
                    raise ConnectionError("stream closed")
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.finished.set()

    def close(self) -> None:
        self.closed.set()


class FakeClient:
    def __init__(self, events: Iterable[Any], delay: float = 0.0) -> None:
        self.stream = FakeEventStream(events, delay)
        self.calls: list[dict[str, Any]] = []
        self.threads: list[str] = []

    def converse_stream(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        self.threads.append(threading.current_thread().name)
        return {"stream": self.stream}


STREAM: list[dict[str, Any]] = [
    {"messageStart": {"role": "assistant"}},
    {
        "contentBlockDelta": {
            "delta": {"reasoningContent": {"text": "The user wants weather."}},
            "contentBlockIndex": 0,
        }
    },
    {"contentBlockDelta": {"delta": {"reasoningContent": {"signature": "sig-1"}}, "contentBlockIndex": 0}},
    {"contentBlockStop": {"contentBlockIndex": 0}},
    {"contentBlockDelta": {"delta": {"text": "Let me "}, "contentBlockIndex": 1}},
    {"contentBlockDelta": {"delta": {"text": "check."}, "contentBlockIndex": 1}},
    {"contentBlockStop": {"contentBlockIndex": 1}},
    {
        "contentBlockStart": {
            "start": {"toolUse": {"toolUseId": "tu_1", "name": "get_weather"}},
            "contentBlockIndex": 2,
        }
    },
    {"contentBlockDelta": {"delta": {"toolUse": {"input": '{"city":'}}, "contentBlockIndex": 2}},
    {"contentBlockDelta": {"delta": {"toolUse": {"input": ' "Paris"}'}}, "contentBlockIndex": 2}},
    {"contentBlockStop": {"contentBlockIndex": 2}},
    {"messageStop": {"stopReason": "tool_use"}},
    {
        "metadata": {
            "usage": {"inputTokens": 30, "outputTokens": 12, "totalTokens": 52, "cacheReadInputTokens": 10},
            "metrics": {"latencyMs": 400},
        }
    },
]


def streaming(client: FakeClient) -> BedrockProvider:
    return BedrockProvider(client_factory=lambda region: client)


def test_stream_text_tool_use_reasoning_and_usage() -> None:
    client = FakeClient(STREAM)

    events = asyncio.run(collect(streaming(client).stream(request(stream=True, tools=(WEATHER,)), ROUTE)))

    assert events == [
        ev.Start(model=MODEL),
        ev.ReasoningDelta("The user wants weather."),
        ev.ReasoningSignature("sig-1"),
        ev.TextDelta("Let me "),
        ev.TextDelta("check."),
        ev.ToolCallStart(0, "tu_1", "get_weather"),
        ev.ToolCallArgsDelta(0, '{"city":'),
        ev.ToolCallArgsDelta(0, ' "Paris"}'),
        ev.Finish(FinishReason.TOOL_CALLS),
        ev.UsageReport(Usage(40, 12, cache_read_tokens=10)),
    ]
    assert client.calls[0]["modelId"] == MODEL
    assert client.calls[0]["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    assert client.threads[0] != threading.main_thread().name  # the blocking call ran off the loop


def test_the_event_loop_stays_responsive_while_a_slow_stream_is_read() -> None:
    client = FakeClient(STREAM, delay=0.05)  # ~0.65 s of blocking reads

    async def run() -> tuple[list[ev.StreamEvent], int]:
        ticks = 0
        done = asyncio.Event()

        async def ticker() -> None:
            nonlocal ticks
            while not done.is_set():
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        events = await collect(streaming(client).stream(request(stream=True), ROUTE))
        done.set()
        await task
        return events, ticks

    events, ticks = asyncio.run(run())

    assert isinstance(events[-1], ev.UsageReport)
    assert ticks >= 20  # a blocked loop would tick once or twice


@pytest.mark.parametrize(
    ("exception", "retryable", "client_type"),
    [
        ("throttlingException", True, UpstreamUnavailable),
        ("serviceUnavailableException", True, UpstreamUnavailable),
        ("modelStreamErrorException", True, UpstreamUnavailable),
        ("internalServerException", True, UpstreamUnavailable),
        ("validationException", False, InvalidRequest),
    ],
)
def test_stream_exception_events_are_classified(exception: str, retryable: bool, client_type: type) -> None:
    as_dict = FakeClient([STREAM[0], {exception: {"message": "boom"}}])
    as_raised = FakeClient(
        [STREAM[0], EventStreamError({"Error": {"Code": exception, "Message": "boom"}}, "ConverseStream")]
    )

    for client in (as_dict, as_raised):
        failure = failure_of(collect(streaming(client).stream(request(stream=True), ROUTE)))
        assert failure.retryable is retryable
        assert type(failure.client_error) is client_type


def test_a_stream_that_ends_without_message_stop_is_a_retryable_failure() -> None:
    failure = failure_of(collect(streaming(FakeClient(STREAM[:6])).stream(request(stream=True), ROUTE)))
    assert failure.retryable


def test_stopping_early_closes_the_event_stream_and_ends_the_worker() -> None:
    client = FakeClient(STREAM, delay=0.05)

    async def first_text() -> ev.StreamEvent:
        stream = streaming(client).stream(request(stream=True), ROUTE)
        async for event in stream:
            if isinstance(event, ev.ReasoningDelta):
                await stream.aclose()  # type: ignore[attr-defined]
                return event
        raise AssertionError("no reasoning")

    assert asyncio.run(first_text()) == ev.ReasoningDelta("The user wants weather.")
    assert client.stream.closed.is_set()
    assert client.stream.finished.wait(2)  # the worker stopped reading


def test_opening_the_stream_can_fail_like_converse() -> None:
    class Throttled(FakeClient):
        def converse_stream(self, **kwargs: Any) -> dict[str, Any]:
            raise EventStreamError(
                {"Error": {"Code": "ThrottlingException", "Message": "slow"}}, "ConverseStream"
            )

    failure = failure_of(collect(streaming(Throttled([])).stream(request(stream=True), ROUTE)))
    assert failure.retryable


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


HTTP_FRAMES = [
    wire.event("messageStart", {"role": "assistant"}),
    wire.event("contentBlockDelta", {"delta": {"text": "Checking."}, "contentBlockIndex": 0}),
    wire.event("contentBlockStop", {"contentBlockIndex": 0}),
    wire.event(
        "contentBlockStart",
        {"start": {"toolUse": {"toolUseId": "tu_9", "name": "get_weather"}}, "contentBlockIndex": 1},
    ),
    wire.event(
        "contentBlockDelta", {"delta": {"toolUse": {"input": '{"city":"Paris"}'}}, "contentBlockIndex": 1}
    ),
    wire.event("contentBlockStop", {"contentBlockIndex": 1}),
    wire.event("messageStop", {"stopReason": "tool_use"}),
    wire.event(
        "metadata",
        {"usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13}, "metrics": {"latencyMs": 5}},
    ),
]


def test_a_real_event_stream_over_http(over_http: tuple[FakeBedrock, BedrockProvider]) -> None:
    server, provider = over_http
    server.frames = HTTP_FRAMES

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
    server.frames = [*HTTP_FRAMES[:2], wire.exception("throttlingException", "Too many tokens")]
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
    server.frames, server.delay, server.endless = HTTP_FRAMES[:2], 0.02, True

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
