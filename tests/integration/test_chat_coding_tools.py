"""Coding tools' OpenAI-format requests, as their source builds them, through the chat endpoint to
Claude on an Anthropic route and on a Bedrock route (both served by the simulator, which refuses
what Anthropic and Converse refuse). Fields OpenAI-compatible hosts take must not break them."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from typing import Any

import pytest
from chat_support import chat_http, install_catalog

from shared.catalog.models import UpstreamRoute
from shared.providers import registry

ON_ANTHROPIC, ON_BEDROCK = "kimi-k2.6", "kimi-k2.5"
READ_FILE = {
    "type": "function",
    "function": {
        "name": "read_file",
        "description": "Read a file",
        "strict": True,
        "parameters": {
            "type": "object",
            "properties": {"path": {"type": "string"}},
            "required": ["path"],
            "additionalProperties": False,
        },
    },
}


@pytest.fixture
def claude_routes(chat_world, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    simulator = chat_world.simulator
    monkeypatch.setenv("AWS_ENDPOINT_URL_BEDROCK_RUNTIME", f"http://{simulator.host}:{simulator.port}")
    registry._provider.cache_clear()  # a fresh Bedrock adapter, built with that endpoint
    anthropic = UpstreamRoute(
        provider="anthropic",
        base_url=simulator.base_url,
        model="claude-sonnet-4-6",
        secret_ref="env:SLUICE_UPSTREAM_API_KEY",
    )
    bedrock = UpstreamRoute(provider="bedrock", model="anthropic.claude-sonnet-4-6", region="us-east-1")
    install_catalog({ON_ANTHROPIC: [anthropic], ON_BEDROCK: [bedrock]})
    yield
    registry._provider.cache_clear()


def post(key: str, body: dict[str, Any]) -> tuple[int, list[dict[str, Any]]]:
    """Status and the streamed chunks (or the error body as one)."""

    async def go() -> tuple[int, list[dict[str, Any]]]:
        async with chat_http() as http:
            response = await http.post(
                "/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}
            )
        if response.status_code != 200:
            return response.status_code, [response.json()]
        lines = [
            line.removeprefix("data: ") for line in response.text.splitlines() if line.startswith("data: ")
        ]
        return 200, [json.loads(line) for line in lines if line != "[DONE]"]

    return asyncio.run(go())


def finish_of(chunks: list[dict[str, Any]]) -> str | None:
    return next(
        (c["finish_reason"] for chunk in chunks for c in chunk["choices"] if c["finish_reason"]), None
    )


def reasoning_of(chunks: list[dict[str, Any]]) -> str:
    return "".join(c["delta"].get("reasoning_content") or "" for chunk in chunks for c in chunk["choices"])


@pytest.mark.parametrize("model", [ON_ANTHROPIC, ON_BEDROCK])
def test_roo_codes_thinking_switch_without_a_budget_makes_claude_think(
    chat_world, claude_routes, model
) -> None:
    """Roo Code's base-openai-compatible-provider.ts sends ``thinking: {"type": "enabled"}`` alone,
    as Moonshot, GLM and DeepSeek take it; Claude refuses enabled thinking without a budget."""
    body = {
        "model": model,
        "max_tokens": 16384,
        "temperature": 0,
        "messages": [{"role": "system", "content": "You are Roo."}, {"role": "user", "content": "Hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "thinking": {"type": "enabled"},
    }

    status, chunks = post(chat_world.pro.key, body)

    assert status == 200, chunks
    assert finish_of(chunks) == "stop" and reasoning_of(chunks)


@pytest.mark.parametrize("model", [ON_ANTHROPIC, ON_BEDROCK])
def test_kilo_codes_thinking_budget_without_max_tokens_fits_under_the_cap(
    chat_world, claude_routes, model
) -> None:
    """Kilo Code's openai.ts sends its thinking budget and, by default, no max_tokens (then the
    plan's cap, 8192, which the budget does not fit under: Claude refuses that)."""
    body = {
        "model": model,
        "temperature": 0,
        "messages": [{"role": "user", "content": "Hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "thinking": {"type": "enabled", "budget_tokens": 16000},
    }

    status, chunks = post(chat_world.pro.key, body)

    assert status == 200, chunks
    assert finish_of(chunks) == "stop" and reasoning_of(chunks)


@pytest.mark.parametrize("model", [ON_ANTHROPIC, ON_BEDROCK])
def test_continues_blank_placeholders_do_not_reach_claude(chat_world, claude_routes, model) -> None:
    """Continue's openaiTypeConverters.ts sends ``" "`` for an assistant turn without text (one
    that only calls tools, too) and for an empty user turn."""
    call = {
        "id": "call_c",
        "type": "function",
        "function": {"name": "read_file", "arguments": '{"path":"a.py"}'},
    }
    body = {
        "model": model,
        "max_tokens": 4096,
        "messages": [
            {"role": "system", "content": " "},
            {"role": "user", "content": "read a.py"},
            {"role": "assistant", "content": " ", "tool_calls": [call]},
            {"role": "tool", "tool_call_id": "call_c", "content": "print(1)"},
            {"role": "assistant", "content": " "},
            {"role": "user", "content": "and now?"},
        ],
        "tools": [READ_FILE],
        "stream": True,
    }

    status, chunks = post(chat_world.pro.key, body)

    assert status == 200, chunks
    assert finish_of(chunks) == "stop"
