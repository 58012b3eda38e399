"""Both wire formats through the chat endpoint to a Bedrock route (ConverseStream).

The upstream is a fake speaking Bedrock's real binary event-stream protocol, reached by a real
boto3 client (``AWS_ENDPOINT_URL_BEDROCK_RUNTIME``), so botocore parses the frames itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, cast

import anthropic
import httpx2
import openai
import pytest
from anthropic.types import ToolParam
from chat_support import chat_http, chat_http2, install_catalog, queued_usage_events
from fakes import bedrock_server as wire
from fakes.bedrock_server import FakeBedrock
from openai.types.chat import ChatCompletionFunctionToolParam

from shared.catalog.models import UpstreamRoute
from shared.providers import registry

WEATHER_OPENAI: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {"name": "get_weather", "parameters": {"type": "object"}},
}
WEATHER_ANTHROPIC: ToolParam = {"name": "get_weather", "input_schema": {"type": "object"}}


@pytest.fixture(scope="module")
def fake() -> Iterator[tuple[FakeBedrock, str]]:
    server = FakeBedrock()
    with server.serve() as base_url:
        yield server, base_url


@pytest.fixture
def bedrock(chat_world, fake, monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeBedrock]:
    server, base_url = fake
    server.frames, server.delay, server.endless = list(wire.TOOL_CALL_FRAMES), 0.0, False
    server.bodies.clear()
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", base_url)
    registry._provider.cache_clear()  # a fresh adapter, so its client is built with that endpoint
    route = UpstreamRoute(provider="bedrock", model="anthropic.claude-sonnet-4", region="us-east-1")
    install_catalog({"kimi-k2.6": [route]})
    yield server
    registry._provider.cache_clear()


def _openai(http: Any, key: str, **options: Any) -> openai.AsyncOpenAI:
    """The OpenAI SDK on the chat app's in-process client (the SDK annotates httpx2's client only,
    and takes an httpx one as well: see its _base_client)."""
    return openai.AsyncOpenAI(
        base_url="http://sluice.test/v1", api_key=key, http_client=cast(httpx2.AsyncClient, http), **options
    )


def test_openai_stream_from_a_bedrock_route(chat_world, bedrock) -> None:
    async def go():
        async with chat_http() as http:
            client = _openai(http, chat_world.pro.key)
            stream = await client.chat.completions.create(
                model="kimi-k2.6",
                stream=True,
                stream_options={"include_usage": True},
                messages=[{"role": "user", "content": "weather in Paris?"}],
                tools=[WEATHER_OPENAI],
            )
            return [chunk async for chunk in stream]

    chunks = asyncio.run(go())

    [sent] = bedrock.bodies
    assert sent["messages"][0]["content"][0]["text"] == "weather in Paris?"
    assert sent["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    calls = [t for c in chunks if c.choices for t in (c.choices[0].delta.tool_calls or [])]
    assert text == "Checking."
    assert calls[0].function.name == "get_weather"
    assert "".join(t.function.arguments or "" for t in calls) == '{"city":"Paris"}'
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "tool_calls"
    ]
    assert chunks[-1].usage.prompt_tokens == 9 and chunks[-1].usage.completion_tokens == 4
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["provider"] == "bedrock" and event["charged"] and event["output_tokens"] == 4


def test_anthropic_stream_from_a_bedrock_route(chat_world, bedrock) -> None:
    async def go():
        async with chat_http2() as http:
            client = anthropic.AsyncAnthropic(
                base_url="http://sluice.test", api_key=chat_world.pro.key, http_client=http
            )
            async with client.messages.stream(
                model="kimi-k2.6",
                max_tokens=512,
                tools=[WEATHER_ANTHROPIC],
                messages=[{"role": "user", "content": "weather in Paris?"}],
            ) as stream:
                return await stream.get_final_message()

    final = asyncio.run(go())

    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[1].input == {"city": "Paris"} and final.stop_reason == "tool_use"
    assert final.usage.output_tokens == 4 and final.model == "kimi-k2.6"


def test_top_k_to_a_llama_route_is_a_400_naming_it_before_any_upstream_call(chat_world, bedrock) -> None:
    """Llama's request on Bedrock has no top-k: the client gets an OpenAI-format 400 with
    ``param`` ``top_k``, nothing reaches Bedrock, and no credit is charged."""
    route = UpstreamRoute(provider="bedrock", model="meta.llama3-3-70b-instruct-v1:0", region="us-east-1")
    install_catalog({"kimi-k2.6": [route]})

    async def go():
        async with chat_http() as http:
            client = _openai(http, chat_world.pro.key, max_retries=0)
            return await client.chat.completions.create(
                model="kimi-k2.6", messages=[{"role": "user", "content": "hi"}], extra_body={"top_k": 40}
            )

    with pytest.raises(openai.BadRequestError) as refused:
        asyncio.run(go())

    assert refused.value.status_code == 400
    assert isinstance(refused.value.body, dict) and refused.value.body["param"] == "top_k"
    assert bedrock.bodies == []
    assert chat_world.pro.balance() == 1000
