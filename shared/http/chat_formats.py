"""The two wire formats the chat function speaks, as parse/render functions over the canonical shape."""

from __future__ import annotations

from typing import Any

from shared.chat.canonical import ChatRequest, ChatResponse
from shared.chat.from_anthropic import request_from_anthropic
from shared.chat.from_openai import request_from_openai
from shared.chat.ids import new_anthropic_id
from shared.chat.to_anthropic_response import response_to_anthropic
from shared.chat.to_openai_response import response_to_openai
from shared.gateway.passthrough import PassthroughResponse, rewrite_message
from shared.gateway.sse_render import AnthropicSse, OpenAISse, SseRenderer
from shared.http.body import parse_model
from shared.http.chat_flow import ChatFormat
from shared.wire.anthropic import MessagesRequest
from shared.wire.openai import ChatCompletionRequest


def _parse_openai(data: dict[str, Any]) -> ChatRequest:
    return request_from_openai(parse_model(ChatCompletionRequest, data))


def _render_openai(request: ChatRequest, answer: ChatResponse, model: str) -> dict[str, Any]:
    return response_to_openai(answer, model=model, legacy_functions=request.legacy_functions)


def _openai_stream(request: ChatRequest, model: str) -> SseRenderer:
    return OpenAISse(
        model=model, include_usage=request.include_usage, legacy_functions=request.legacy_functions
    )


OPENAI = ChatFormat(
    endpoint="chat.completions", parse=_parse_openai, render=_render_openai, stream_renderer=_openai_stream
)


def parse_messages_request(data: dict[str, Any]) -> ChatRequest:
    return request_from_anthropic(parse_model(MessagesRequest, data))


def _render_anthropic(request: ChatRequest, answer: ChatResponse, model: str) -> dict[str, Any]:
    if isinstance(answer, PassthroughResponse):  # an Anthropic-native upstream's own message
        return rewrite_message(answer.raw, model, new_anthropic_id())
    return response_to_anthropic(answer, model=model)


def _anthropic_stream(request: ChatRequest, model: str) -> SseRenderer:
    return AnthropicSse(model=model)


ANTHROPIC = ChatFormat(
    endpoint="messages",
    parse=parse_messages_request,
    render=_render_anthropic,
    stream_renderer=_anthropic_stream,
    passthrough=True,
)
