"""An upstream's refusal through the chat endpoints: an OpenAI client gets it as ``refusal``
(streamed: ``delta.refusal``, never ``delta.content``; whole: ``content`` stays null), an Anthropic
client as text. The upstream is a small fake on loopback that refuses every request."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import anthropic
import openai
import pytest
from chat_support import LoopbackServer, chat_http, chat_http2, install_catalog, openai_route

PIECES = ["I'm sorry, ", "I can't help with that."]
USAGE = {"prompt_tokens": 4, "completion_tokens": 7, "total_tokens": 11}


def _chunk(delta: dict[str, Any], finish: str | None = None) -> dict[str, Any]:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
    return {"id": "up", "object": "chat.completion.chunk", "created": 1, "model": "up", "choices": [choice]}


def _frames() -> list[dict[str, Any]]:
    return [
        _chunk({"role": "assistant", "content": None, "refusal": None}),
        *(_chunk({"refusal": piece}) for piece in PIECES),
        _chunk({}, "stop"),
        {**_chunk({}), "choices": [], "usage": USAGE},
    ]


async def refusing_upstream(scope: Any, receive: Any, send: Any) -> None:
    """An OpenAI-compatible upstream that refuses: streamed or whole, as asked."""
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    if json.loads(body).get("stream"):
        frames = [f"data: {json.dumps(frame)}\n\n" for frame in _frames()] + ["data: [DONE]\n\n"]
        headers, payload = [(b"content-type", b"text/event-stream")], "".join(frames).encode()
    else:
        message = {"role": "assistant", "content": None, "refusal": "".join(PIECES)}
        choice = {"index": 0, "message": message, "logprobs": None, "finish_reason": "stop"}
        answer = {"id": "up", "object": "chat.completion", "created": 1, "model": "up", "choices": [choice]}
        headers, payload = (
            [(b"content-type", b"application/json")],
            json.dumps(answer | {"usage": USAGE}).encode(),
        )
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


@pytest.fixture
def refusing(chat_world) -> Iterator[None]:
    with LoopbackServer(refusing_upstream) as server:
        install_catalog({"qwen3": [openai_route(f"{server.url}/v1")]})
        yield


def openai_client(key: str, http: Any) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url="http://sluice.test/v1", api_key=key, http_client=http, max_retries=0)


def test_a_streamed_refusal_is_delta_refusal_for_openai_clients_and_text_for_anthropic_ones(
    chat_world, refusing
) -> None:
    async def openai_chunks() -> list[Any]:
        async with chat_http() as http:
            stream = await openai_client(chat_world.pro.key, http).chat.completions.create(
                model="qwen3", messages=[{"role": "user", "content": "something bad"}], stream=True
            )
            return [chunk async for chunk in stream]

    async def anthropic_message() -> Any:
        async with chat_http2() as http:
            client = anthropic.AsyncAnthropic(
                base_url="http://sluice.test", api_key=chat_world.pro.key, http_client=http
            )
            async with client.messages.stream(
                model="qwen3", max_tokens=100, messages=[{"role": "user", "content": "something bad"}]
            ) as stream:
                return await stream.get_final_message()

    chunks, message = asyncio.run(openai_chunks()), asyncio.run(anthropic_message())

    deltas = [c.choices[0].delta for c in chunks if c.choices]
    assert [d.refusal for d in deltas if d.refusal] == PIECES
    assert not any(d.content for d in deltas), "the refusal is not the answer's text"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]
    assert [block.type for block in message.content] == ["text"], "Anthropic has no refusal block"
    assert message.content[0].text == "".join(PIECES)
    assert message.stop_reason == "end_turn"


def test_an_openai_client_gets_a_whole_refusal_with_null_content(chat_world, refusing) -> None:
    async def go() -> Any:
        async with chat_http() as http:
            return await openai_client(chat_world.pro.key, http).chat.completions.create(
                model="qwen3", messages=[{"role": "user", "content": "something bad"}]
            )

    message = asyncio.run(go()).choices[0].message

    assert message.content is None and message.refusal == "".join(PIECES)
