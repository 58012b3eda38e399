"""The Anthropic adapter against a fake Messages API on 127.0.0.1 (tests/fakes/anthropic_server.py)."""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
from fakes.anthropic_server import API_KEY, OUTPUT_TOKENS, FakeAnthropic

from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import (
    ChatRequest,
    FinishReason,
    Message,
    Reasoning,
    ReasoningConfig,
    ReasoningEffort,
    Role,
    Text,
    Tool,
    ToolCall,
    Usage,
    WireFormat,
)
from shared.chat.stream_anthropic import AnthropicEventParser
from shared.errors import ContextLengthExceeded, InvalidRequest, UpstreamUnavailable
from shared.providers import http_client
from shared.providers.anthropic import AnthropicProvider, messages_url
from shared.providers.base import UpstreamCallFailed
from shared.settings import get_settings

KEY_ENV = "SLUICE_TEST_ANTHROPIC_KEY"
type Fake = tuple[FakeAnthropic, str]
# 20 uncached + 5 read from the cache + 0 written: canonical input counts the whole prompt.
USAGE = Usage(input_tokens=25, output_tokens=OUTPUT_TOKENS, cache_read_tokens=5, cache_write_tokens=0)


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeAnthropic, str]]:
    server = FakeAnthropic()
    with server.serve() as base_url:
        yield server, base_url


@pytest.fixture
def upstream(fake: tuple[FakeAnthropic, str], monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeAnthropic]:
    """The fake with a clean record, its key in the environment and fresh httpx clients."""
    server, _ = fake
    server.received.clear()
    monkeypatch.setenv(KEY_ENV, API_KEY)
    monkeypatch.setenv("SLUICE_UPSTREAM_READ_TIMEOUT", "10")
    monkeypatch.setattr(http_client, "_clients", {})  # one client per test loop, never a stale one
    get_settings.cache_clear()
    yield server
    get_settings.cache_clear()


def route(fake: tuple[FakeAnthropic, str], model: str, *, suffix: str = "") -> UpstreamRoute:
    return UpstreamRoute(
        provider="anthropic", base_url=fake[1] + suffix, model=model, secret_ref=f"env:{KEY_ENV}"
    )


def request(*, stream: bool = False, **changes: Any) -> ChatRequest:
    messages = (Message(Role.USER, (Text("What is the weather in Paris?"),)),)
    fields: dict[str, Any] = {
        "model": "sluice-smart",
        "messages": messages,
        "max_tokens": 256,
        "stream": stream,
    }
    return ChatRequest(**{**fields, **changes})


async def collect(events: AsyncIterator[ev.StreamEvent]) -> list[ev.StreamEvent]:
    return [event async for event in events]


def streamed(target: UpstreamRoute, req: ChatRequest | None = None) -> list[ev.StreamEvent]:
    return asyncio.run(collect(AnthropicProvider().stream(req or request(stream=True), target)))


def failure_of(coro: Any) -> UpstreamCallFailed:
    with pytest.raises(UpstreamCallFailed) as caught:
        asyncio.run(coro)
    return caught.value


def test_messages_url_handles_base_urls_with_and_without_v1() -> None:
    bare = UpstreamRoute(provider="anthropic", base_url="https://api.anthropic.com/", model="m")
    with_v1 = UpstreamRoute(provider="anthropic", base_url="https://proxy.example/anthropic/v1", model="m")
    default = UpstreamRoute(provider="anthropic", model="m")
    assert messages_url(bare) == "https://api.anthropic.com/v1/messages"
    assert messages_url(with_v1) == "https://proxy.example/anthropic/v1/messages"
    assert messages_url(default) == "https://api.anthropic.com/v1/messages"


def test_complete_sends_the_translated_request_and_reads_the_answer(
    upstream: FakeAnthropic, fake: Fake
) -> None:
    answer = asyncio.run(AnthropicProvider().complete(request(), route(fake, "claude-text")))

    assert answer.choices[0].parts == (Text("Hello world"),)
    assert answer.choices[0].finish is not None and answer.choices[0].finish.reason is FinishReason.STOP
    assert answer.usage == USAGE
    sent = upstream.received[0]
    assert sent.body["model"] == "claude-text"
    assert sent.body["max_tokens"] == 256
    assert sent.body["stream"] is False
    assert sent.body["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "What is the weather in Paris?"}]}
    ]
    assert sent.headers["x-api-key"] == API_KEY
    assert sent.headers["anthropic-version"] == "2023-06-01"


