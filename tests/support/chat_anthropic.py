"""Anthropic Messages request bodies for the Anthropic translation tests, and their reading into
canonical form through the wire model."""

from typing import Any

from shared.chat.canonical import ChatRequest
from shared.chat.from_anthropic import request_from_anthropic
from shared.http.body import parse_model
from shared.wire.anthropic import MessagesRequest


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "model": "claude",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hi"}],
        **overrides,
    }


def parse(data: dict[str, Any]) -> ChatRequest:
    return request_from_anthropic(parse_model(MessagesRequest, data))
