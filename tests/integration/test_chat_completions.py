"""POST /v1/chat/completions in process, through the official OpenAI SDK, against the simulator."""

from __future__ import annotations

import asyncio

import openai
import pytest
from chat_support import chat_http, queued_usage_events
from openai.types.chat import ChatCompletionMessageParam


def sdk(key: str, http) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url="http://sluice.test/v1", api_key=key, http_client=http, max_retries=0)


def test_non_streaming_completion_carries_real_usage_and_headers(chat_world) -> None:
    async def go():
        async with chat_http() as http:
            raw = await sdk(chat_world.pro.key, http).chat.completions.with_raw_response.create(
                model="qwen3", messages=[{"role": "user", "content": "Say hello to the tests"}]
            )
            return raw.headers, raw.parse()

    headers, completion = asyncio.run(go())

    assert completion.id.startswith("chatcmpl-") and completion.model == "qwen3"
    text = completion.choices[0].message.content
    assert text.startswith("Simulated reply to: Say hello to the tests")
    assert completion.usage.completion_tokens == len(text.split())
    assert completion.usage.prompt_tokens == 5
    assert headers["x-sluice-model"] == "qwen3"
    assert int(headers["x-ratelimit-remaining"]) == 47  # the IP bucket (48/min) is the tightest
    assert headers["x-credits-remaining"] == "999"
    [event] = queued_usage_events(chat_world.usage_queue)
    assert (
        event["charged"] is True
        and event["credits"] == 1
        and event["output_tokens"] == completion.usage.completion_tokens
    )
    assert chat_world.pro.key not in str(event)


def test_streaming_with_include_usage_ends_with_usage_then_done(chat_world) -> None:
    async def go():
        async with chat_http() as http:
            stream = await sdk(chat_world.pro.key, http).chat.completions.create(
                model="kimi-k2",
                stream=True,
                stream_options={"include_usage": True},
                messages=[{"role": "user", "content": "stream please"}],
            )
            return [chunk async for chunk in stream]

    chunks = asyncio.run(go())

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Simulated reply to: stream please")
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(text.split())
    assert len({c.id for c in chunks}) == 1 and chunks[0].id.startswith("chatcmpl-")
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == [
        "stop"
    ]


def test_free_key_may_not_call_a_pro_model(chat_world) -> None:
    async def go():
        async with chat_http() as http:
            await sdk(chat_world.free.key, http).chat.completions.create(
                model="qwen3", messages=[{"role": "user", "content": "hi"}]
            )

    with pytest.raises(openai.PermissionDeniedError) as denied:
        asyncio.run(go())
    assert "Pro" in denied.value.message
    assert chat_world.free.balance() == 100, "nothing charged"


def test_unknown_key_is_401_invalid_api_key(chat_world) -> None:
    async def go():
        async with chat_http() as http:
            await sdk("sk_sluice_" + "x" * 43, http).chat.completions.create(
                model="auto", messages=[{"role": "user", "content": "hi"}]
            )

    with pytest.raises(openai.AuthenticationError) as denied:
        asyncio.run(go())
    assert denied.value.code == "invalid_api_key"


@pytest.mark.parametrize("stream", [False, True])
def test_nan_in_a_passed_through_field_is_a_400_not_an_upstream_error(chat_world, stream: bool) -> None:
    """``NaN`` is not JSON: before, it reached the upstream call (502 without streaming, 500 with)."""
    body = b'{"model": "qwen3", "messages": [{"role": "user", "content": "hi"}], "extra_knob": NaN'
    body += b', "stream": true}' if stream else b"}"

    async def go():
        async with chat_http() as http:
            return await http.post(
                "/v1/chat/completions",
                content=body,
                headers={"authorization": f"Bearer {chat_world.pro.key}", "content-type": "application/json"},
            )

    response = asyncio.run(go())

    assert response.status_code == 400
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "not valid JSON" in response.json()["error"]["message"]
    assert chat_world.pro.balance() == 1000, "nothing charged"


@pytest.mark.parametrize("stream", [False, True])
def test_a_deprecated_model_answers_with_deprecation_and_sunset(chat_world, stream: bool) -> None:
    """qwen2.5 is deprecated in the default catalog (EOL 2027-03-31, replaced by qwen3); an
    active model's answer carries none of the three headers."""

    async def headers_of(model: str):
        async with chat_http() as http:
            messages: list[ChatCompletionMessageParam] = [{"role": "user", "content": "still there?"}]
            async with sdk(chat_world.pro.key, http).chat.completions.with_streaming_response.create(
                model=model, messages=messages, stream=stream
            ) as raw:
                await raw.read()
                return raw.headers

    deprecated, active = asyncio.run(headers_of("qwen2.5")), asyncio.run(headers_of("qwen3"))

    assert deprecated["deprecation"] == "true"
    assert deprecated["sunset"] == "Wed, 31 Mar 2027 00:00:00 GMT"
    assert deprecated["link"] == '</v1/models/qwen3>; rel="successor-version"'
    assert not {"deprecation", "sunset", "link"} & set(active)