def test_a_budget_thinking_route_gets_an_effort_as_a_budget(upstream: FakeAnthropic, fake: Fake) -> None:
    """The route's ``thinking_style`` reaches the mapping: Claude before 4.6 thinks by budget."""
    budget_route = route(fake, "claude-text").model_copy(update={"thinking_style": "budget"})
    effort = request(
        max_tokens=40000,
        reasoning=ReasoningConfig(effort=ReasoningEffort.HIGH),
        extras_format=WireFormat.OPENAI,
    )

    asyncio.run(AnthropicProvider().complete(effort, budget_route))
    asyncio.run(AnthropicProvider().complete(effort, route(fake, "claude-text")))

    budget, adaptive = (received.body for received in upstream.received)
    assert budget["thinking"] == {"type": "enabled", "budget_tokens": 16384} and "output_config" not in budget
    assert adaptive["thinking"] == {"type": "adaptive"} and adaptive["output_config"] == {"effort": "high"}


def test_a_base_url_ending_in_v1_reaches_the_same_endpoint(upstream: FakeAnthropic, fake: Fake) -> None:
    answer = asyncio.run(AnthropicProvider().complete(request(), route(fake, "claude-text", suffix="/v1")))
    assert answer.choices[0].parts == (Text("Hello world"),)


def test_complete_reads_tool_use_and_thinking_blocks(upstream: FakeAnthropic, fake: Fake) -> None:
    tools = asyncio.run(AnthropicProvider().complete(request(), route(fake, "claude-tools")))
    thinking = asyncio.run(AnthropicProvider().complete(request(), route(fake, "claude-thinking")))

    assert tools.choices[0].parts == (
        Text("Let me check."),
        ToolCall("toolu_01", "get_weather", '{"city": "Paris"}'),
    )
    assert tools.choices[0].finish is not None and tools.choices[0].finish.reason is FinishReason.TOOL_CALLS
    assert thinking.choices[0].parts == (Reasoning("Two plus two is four.", signature="sig-abc"), Text("4"))


def test_stream_yields_text_tool_call_finish_and_usage(upstream: FakeAnthropic, fake: Fake) -> None:
    weather = Tool("get_weather", {"type": "object", "properties": {"city": {"type": "string"}}})
    events = streamed(route(fake, "claude-tools"), request(stream=True, tools=(weather,)))

    assert isinstance(events[0], ev.Start) and events[0].id == "msg_fake01"
    assert [e.text for e in events if isinstance(e, ev.TextDelta)] == ["Let me check."]
    assert [e for e in events if isinstance(e, ev.ToolCallStart)] == [
        ev.ToolCallStart(0, "toolu_01", "get_weather")
    ]
    arguments = "".join(e.json_fragment for e in events if isinstance(e, ev.ToolCallArgsDelta))
    assert json.loads(arguments) == {"city": "Paris"}
    assert ev.Finish(FinishReason.TOOL_CALLS) in events
    assert [e for e in events if isinstance(e, ev.UsageReport)][-1].usage == USAGE
    sent = upstream.received[0].body
    assert sent["stream"] is True
    assert sent["tools"][0]["name"] == "get_weather"


def test_stream_yields_reasoning_and_its_signature(upstream: FakeAnthropic, fake: Fake) -> None:
    events = streamed(route(fake, "claude-thinking"))

    assert [e.text for e in events if isinstance(e, ev.ReasoningDelta)] == ["Two plus ", "two is four."]
    assert ev.ReasoningSignature("sig-abc") in events
    assert ev.TextDelta("4") in events


def test_overloaded_529_is_retryable(upstream: FakeAnthropic, fake: Fake) -> None:
    target = route(fake, "claude-overloaded")
    for failure in (
        failure_of(AnthropicProvider().complete(request(), target)),
        failure_of(collect(AnthropicProvider().stream(request(stream=True), target))),
    ):
        assert failure.retryable
        assert isinstance(failure.client_error, UpstreamUnavailable)


def test_rate_limited_429_is_retryable_and_keeps_retry_after(upstream: FakeAnthropic, fake: Fake) -> None:
    failure = failure_of(AnthropicProvider().complete(request(), route(fake, "claude-rate-limited")))
    assert failure.retryable
    assert failure.retry_after == 7.0


