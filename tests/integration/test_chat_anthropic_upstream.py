"""Both wire formats against an Anthropic-native upstream (a fake speaking the real protocol).

Anthropic-format requests are passed through (only model, max_tokens and persona change);
OpenAI-format requests are translated there and back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import cast

import anthropic
import httpx2
import openai
import pytest
from chat_support import chat_http, chat_http2, install_catalog, queued_usage_events
from fakes.anthropic_server import API_KEY, OUTPUT_TOKENS, USAGE_IN, FakeAnthropic

from shared.catalog.models import UpstreamRoute
from shared.providers import http_client


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeAnthropic, str]]:
    server = FakeAnthropic()
    with server.serve() as base_url:
        yield server, base_url


@pytest.fixture
def upstream(chat_world, fake, monkeypatch: pytest.MonkeyPatch) -> FakeAnthropic:
    """kimi-k2 served by the fake's text scenario, kimi-k2.6 by its tool scenario."""
    server, base_url = fake
    server.received.clear()
    monkeypatch.setenv("FAKE_ANTHROPIC_KEY", API_KEY)
    monkeypatch.setattr(http_client, "_clients", http_client.weakref.WeakKeyDictionary())
    route = lambda model: UpstreamRoute(  # noqa: E731
        provider="anthropic", base_url=base_url, model=model, secret_ref="env:FAKE_ANTHROPIC_KEY"
    )
    install_catalog({"kimi-k2": [route("claude-text")], "kimi-k2.6": [route("claude-tools")]})
    return server


def test_messages_are_passed_through_with_only_the_model_rewritten(chat_world, upstream) -> None:
    async def go():
        async with chat_http2() as http:
            client = anthropic.AsyncAnthropic(
                base_url="http://sluice.test", api_key=chat_world.pro.key, http_client=http
            )
            return await client.messages.create(
                model="kimi-k2",
                max_tokens=32000,
                messages=[{"role": "user", "content": "hi"}],
                extra_body={"context_management": {"edits": [{"type": "clear_tool_uses_20250919"}]}},
                extra_headers={"anthropic-beta": "context-management-2025-06-27"},
            )

    message = asyncio.run(go())

    [sent] = upstream.received
    assert sent.body["model"] == "claude-text"
    assert sent.body["context_management"] == {"edits": [{"type": "clear_tool_uses_20250919"}]}
    assert sent.body["max_tokens"] == 8192, "clamped to the Pro cap"
    assert sent.headers["anthropic-beta"] == "context-management-2025-06-27"
    assert message.model == "kimi-k2" and message.id.startswith("msg_") and message.id != "msg_fake01"
    assert message.content[0].text == "Hello world"
    assert message.usage.output_tokens == OUTPUT_TOKENS
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["provider"] == "anthropic" and event["output_tokens"] == OUTPUT_TOKENS and event["charged"]


def test_passthrough_stream_forwards_the_upstream_events(chat_world, upstream) -> None:
    async def go():
        async with chat_http2() as http:
            client = anthropic.AsyncAnthropic(
                base_url="http://sluice.test", api_key=chat_world.pro.key, http_client=http
            )
            async with client.messages.stream(
                model="kimi-k2.6",
                max_tokens=1024,
                messages=[{"role": "user", "content": "weather?"}],
                tools=[
                    {
                        "name": "get_weather",
                        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
                    }
                ],
            ) as stream:
                return await stream.get_final_message()

    final = asyncio.run(go())

    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[1].input == {"city": "Paris"} and final.stop_reason == "tool_use"
    assert final.model == "kimi-k2.6"
    assert final.usage.output_tokens == OUTPUT_TOKENS
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["input_tokens"] == USAGE_IN["input_tokens"] + USAGE_IN["cache_read_input_tokens"]


def test_openai_format_is_translated_to_the_anthropic_upstream(chat_world, upstream) -> None:
    async def go():
        async with chat_http() as http:
            # The SDK annotates httpx2's client only, and takes an httpx one as well (see _base_client).
            client = openai.AsyncOpenAI(
                base_url="http://sluice.test/v1",
                api_key=chat_world.pro.key,
                http_client=cast(httpx2.AsyncClient, http),
            )
            return await client.chat.completions.create(
                model="kimi-k2.6",
                messages=[
                    {"role": "system", "content": "Be brief."},
                    {"role": "user", "content": "weather?"},
                ],
                tools=[
                    {
                        "type": "function",
                        "function": {"name": "get_weather", "parameters": {"type": "object"}},
                    }
                ],
            )

    completion = asyncio.run(go())

    [sent] = upstream.received
    assert (
        sent.body["system"] == [{"type": "text", "text": "Be brief."}] or sent.body["system"] == "Be brief."
    )
    assert sent.body["tools"][0]["name"] == "get_weather" and "input_schema" in sent.body["tools"][0]
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content == "Let me check.", "text kept alongside the tool call"
    assert choice.message.tool_calls[0].function.name == "get_weather"
    assert choice.message.tool_calls[0].function.arguments.replace(" ", "") == '{"city":"Paris"}'
    assert completion.model == "kimi-k2.6"


@pytest.mark.parametrize("path", ["/v1/messages", "/v1/chat/completions"])
def test_streams_leave_the_upstream_connection_reusable(chat_world, upstream, path) -> None:
    """The rest of the body after ``message_stop`` is read, so the next stream reuses the connection."""
    body: dict = {
        "model": "kimi-k2",
        "max_tokens": 64,
        "stream": True,
        "messages": [{"role": "user", "content": "hi"}],
    }

    async def two_streams() -> None:
        async with chat_http() as http:
            for _ in range(2):
                response = await http.post(
                    path, json=body, headers={"Authorization": f"Bearer {chat_world.pro.key}"}
                )
                assert response.status_code == 200, response.text
                assert "message_stop" in response.text or "[DONE]" in response.text

    asyncio.run(two_streams())
    ports = [r.port for r in upstream.received]
    assert len(ports) == 2 and ports[0] == ports[1], ports


def test_a_thinking_budget_the_clamp_leaves_no_room_for_keeps_its_share(chat_world, upstream) -> None:
    """Claude Code's 32000 with a 31999 budget, clamped to the Pro cap of 8192: Anthropic refuses a
    budget of max_tokens or more, so the passed-through body carries the budget's share. A model
    without thinking (kimi-k2) gets no ``thinking`` at all, as on every other route."""

    async def go(model: str) -> None:
        async with chat_http2() as http:
            client = anthropic.AsyncAnthropic(
                base_url="http://sluice.test", api_key=chat_world.pro.key, http_client=http
            )
            await client.messages.create(
                model=model,
                max_tokens=32000,
                thinking={"type": "enabled", "budget_tokens": 31999},
                messages=[{"role": "user", "content": "hi"}],
            )

    asyncio.run(go("kimi-k2.6"))
    asyncio.run(go("kimi-k2"))

    thinks, plain = upstream.received
    assert thinks.body["max_tokens"] == 8192
    assert thinks.body["thinking"] == {"type": "enabled", "budget_tokens": 8191}
    assert "thinking" not in plain.body
