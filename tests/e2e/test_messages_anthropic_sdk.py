"""The official `anthropic` SDK against the local stack (what `make dev` runs), Messages API."""

from __future__ import annotations

import base64
import uuid
from typing import Any, cast

import anthropic
import httpx2
import pytest
from anthropic.types import (
    Base64ImageSourceParam,
    MessageContentParam,
    MessageParam,
    TextBlock,
    ThinkingBlock,
    ToolParam,
)
from test_chat_openai_sdk import png

WEATHER: ToolParam = {
    "name": "get_weather",
    "description": "Current weather for a city.",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}


def client(stack: Any, key: str | None = None, **kwargs: Any) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=stack.base_url, api_key=key or stack.api_key, max_retries=0, **kwargs)


def user(text: str) -> list[MessageParam]:
    return [{"role": "user", "content": text}]


def text_of(block: object) -> str:
    """The text of a content block that is a text block."""
    assert isinstance(block, TextBlock)
    return block.text


def test_create_with_a_system_prompt(local_stack) -> None:
    message = client(local_stack).messages.create(
        model="kimi-k2",
        max_tokens=200,
        system="Answer briefly.",
        messages=user("Hello from the Anthropic SDK"),
    )

    assert message.id.startswith("msg_") and message.model == "kimi-k2" and message.type == "message"
    assert text_of(message.content[0]).startswith("Simulated reply to: Hello from the Anthropic SDK")
    assert message.stop_reason == "end_turn"
    assert message.usage.output_tokens == len(text_of(message.content[0]).split())
    assert message.usage.input_tokens >= 7, "the system prompt is part of the prompt the upstream counted"


def test_stream_text_and_final_message_agree(local_stack) -> None:
    with client(local_stack).messages.stream(
        model="kimi-k2", max_tokens=200, messages=user("stream me")
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()

    assert text.startswith("Simulated reply to: stream me")
    assert text_of(final.content[0]) == text
    assert final.usage.output_tokens == len(text.split())


def test_stop_sequences_end_the_message_with_the_sequence(local_stack) -> None:
    message = client(local_stack).messages.create(
        model="kimi-k2", max_tokens=200, stop_sequences=["tests"], messages=user("stop early please")
    )

    assert "tests" not in text_of(message.content[0])
    assert message.stop_reason == "stop_sequence" and message.stop_sequence == "tests"


def test_tools_round_trip_with_tool_use_and_tool_result(local_stack) -> None:
    sdk = client(local_stack)
    first = sdk.messages.create(
        model="kimi-k2.6",
        max_tokens=300,
        tools=[WEATHER],
        messages=user("Use the tool get_weather for Zagreb"),
    )
    [call] = [b for b in first.content if b.type == "tool_use"]
    assert first.stop_reason == "tool_use" and call.name == "get_weather" and call.input == {"city": "sample"}
    assert any(b.type == "text" for b in first.content), "text kept alongside the tool call"

    second = sdk.messages.create(
        model="kimi-k2.6",
        max_tokens=300,
        tools=[WEATHER],
        messages=[
            *user("Use the tool get_weather for Zagreb"),
            {
                "role": "assistant",
                "content": cast(
                    MessageContentParam, [b.model_dump(exclude_none=True) for b in first.content]
                ),
            },
            {
                "role": "user",
                "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "Sunny, 24 C"}],
            },
        ],
    )

    assert second.stop_reason == "end_turn"
    assert "Sunny, 24 C" in text_of(second.content[-1])


def test_thinking_on_a_thinking_model_streams_a_thinking_block(local_stack) -> None:
    message = client(local_stack).messages.create(
        model="kimi-k2-thinking",
        max_tokens=2000,
        thinking={"type": "enabled", "budget_tokens": 1024},
        messages=user("think first"),
    )

    kinds = [b.type for b in message.content]
    assert kinds[0] == "thinking" and "text" in kinds
    first = message.content[0]
    assert isinstance(first, ThinkingBlock)
    assert first.thinking


def test_a_base64_image(local_stack) -> None:
    image: Base64ImageSourceParam = {
        "type": "base64",
        "media_type": "image/png",
        "data": base64.b64encode(png(4, 3)).decode(),
    }
    message = client(local_stack).messages.create(
        model="kimi-k2.6",
        max_tokens=200,
        messages=[
            {
                "role": "user",
                "content": [{"type": "image", "source": image}, {"type": "text", "text": "what is it"}],
            }
        ],
    )

    assert text_of(message.content[0]).startswith("Simulated reply to: what is it")


def test_count_tokens_is_an_estimate(local_stack) -> None:
    counted = client(local_stack).messages.count_tokens(model="kimi-k2", messages=user("y" * 800))
    assert counted.input_tokens == 200


def test_errors_are_typed_sdk_exceptions(local_stack) -> None:
    with pytest.raises(anthropic.AuthenticationError):
        client(local_stack, key="sk_sluice_" + "z" * 43).messages.create(
            model="kimi-k2", max_tokens=10, messages=user("x")
        )
    with pytest.raises(anthropic.NotFoundError):
        client(local_stack).messages.create(model="claude-nonexistent", max_tokens=10, messages=user("x"))
    with pytest.raises(anthropic.BadRequestError) as bad:
        client(local_stack).messages.create(
            model="kimi-k2", max_tokens=10, messages=user("x"), extra_body={"temperature": 1.5}
        )
    assert isinstance(bad.value.body, dict)
    assert bad.value.body["type"] == "error" and bad.value.body["error"]["type"] == "invalid_request_error"


def _free_key() -> str:
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
    return issue_key(account_id, "e2e").raw_key


def test_permission_and_rate_limit_errors_for_a_free_key(stack_aws) -> None:
    # Its own source address, so that the IP bucket of the other tests is not touched.
    transport = httpx2.HTTPTransport(local_address="127.0.0.87")
    free = client(stack_aws, key=_free_key(), http_client=httpx2.Client(transport=transport))

    with pytest.raises(anthropic.PermissionDeniedError) as denied:
        free.messages.create(model="kimi-k2", max_tokens=10, messages=user("x"))
    for _ in range(40):  # a Free key: 40 requests per hour on auto and the free model
        free.messages.create(model="auto", max_tokens=10, messages=user("bok"))
    with pytest.raises(anthropic.RateLimitError) as limited:
        free.messages.create(model="auto", max_tokens=10, messages=user("bok"))

    assert "Pro" in denied.value.message
    assert isinstance(limited.value.body, dict)
    assert limited.value.body["error"]["type"] == "rate_limit_error"
    assert int(limited.value.response.headers["retry-after"]) > 0
