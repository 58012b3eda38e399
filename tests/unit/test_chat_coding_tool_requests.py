"""Coding tools' OpenAI-format requests, as their source builds them, mapped for Claude (Anthropic and
Bedrock): fields OpenAI-compatible hosts take, and Claude would refuse, are mapped rather than
refused; an OpenAI-compatible upstream gets them as sent."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from support.claude_requests import BEDROCK_CLAUDE, from_anthropic, from_openai

from shared.chat.canonical import ChatRequest
from shared.chat.to_anthropic import request_to_anthropic
from shared.chat.to_openai import request_to_openai
from shared.providers.bedrock_request import request_to_converse

READ_FILE = {"type": "function", "function": {"name": "read_file", "parameters": {"type": "object"}}}
PNG = "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
CALL = {
    "id": "call_c",
    "type": "function",
    "function": {"name": "read_file", "arguments": '{"path": "a.py"}'},
}


def converse(req: ChatRequest, model: str = BEDROCK_CLAUDE) -> dict[str, Any]:
    return request_to_converse(replace(req, model=model))


def thinking_of(req: ChatRequest, style: Any = "adaptive") -> tuple[Any, Any]:
    """``thinking`` as the Anthropic and the Bedrock mappers send it to Claude."""
    body = request_to_anthropic(req, thinking_style=style)
    fields = request_to_converse(replace(req, model=BEDROCK_CLAUDE), thinking_style=style)
    return body.get("thinking"), fields.get("additionalModelRequestFields", {}).get("thinking")


def test_an_enabled_thinking_switch_without_a_budget_is_adaptive_thinking() -> None:
    """Roo Code (base-openai-compatible-provider.ts) sends ``{"type": "enabled"}`` alone, the switch
    Moonshot, GLM and DeepSeek take; Claude refuses enabled thinking without a budget."""
    req = from_openai(thinking={"type": "enabled"}, max_tokens=16384)

    assert thinking_of(req) == ({"type": "adaptive"}, {"type": "adaptive"})
    medium = {"type": "enabled", "budget_tokens": 8192}  # a model that thinks by budget: medium's
    assert thinking_of(req, "budget") == (medium, medium)
    assert request_to_openai(req)["thinking"] == {"type": "enabled"}


def test_a_thinking_budget_that_leaves_no_room_under_max_tokens_keeps_a_share_of_it() -> None:
    """Kilo Code (openai.ts) sends its budget with no max_tokens (the plan's cap then) or over it."""
    for req in (
        from_openai(thinking={"type": "enabled", "budget_tokens": 16000}, max_tokens=8192),
        from_openai(thinking={"type": "enabled", "budget_tokens": 8192}, max_tokens=8192),
    ):
        assert thinking_of(req) == ({"type": "enabled", "budget_tokens": 4096},) * 2
    fits = from_openai(thinking={"type": "enabled", "budget_tokens": 2048}, max_tokens=8192)
    assert thinking_of(fits) == ({"type": "enabled", "budget_tokens": 2048},) * 2


def test_an_anthropic_clients_thinking_budget_goes_as_sent() -> None:
    """Anthropic refuses a budget of max_tokens or more; its own clients get that answer."""
    req = from_anthropic(thinking={"type": "enabled", "budget_tokens": 4096}, max_tokens=4096)

    assert request_to_anthropic(req)["thinking"] == {"type": "enabled", "budget_tokens": 4096}


def test_blank_text_is_left_out_for_claude_and_bedrock_and_sent_as_is_to_openai_upstreams() -> None:
    """Continue (openaiTypeConverters.ts) sends ``" "`` for a turn without text, one that only calls
    tools too; Anthropic and Converse refuse text blocks that are empty or only whitespace."""
    req = from_openai(
        messages=[
            {"role": "system", "content": " "},
            {"role": "user", "content": "read a.py"},
            {"role": "assistant", "content": " ", "tool_calls": [CALL]},
            {"role": "tool", "tool_call_id": "call_c", "content": "print(1)"},
            {
                "role": "user",
                "content": [{"type": "text", "text": "\n"}, {"type": "text", "text": "and now?"}],
            },
        ],
        tools=[READ_FILE],
    )

    body = request_to_anthropic(req)
    assert "system" not in body
    assert body["messages"][1]["content"] == [
        {"type": "tool_use", "id": "call_c", "name": "read_file", "input": {"path": "a.py"}}
    ]
    assert body["messages"][2]["content"][1:] == [{"type": "text", "text": "and now?"}]
    for model in (BEDROCK_CLAUDE, "meta.llama3-70b-instruct-v1:0"):
        fields = converse(req, model)
        assert "system" not in fields
        assert fields["messages"][1]["content"] == [
            {"toolUse": {"toolUseId": "call_c", "name": "read_file", "input": {"path": "a.py"}}}
        ]
        assert fields["messages"][2]["content"][1:] == [{"text": "and now?"}]
    sent = request_to_openai(req)["messages"]
    assert sent[0]["content"] == " " and sent[2]["content"] == " "


def test_cache_control_on_a_message_or_a_tool_call_marks_its_last_block() -> None:
    """OpenCode marks Claude models' prompts for caching through the Vercel AI SDK's
    OpenAI-compatible provider, which writes ``cache_control`` on the message (a system message, a
    user message of one text part, a tool message) or on a part, a tool call's included."""
    ephemeral = {"type": "ephemeral"}
    req = from_openai(
        messages=[
            {"role": "system", "content": "You are opencode.", "cache_control": ephemeral},
            {"role": "user", "content": "read a.py", "cache_control": ephemeral},
            {"role": "assistant", "content": None, "tool_calls": [{**CALL, "cache_control": ephemeral}]},
            {"role": "tool", "tool_call_id": "call_c", "content": "print(1)", "cache_control": ephemeral},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "and this?"},
                    {
                        "type": "image_url",
                        "image_url": {"url": PNG},
                        "cache_control": ephemeral,
                    },
                ],
            },
        ],
        tools=[READ_FILE],
    )

    body = request_to_anthropic(req)
    assert body["system"] == [{"type": "text", "text": "You are opencode.", "cache_control": ephemeral}]
    first, call, last = body["messages"]
    assert first["content"] == [{"type": "text", "text": "read a.py", "cache_control": ephemeral}]
    assert call["content"][0]["cache_control"] == ephemeral
    assert [block.get("cache_control") for block in last["content"]] == [ephemeral, None, ephemeral]
    points = [block for m in converse(req)["messages"] for block in m["content"] if "cachePoint" in block]
    assert len(points) == 4 and "cachePoint" in converse(req)["system"][-1]
    assert request_to_openai(req)["messages"][0]["content"][0]["cache_control"] == ephemeral
