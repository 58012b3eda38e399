"""Golden tests: recorded wire payloads in, exact wire payloads out (tests/fixtures/chat and the
two real Claude Code requests in tests/fixtures/claude-code)."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from anthropic.types import Message as SdkMessage
from openai.types.chat import ChatCompletion as SdkChatCompletion
from openai.types.chat import ChatCompletionChunk as SdkChunk

from shared.chat.canonical import ChatRequest, Role, Text, ThinkingMode, Tool, ToolResult
from shared.chat.from_anthropic import request_from_anthropic
from shared.chat.from_anthropic_response import response_from_anthropic
from shared.chat.from_openai import request_from_openai
from shared.chat.from_openai_response import response_from_openai
from shared.chat.sse import SseParser, encode_anthropic_event
from shared.chat.stream_anthropic import (
    AnthropicStreamWriter,
    parse_anthropic_events,
    render_anthropic_events,
)
from shared.chat.stream_openai import OpenAIStreamWriter, parse_openai_chunks, render_openai_chunks
from shared.chat.to_anthropic import request_to_anthropic
from shared.chat.to_anthropic_response import response_to_anthropic
from shared.chat.to_openai import request_to_openai
from shared.chat.to_openai_response import response_to_openai
from shared.wire.anthropic import MessagesRequest
from shared.wire.openai import ChatCompletionRequest

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
CHAT = FIXTURES / "chat"


def load(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text())


def fixed(value: str) -> Callable[[], str]:
    return lambda: value


def cases(folder: str) -> list[Path]:
    return sorted((CHAT / folder).glob("*.json"))


def from_anthropic_body(body: dict[str, Any]) -> ChatRequest:
    return request_from_anthropic(MessagesRequest.model_validate(body))


def from_openai_body(body: dict[str, Any]) -> ChatRequest:
    return request_from_openai(ChatCompletionRequest.model_validate(body))


@pytest.mark.parametrize("path", cases("anthropic-to-openai"), ids=lambda p: p.stem)
def test_anthropic_client_openai_upstream(path: Path) -> None:
    case = load(path)
    # Given an Anthropic client request, when it is sent to an OpenAI-compatible upstream
    assert request_to_openai(from_anthropic_body(case["anthropic_request"])) == case["openai_request"]
    # and the upstream's answer is rendered for the client
    answer = response_from_openai(case["openai_response"])
    rendered = response_to_anthropic(answer, model="kimi-k2.6", new_id=fixed("msg_test0001"))
    assert rendered == case["anthropic_response"]
    SdkMessage.model_validate(rendered)


@pytest.mark.parametrize("path", cases("openai-to-anthropic"), ids=lambda p: p.stem)
def test_openai_client_anthropic_upstream(path: Path) -> None:
    case = load(path)
    assert request_to_anthropic(from_openai_body(case["openai_request"])) == case["anthropic_request"]
    answer = response_from_anthropic(case["anthropic_response"])
    rendered = response_to_openai(
        answer, model="claude-sonnet", new_id=fixed("chatcmpl-test0001"), created=1700000100
    )
    assert rendered == case["openai_response"]
    SdkChatCompletion.model_validate(rendered)


@pytest.mark.parametrize("path", cases("anthropic-to-openai"), ids=lambda p: p.stem)
def test_anthropic_requests_survive_a_round_trip(path: Path) -> None:
    body = load(path)["anthropic_request"]
    once = from_anthropic_body(body)
    assert from_anthropic_body(request_to_anthropic(once)) == once


@pytest.mark.parametrize("path", cases("openai-to-anthropic"), ids=lambda p: p.stem)
def test_openai_requests_survive_a_round_trip(path: Path) -> None:
    body = load(path)["openai_request"]
    once = from_openai_body(body)
    assert from_openai_body(request_to_openai(once)) == once


def test_openai_upstream_stream_becomes_anthropic_events() -> None:
    case = load(CHAT / "streams" / "openai-upstream-to-anthropic.json")
    writer = AnthropicStreamWriter(model=case["model"], new_id=fixed(case["message_id"]))
    events = list(render_anthropic_events(parse_openai_chunks(case["upstream_chunks"]), writer))
    assert events == case["anthropic_events"]
    assert [e["index"] for e in events if e["type"] == "content_block_start"] == [0, 1, 2]


def test_anthropic_upstream_stream_becomes_openai_chunks() -> None:
    case = load(CHAT / "streams" / "anthropic-upstream-to-openai.json")
    writer = OpenAIStreamWriter(
        model=case["model"],
        include_usage=case["include_usage"],
        new_id=fixed(case["completion_id"]),
        created=case["created"],
    )
    chunks = list(render_openai_chunks(parse_anthropic_events(case["upstream_events"]), writer))
    assert chunks == case["openai_chunks"]
    for chunk in chunks:
        SdkChunk.model_validate(chunk)


def test_recorded_anthropic_sse_bytes_pass_through_unchanged() -> None:
    raw = (CHAT / "streams" / "sse-anthropic-upstream.txt").read_bytes()
    parser = SseParser()
    upstream = [
        json.loads(e.data) for size in range(0, len(raw), 7) for e in parser.feed(raw[size : size + 7])
    ]
    assert [e["type"] for e in upstream][:3] == ["message_start", "content_block_start", "ping"]
    writer = AnthropicStreamWriter(model="claude-sonnet", new_id=fixed("msg_up"))
    replayed = list(render_anthropic_events(parse_anthropic_events(upstream), writer))
    expected = [e for e in upstream if e["type"] != "ping"]
    expected[0]["message"]["model"] = "claude-sonnet"
    expected[0]["message"]["usage"] = {"input_tokens": 25, "output_tokens": 1}
    expected[-2]["usage"] = {"input_tokens": 25, "output_tokens": 15}
    assert replayed == expected
    assert b"".join(encode_anthropic_event(e) for e in replayed).startswith(b"event: message_start\ndata: {")


# --- The two real Claude Code requests ---------------------------------------------------------


def claude_code(turn: str) -> dict[str, Any]:
    return load(FIXTURES / "claude-code" / f"{turn}-request.json")


@pytest.mark.parametrize("turn", ["turn1", "turn2"])
def test_claude_code_request_parses_and_translates_to_openai(turn: str) -> None:
    recorded = claude_code(turn)
    assert recorded["path"] == "/v1/messages?beta=true"
    body = recorded["body"]
    canonical = from_anthropic_body(body)
    openai_body = request_to_openai(canonical)

    # system blocks (three top-level, plus the mid-conversation system turn) joined, first
    system_texts = [b["text"] for b in body["system"]] + [
        t for m in body["messages"] if m["role"] == "system" for t in _texts(m["content"])
    ]
    assert openai_body["messages"][0] == {"role": "system", "content": "\n\n".join(system_texts)}
    assert [m["role"] for m in openai_body["messages"][1:]].count("system") == 0
    assert openai_body["max_tokens"] == 32000
    assert openai_body["stream"] is True and openai_body["stream_options"] == {"include_usage": True}
    assert len(openai_body["tools"]) == 12
    assert {t["function"]["name"] for t in openai_body["tools"]} == {t["name"] for t in body["tools"]}
    assert all(t["type"] == "function" and "parameters" in t["function"] for t in openai_body["tools"])
    assert openai_body["user"] == body["metadata"]["user_id"]
    assert openai_body["thinking"] == {"type": "enabled"}  # adaptive: OpenAI hosts know enabled only
    assert openai_body["reasoning_effort"] == "high"
    # Anthropic-only fields are not sent to an OpenAI-compatible upstream
    assert "context_management" not in openai_body and "output_config" not in openai_body


def test_claude_code_turn2_keeps_tool_result_error_and_text_with_tool_use() -> None:
    canonical = from_anthropic_body(claude_code("turn2")["body"])
    results = [p for m in canonical.messages for p in m.parts if isinstance(p, ToolResult)]
    assert len(results) == 1 and results[0].is_error and results[0].cache is not None
    openai_messages = request_to_openai(canonical)["messages"]
    assistant = next(m for m in openai_messages if m["role"] == "assistant")
    assert assistant["content"] == "Let me look."
    assert assistant["tool_calls"][0]["function"] == {"name": "Glob", "arguments": '{"pattern": "*.txt"}'}
    tool = next(m for m in openai_messages if m["role"] == "tool")
    assert tool["tool_call_id"] == "toolu_cap1"
    assert tool["content"].startswith("Error: <tool_use_error>Error: No such tool available: Glob.")


@pytest.mark.parametrize("turn", ["turn1", "turn2"])
def test_claude_code_request_round_trips_to_anthropic(turn: str) -> None:
    body = claude_code(turn)["body"]
    canonical = from_anthropic_body(body)
    rendered = request_to_anthropic(canonical)
    # What the public Messages format can carry comes back unchanged ...
    for key in ("model", "max_tokens", "stream", "metadata", "tools", "context_management", "output_config"):
        assert rendered[key] == body[key], key
    assert rendered["thinking"] == body["thinking"]
    deferred = next(t for t in rendered["tools"] if t["name"] == "DeferredToolPlaceholder")
    assert deferred["defer_loading"] is True
    # ... system turns are folded into `system` (cache_control kept) ...
    assert rendered["system"][:3] == body["system"]
    assert all(m["role"] != "system" for m in rendered["messages"])
    assert len(rendered["system"]) == 3 + sum(1 for m in body["messages"] if m["role"] == "system")
    # ... the rest of the conversation keeps every block, is_error and cache_control included
    conversation = [m for m in body["messages"] if m["role"] != "system"]
    assert rendered["messages"] == _merged(conversation)
    # and the canonical form is a fixed point
    assert from_anthropic_body(rendered) == canonical


def test_claude_code_turn1_canonical_shape() -> None:
    canonical = from_anthropic_body(claude_code("turn1")["body"])
    assert canonical.reasoning is not None and canonical.reasoning.mode is ThinkingMode.ADAPTIVE
    assert canonical.reasoning.display == "omitted"
    assert [m.role for m in canonical.messages] == [Role.USER]
    assert all(isinstance(p, Text) for p in canonical.messages[0].parts)
    assert all(isinstance(t, Tool) for t in canonical.tools)
    assert set(canonical.extras) == {"context_management"}


def _texts(content: Any) -> list[str]:
    if isinstance(content, str):
        return [content]
    return [b["text"] for b in content]


def _merged(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Anthropic turns in the renderer's normal form: block lists, same-role neighbours merged."""
    merged: list[dict[str, Any]] = []
    for message in messages:
        content = message["content"]
        blocks = [{"type": "text", "text": content}] if isinstance(content, str) else content
        blocks = [_normal_block(b) for b in blocks]
        if merged and merged[-1]["role"] == message["role"]:
            merged[-1]["content"].extend(blocks)
        else:
            merged.append({"role": message["role"], "content": list(blocks)})
    return merged


def _normal_block(block: dict[str, Any]) -> dict[str, Any]:
    if block["type"] == "tool_result" and isinstance(block.get("content"), str):
        return {**block, "content": [{"type": "text", "text": block["content"]}]}
    return block
