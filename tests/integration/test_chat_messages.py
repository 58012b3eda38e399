"""POST /v1/messages in process, through the official Anthropic SDK, against the simulator."""

from __future__ import annotations

import asyncio

import anthropic
import pytest
from chat_support import chat_http2 as chat_http
from chat_support import queued_usage_events


def sdk(key: str, http) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(
        base_url="http://sluice.test", api_key=key, http_client=http, max_retries=0
    )


def test_create_returns_a_message_with_real_usage(chat_world) -> None:
    async def go():
        async with chat_http() as http:
            return await sdk(chat_world.pro.key, http).messages.create(
                model="kimi-k2.6",
                max_tokens=256,
                system="Be brief.",
                messages=[{"role": "user", "content": "Hello from the anthropic sdk"}],
            )

    message = asyncio.run(go())

    assert message.id.startswith("msg_") and message.model == "kimi-k2.6"
    text = message.content[0].text
    assert text.startswith("Simulated reply to: Hello from the anthropic sdk")
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == len(text.split())
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["endpoint"] == "messages" and event["credits"] == 3 and event["charged"] is True
    assert message._request_id == event["request_id"]  # the SDK reads it from the request-id header


def test_stream_text_and_final_message_agree(chat_world) -> None:
    async def go():
        async with (
            chat_http() as http,
            sdk(chat_world.pro.key, http).messages.stream(
                model="kimi-k2", max_tokens=256, messages=[{"role": "user", "content": "stream it"}]
            ) as stream,
        ):
            texts = [t async for t in stream.text_stream]
            return "".join(texts), await stream.get_final_message()

    text, final = asyncio.run(go())

    assert text.startswith("Simulated reply to: stream it")
    assert final.content[0].text == text
    assert final.usage.output_tokens == len(text.split()) and final.usage.input_tokens > 0


def test_count_tokens_is_an_estimate(chat_world) -> None:
    async def go():
        async with chat_http() as http:
            return await sdk(chat_world.pro.key, http).messages.count_tokens(
                model="kimi-k2", messages=[{"role": "user", "content": "x" * 400}]
            )

    counted = asyncio.run(go())
    assert counted.input_tokens == 100


@pytest.mark.parametrize("endpoint", ["create", "count_tokens"])
def test_a_retired_model_is_not_found_naming_its_replacement(chat_world, endpoint: str) -> None:
    """hrllm-v1 reached its end of life on 2026-06-30 (default catalog): 404, for counting too."""

    async def go():
        async with chat_http() as http:
            messages = sdk(chat_world.pro.key, http).messages
            hi: list[anthropic.types.MessageParam] = [{"role": "user", "content": "hi"}]
            if endpoint == "create":
                await messages.create(model="hrllm-v1", max_tokens=10, messages=hi)
            else:
                await messages.count_tokens(model="hrllm-v1", messages=hi)

    with pytest.raises(anthropic.NotFoundError) as retired:
        asyncio.run(go())
    assert "retired on 2026-06-30. Use 'hrllm' instead." in retired.value.message


def test_errors_are_in_anthropic_format(chat_world) -> None:
    async def go():
        async with chat_http() as http:
            await sdk(chat_world.pro.key, http).messages.create(
                model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
            )

    with pytest.raises(anthropic.NotFoundError) as missing:
        asyncio.run(go())
    rid = missing.value.response.headers["x-request-id"]
    assert missing.value.body == {
        "type": "error",
        "error": {"type": "not_found_error", "message": "The model 'no-such-model' does not exist."},
        "request_id": rid,
    }
    assert missing.value.request_id == rid  # what the SDK reads: the request-id header


def test_nan_in_a_tool_schema_is_an_anthropic_400(chat_world) -> None:
    """Tool schemas are passed on as they are: ``NaN`` in one would make the upstream body invalid."""
    tool = b'{"name": "pick", "input_schema": {"type": "object", "properties": {"n": {"default": NaN}}}}'
    body = b'{"model": "qwen3", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}], '
    body += b'"tools": [' + tool + b"]}"

    async def go():
        async with chat_http() as http:
            return await http.post(
                "/v1/messages",
                content=body,
                headers={"x-api-key": chat_world.pro.key, "content-type": "application/json"},
            )

    response = asyncio.run(go())

    assert response.status_code == 400
    assert response.json()["type"] == "error"
    assert response.json()["error"]["type"] == "invalid_request_error"
    assert "not valid JSON" in response.json()["error"]["message"]
