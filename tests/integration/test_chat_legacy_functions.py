"""OpenAI's deprecated function calling through ``POST /v1/chat/completions`` with the official
SDK, on each kind of upstream the simulator speaks (OpenAI-compatible, Anthropic, Bedrock): the
``functions`` request is answered with a ``function_call``, its ``role: "function"`` result with the
final answer, streamed and not; a Free key is refused with a 403 naming ``functions``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from chat_support import chat_http, install_catalog

from shared.catalog.models import UpstreamRoute
from shared.providers import registry

WEATHER: Any = {
    "name": "weather",
    "description": "The weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
BEDROCK_MODEL = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.fixture(params=["openai", "anthropic", "bedrock"])
def upstream(request, chat_world, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """qwen3 served by the simulator in the upstream format of the parameter."""
    root = f"http://{chat_world.simulator.host}:{chat_world.simulator.port}"
    if request.param == "anthropic":
        install_catalog(
            {"qwen3": [UpstreamRoute(provider="anthropic", base_url=root, model="claude-sonnet-4-5")]}
        )
    elif request.param == "bedrock":
        monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", root)
        registry._provider.cache_clear()  # a fresh adapter, so its client is built with that endpoint
        install_catalog(
            {"qwen3": [UpstreamRoute(provider="bedrock", model=BEDROCK_MODEL, region="us-east-1")]}
        )
    yield request.param
    registry._provider.cache_clear()


def sdk(key: str, http: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url="http://sluice.test/v1", api_key=key, http_client=http, max_retries=0)


def ask(key: str, messages: list[Any], stream: bool) -> tuple[dict[str, Any], str | None]:
    """The answer's message (``content``, ``function_call``, ``tool_calls``) and finish reason,
    accumulated from the deltas when streamed."""

    async def go() -> tuple[dict[str, Any], str | None]:
        async with chat_http() as http:
            answer: Any = await sdk(key, http).chat.completions.create(
                model="qwen3", messages=messages, functions=[WEATHER], stream=stream
            )
            if not stream:
                choice = answer.choices[0]
                return choice.message.model_dump(), choice.finish_reason
            message: dict[str, Any] = {"content": None, "function_call": None, "tool_calls": None}
            finish = None
            async for chunk in answer:
                delta = chunk.choices[0].delta
                finish = chunk.choices[0].finish_reason or finish
                if delta.content:
                    message["content"] = (message["content"] or "") + delta.content
                if delta.tool_calls:
                    message["tool_calls"] = delta.tool_calls
                if delta.function_call is not None:
                    call = message["function_call"] or {"name": None, "arguments": ""}
                    call["name"] = delta.function_call.name or call["name"]
                    call["arguments"] += delta.function_call.arguments or ""
                    message["function_call"] = call
            return message, finish

    return asyncio.run(go())


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "streamed"])
def test_a_legacy_function_call_round_trip(chat_world, upstream: str, stream: bool) -> None:
    messages: list[Any] = [{"role": "user", "content": "Call weather for Paris"}]

    called, finish = ask(chat_world.pro.key, messages, stream)

    assert finish == "function_call"
    assert called["tool_calls"] is None
    call = called["function_call"]
    assert call["name"] == "weather" and isinstance(json.loads(call["arguments"])["city"], str)
    messages += [
        {"role": "assistant", "content": None, "function_call": call},
        {"role": "function", "name": "weather", "content": "sunny, 21 C"},
    ]
    final, finish = ask(chat_world.pro.key, messages, stream)

    assert finish == "stop" and final["function_call"] is None
    assert final["content"].startswith("Tool result received: sunny, 21 C")


def test_a_function_message_without_its_call_is_a_400_naming_it(chat_world) -> None:
    messages: list[Any] = [
        {"role": "user", "content": "hi"},
        {"role": "function", "name": "weather", "content": "sunny"},
    ]
    with pytest.raises(openai.BadRequestError) as refused:
        ask(chat_world.pro.key, messages, stream=False)

    assert refused.value.param == "messages.1.name" and "weather" in refused.value.message
    assert chat_world.pro.balance() == 1000, "nothing charged"


def test_a_free_key_may_not_call_functions(chat_world) -> None:
    async def go() -> None:
        async with chat_http() as http:
            await sdk(chat_world.free.key, http).chat.completions.create(
                model="auto", messages=[{"role": "user", "content": "Call weather"}], functions=[WEATHER]
            )

    with pytest.raises(openai.PermissionDeniedError) as denied:
        asyncio.run(go())

    assert denied.value.param == "functions" and "Pro" in denied.value.message
    assert chat_world.free.balance() == 100, "nothing charged"
