"""Chat requests for the tests of Claude's rules (shared/chat/claude_rules.py), parsed as each
client format parses them."""

from __future__ import annotations

from typing import Any

from shared.chat.canonical import ChatRequest
from shared.chat.from_anthropic import request_from_anthropic
from shared.chat.from_openai import request_from_openai
from shared.http.body import parse_model
from shared.wire.anthropic import MessagesRequest
from shared.wire.openai import ChatCompletionRequest

BEDROCK_CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"
WEATHER = {"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}


def from_openai(**fields: Any) -> ChatRequest:
    body = {"model": "m", "max_tokens": 4096, "messages": [{"role": "user", "content": "q"}], **fields}
    return request_from_openai(parse_model(ChatCompletionRequest, body))


def from_anthropic(**fields: Any) -> ChatRequest:
    body = {"model": "m", "max_tokens": 4096, "messages": [{"role": "user", "content": "q"}], **fields}
    return request_from_anthropic(parse_model(MessagesRequest, body))


def tool_loop(**fields: Any) -> ChatRequest:
    """An OpenAI client's next step in a tool loop, its history as the SDK keeps it."""
    messages = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "reasoning_content": "I should call the tool.",
            "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ],
        },
        {"role": "tool", "tool_call_id": "call_1", "content": "18 degrees"},
    ]
    return from_openai(messages=messages, tools=[WEATHER], **fields)
