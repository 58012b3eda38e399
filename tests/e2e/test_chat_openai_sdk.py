"""The official OpenAI Python SDK against the local stack (a subprocess), changing only base URL and key.

Everything goes over real HTTP through the local API Gateway emulation to the chat function and
on to the bundled upstream simulator. The 429 test runs on a stack of its own: exhausting the
per-IP limit of the shared stack would fail every later chat test of the session.
"""

from __future__ import annotations

import base64
import json
import struct
import time
import uuid
import zlib
from pathlib import Path
from typing import Any

import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam
from support.stack import RunningStack, start_stack, stop_stack

from shared.catalog.loader import load_catalog_file

TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Current weather in a city",
            "parameters": {
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"],
            },
        },
    }
]


def client(stack: RunningStack, key: str | None = None) -> Any:
    """The SDK client (typed loosely: the tests send plain dicts, not the SDK's TypedDicts)."""
    return openai.OpenAI(base_url=f"{stack.base_url}/v1", api_key=key or stack.api_key, max_retries=0)


def user(text: str) -> list[ChatCompletionMessageParam]:
    return [{"role": "user", "content": text}]


def png(width: int, height: int) -> bytes:
    """A real RGB PNG, built by hand."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def test_list_models(local_stack) -> None:
    models = client(local_stack).models.list()

    assert [m.id for m in models.data] == [m.id for m in load_catalog_file().models]


def test_create_returns_the_simulators_answer_with_real_usage(local_stack) -> None:
    raw = client(local_stack).chat.completions.with_raw_response.create(
        model="qwen3", messages=user("Hello from the SDK")
    )
    completion = raw.parse()

    text = completion.choices[0].message.content
    assert completion.id.startswith("chatcmpl-") and completion.model == "qwen3"
    assert text.startswith("Simulated reply to: Hello from the SDK")
    assert completion.usage.completion_tokens == len(text.split()) and completion.usage.prompt_tokens == 4
    assert completion.choices[0].finish_reason == "stop"
    assert raw.headers["x-sluice-model"] == "qwen3" and int(raw.headers["x-credits-remaining"]) > 0
    assert raw.headers["x-request-id"] and raw.headers["x-ratelimit-limit"]


def test_stream_with_include_usage(local_stack) -> None:
    stream = client(local_stack).chat.completions.create(
        model="kimi-k2", messages=user("stream to me"), stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text.startswith("Simulated reply to: stream to me")
    assert len([c for c in chunks if c.choices and c.choices[0].delta.content]) > 5, "token by token"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == len(text.split())


def test_tool_call_round_trip(local_stack) -> None:
    sdk = client(local_stack)
    messages: list = user("What is the weather in Zagreb? Use the get_weather tool.")

    first = sdk.chat.completions.create(model="qwen3", messages=messages, tools=TOOLS)
    [call] = first.choices[0].message.tool_calls
    assert first.choices[0].finish_reason == "tool_calls" and call.function.name == "get_weather"
    assert "city" in json.loads(call.function.arguments)

    messages += [
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "18 degrees and sunny"},
    ]
    second = sdk.chat.completions.create(model="qwen3", messages=messages, tools=TOOLS)

    assert second.choices[0].message.content.startswith("Tool result received: 18 degrees and sunny")
    assert second.choices[0].finish_reason == "stop"


def test_json_modes(local_stack) -> None:
    sdk = client(local_stack)
    schema = {
        "type": "object",
        "properties": {"city": {"type": "string"}, "temperature": {"type": "number"}},
        "required": ["city", "temperature"],
    }

    as_object = sdk.chat.completions.create(
        model="qwen3", messages=user("weather as JSON"), response_format={"type": "json_object"}
    )
    as_schema = sdk.chat.completions.create(
        model="qwen3",
        messages=user("weather by schema"),
        response_format={"type": "json_schema", "json_schema": {"name": "weather", "schema": schema}},
    )

    assert isinstance(json.loads(as_object.choices[0].message.content), dict)
    shaped = json.loads(as_schema.choices[0].message.content)
    assert isinstance(shaped["city"], str) and isinstance(shaped["temperature"], int | float)


def test_n_choices_and_stop_sequences(local_stack) -> None:
    sdk = client(local_stack)

    two = sdk.chat.completions.create(model="qwen3", messages=user("give me two"), n=2)
    stopped = sdk.chat.completions.create(model="qwen3", messages=user("stop early"), stop=["reply"])

    assert [c.index for c in two.choices] == [0, 1]
    assert two.choices[0].message.content != two.choices[1].message.content
    assert stopped.choices[0].message.content == "Simulated"
    assert stopped.choices[0].finish_reason == "stop"


def test_a_data_url_image_reaches_a_vision_model(local_stack) -> None:
    image = "data:image/png;base64," + base64.b64encode(png(4, 3)).decode()
    content = [{"type": "text", "text": "describe it"}, {"type": "image_url", "image_url": {"url": image}}]

    completion = client(local_stack).chat.completions.create(
        model="kimi-k2.5", messages=[{"role": "user", "content": content}]
    )

    assert completion.choices[0].message.content.startswith("Simulated reply to: describe it")
    assert completion.usage.prompt_tokens == 2 + 85, "the simulator counted the image part"


def test_client_errors_are_typed_sdk_exceptions(local_stack) -> None:
    sdk = client(local_stack)

    with pytest.raises(openai.BadRequestError) as bad:
        sdk.chat.completions.create(model="qwen3", messages=user("x"), temperature=3)
    with pytest.raises(openai.AuthenticationError) as unauthenticated:
        client(local_stack, "sk_sluice_" + "x" * 43).chat.completions.create(
            model="qwen3", messages=user("x")
        )
    with pytest.raises(openai.NotFoundError) as missing:
        sdk.chat.completions.create(model="no-such-model", messages=user("x"))
    with pytest.raises(openai.APIStatusError) as too_large:
        sdk.chat.completions.create(model="qwen3", messages=user("a" * 300 * 1024))

    assert bad.value.param == "temperature" and bad.value.code == "invalid_request"
    assert unauthenticated.value.code == "invalid_api_key"
    assert missing.value.code == "model_not_found"
    assert too_large.value.status_code == 413 and too_large.value.code == "request_too_large"


def test_a_free_key_on_a_pro_model_is_permission_denied(stack_aws) -> None:
    from shared.accounts.models import Account, Consent
    from shared.adapters import account_store
    from shared.credits.ledger import grant_credits
    from shared.keys.service import issue_key, now_iso

    account_id = f"acct_free_{uuid.uuid4().hex[:8]}"
    consent = Consent(
        terms_version="e2e", privacy_version="e2e", responsible_ai_version="e2e", accepted_at=now_iso()
    )
    account_store.create_account(
        Account(account_id=account_id, plan="free", consent=consent, created_at=now_iso())
    )
    grant_credits(account_id, 100, source="admin", reference=f"e2e-{account_id}", expires_at=None)
    free = client(stack_aws, issue_key(account_id, "e2e").raw_key)

    with pytest.raises(openai.PermissionDeniedError) as denied:
        free.chat.completions.create(model="qwen3", messages=user("x"))
    allowed = free.chat.completions.with_raw_response.create(model="auto", messages=user("bok"))

    assert denied.value.code == "permission_denied" and "Pro" in denied.value.message
    assert denied.value.response.headers["x-credits-remaining"] == "100"
    assert allowed.parse().model == "hrllm" and allowed.headers["x-credits-remaining"] == "99"


def test_the_per_ip_limit_is_a_rate_limit_error_with_retry_after(tmp_path: Path) -> None:
    stack = start_stack(tmp_path)
    try:
        sdk = client(stack)
        if time.time() % 60 > 40:  # the window is a calendar minute: start a fresh one
            time.sleep(60 - time.time() % 60 + 0.5)
        served = 0
        with pytest.raises(openai.RateLimitError) as limited:
            for _ in range(49):
                sdk.chat.completions.create(model="qwen3", messages=user("x"), max_tokens=1)
                served += 1
    finally:
        stop_stack(stack)

    assert served == 48, "exactly the public chat limit per IP and minute"
    assert limited.value.code == "rate_limit_exceeded"
    headers = limited.value.response.headers
    assert 1 <= int(headers["retry-after"]) <= 60
    assert headers["x-ratelimit-limit"] == "48" and headers["x-ratelimit-remaining"] == "0"
