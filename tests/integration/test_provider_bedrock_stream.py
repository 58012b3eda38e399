"""The Bedrock adapter's ``converse_stream`` through a fake client whose stream yields the dicts
botocore yields (slowly, from a blocking iterator, as the real EventStream does): text, tool use,
reasoning and usage as canonical events, an event loop that stays responsive, exception events
classified, and the event stream closed when the reader stops early."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import pytest
from botocore.exceptions import EventStreamError
from provider_bedrock_support import MODEL, ROUTE, WEATHER, collect, failure_of, request

from shared.chat import events as ev
from shared.chat.canonical import FinishReason, Usage
from shared.errors import InvalidRequest, UpstreamUnavailable
from shared.providers.bedrock import BedrockProvider

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
