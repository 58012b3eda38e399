"""Logprobs through the chat endpoint: an OpenAI client asking for them gets the upstream's (the
simulator's), per choice or on the chunk carrying their tokens; an Anthropic client never does,
even from an upstream that sends them unasked."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from chat_support import LoopbackServer, chat_http, install_catalog, openai_route

from sluice.simulator import SimulatorConfig
from sluice.simulator.app import create_app


def sdk(key: str, http) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url="http://sluice.test/v1", api_key=key, http_client=http, max_retries=0)


def create(key: str, **fields: Any) -> Any:
    """The completion (or every streamed chunk) for one user message, through the SDK."""

    async def go():
        async with chat_http() as http:
            messages: Any = [{"role": "user", "content": "Tell me about logprobs"}]
            answer: Any = await sdk(key, http).chat.completions.create(
                model="qwen3", messages=messages, **fields
            )
            return [chunk async for chunk in answer] if fields.get("stream") else answer

    return asyncio.run(go())


def test_a_completion_carries_the_upstreams_logprobs_when_asked(chat_world) -> None:
    completion = create(chat_world.pro.key, logprobs=True, top_logprobs=2)
    unasked = create(chat_world.pro.key)

    choice = completion.choices[0]
    tokens = choice.logprobs.content
    assert "".join(t.token for t in tokens) == choice.message.content
    assert {t.logprob for t in tokens} == {0.0}
    assert all([alt.token for alt in t.top_logprobs] == [t.token] for t in tokens)
    assert choice.logprobs.refusal is None
    assert unasked.choices[0].logprobs is None


def test_each_streamed_chunk_carries_the_logprobs_of_its_own_tokens(chat_world) -> None:
    chunks = create(chat_world.pro.key, logprobs=True, stream=True, n=2)
    unasked = create(chat_world.pro.key, stream=True)

    by_choice: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            text = choice.delta.content
            if text:
                assert [t.token for t in choice.logprobs.content] == [text]
                by_choice[choice.index] = by_choice.get(choice.index, "") + text
            else:
                assert choice.logprobs is None
    assert sorted(by_choice) == [0, 1]
    assert all(text.startswith("Simulated reply to: Tell me about logprobs") for text in by_choice.values())
    assert all(choice.logprobs is None for chunk in unasked for choice in chunk.choices)


class AlwaysLogprobs:
    """The simulator, asked for logprobs whatever the request says (an upstream sending them unasked)."""

    def __init__(self) -> None:
        self._simulator = create_app(SimulatorConfig())
        self.sent_logprobs = False

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        body, more = b"", True
        while more:
            message = await receive()
            body, more = body + message.get("body", b""), message.get("more_body", False)
        asked = [
            {"type": "http.request", "body": json.dumps({**json.loads(body), "logprobs": True}).encode()}
        ]

        async def replay() -> Any:
            return asked.pop() if asked else await receive()

        async def watch(message: Any) -> None:
            self.sent_logprobs = self.sent_logprobs or b'"top_logprobs"' in message.get("body", b"")
            await send(message)

        await self._simulator(scope, replay, watch)


@pytest.fixture
def eager_upstream() -> Iterator[tuple[AlwaysLogprobs, str]]:
    upstream = AlwaysLogprobs()
    with LoopbackServer(upstream) as server:
        yield upstream, f"{server.url}/v1"


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_clients_never_see_logprobs(chat_world, eager_upstream, stream: bool) -> None:
    upstream, url = eager_upstream
    install_catalog(routes={"kimi-k2.6": [openai_route(url)]})
    body = {
        "model": "kimi-k2.6",
        "max_tokens": 64,
        "stream": stream,
        "messages": [{"role": "user", "content": "Tell me about tokens"}],
    }

    async def go():
        async with chat_http() as http:
            headers = {"x-api-key": chat_world.pro.key}
            return await http.post("/v1/messages", json=body, headers=headers)

    response = asyncio.run(go())

    assert response.status_code == 200
    assert "Simulated" in response.text
    assert upstream.sent_logprobs
    assert "logprob" not in response.text