def test_invalid_request_400_is_the_clients_fault_and_not_guessed_from_the_message(
    upstream: FakeAnthropic, fake: Fake
) -> None:
    failure = failure_of(AnthropicProvider().complete(request(), route(fake, "claude-invalid")))

    assert not failure.retryable
    assert isinstance(failure.client_error, InvalidRequest)
    assert not isinstance(failure.client_error, ContextLengthExceeded)  # same type as any other 400
    assert "prompt is too long" in failure.client_error.message


def test_a_wrong_key_is_the_operators_problem_and_falls_back(
    upstream: FakeAnthropic, fake: Fake, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-ant-wrong")
    failure = failure_of(AnthropicProvider().complete(request(), route(fake, "claude-text")))

    assert failure.retryable
    assert not isinstance(failure.client_error, InvalidRequest)


def test_an_error_event_in_the_stream_is_a_retryable_failure(upstream: FakeAnthropic, fake: Fake) -> None:
    failure = failure_of(
        collect(AnthropicProvider().stream(request(stream=True), route(fake, "claude-stream-error")))
    )
    assert failure.retryable
    assert isinstance(failure.client_error, UpstreamUnavailable)


def test_a_stream_cut_before_message_stop_is_a_retryable_failure(upstream: FakeAnthropic, fake: Fake) -> None:
    failure = failure_of(collect(AnthropicProvider().stream(request(stream=True), route(fake, "claude-cut"))))
    assert failure.retryable


def test_an_unreachable_upstream_is_a_retryable_failure(upstream: FakeAnthropic) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # bound, never listening: connections are refused
        target = UpstreamRoute(provider="anthropic", base_url=f"http://127.0.0.1:{port}", model="claude-text")
        failure = failure_of(AnthropicProvider().complete(request(), target))
    assert failure.retryable


CLIENT_BODY: dict[str, Any] = {
    "model": "sluice-smart",
    "max_tokens": 512,
    "messages": [{"role": "user", "content": "Hi"}],
    "context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]},
    "metadata": {"user_id": "u-1"},
    "some_future_field": {"nested": [1, 2, 3]},
}


def test_passthrough_complete_rewrites_only_the_model(upstream: FakeAnthropic, fake: Fake) -> None:
    answer = asyncio.run(
        AnthropicProvider().passthrough_complete(
            CLIENT_BODY, route(fake, "claude-text"), betas=["context-management-2025-06-27"]
        )
    )

    assert answer["content"] == [{"type": "text", "text": "Hello world"}]
    sent = upstream.received[0]
    assert sent.body == {**CLIENT_BODY, "model": "claude-text"}
    assert sent.headers["anthropic-beta"] == "context-management-2025-06-27"
    assert CLIENT_BODY["model"] == "sluice-smart"  # the caller's dict is not modified


def test_passthrough_stream_yields_the_raw_events_and_they_parse_to_usage(
    upstream: FakeAnthropic, fake: Fake
) -> None:
    async def run() -> list[tuple[str, dict[str, Any]]]:
        body = {**CLIENT_BODY, "stream": True}
        return [
            pair async for pair in AnthropicProvider().passthrough_stream(body, route(fake, "claude-tools"))
        ]

    pairs = asyncio.run(run())

    names = [name for name, _ in pairs]
    assert names[:2] == ["message_start", "ping"]
    assert names[-2:] == ["message_delta", "message_stop"]
    assert all(name == data["type"] for name, data in pairs)
    assert upstream.received[0].body == {**CLIENT_BODY, "model": "claude-tools", "stream": True}
    parser = AnthropicEventParser()
    canonical = [event for _, data in pairs for event in parser.feed(data)]
    assert [e for e in canonical if isinstance(e, ev.UsageReport)][-1].usage == USAGE


def test_passthrough_errors_are_classified_like_any_other_call(upstream: FakeAnthropic, fake: Fake) -> None:
    async def run() -> None:
        async for _ in AnthropicProvider().passthrough_stream(CLIENT_BODY, route(fake, "claude-overloaded")):
            pass

    assert failure_of(run()).retryable
    invalid = failure_of(AnthropicProvider().passthrough_complete(CLIENT_BODY, route(fake, "claude-invalid")))
    assert not invalid.retryable
