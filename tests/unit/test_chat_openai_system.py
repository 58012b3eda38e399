"""The system prompt Sluice adds (a model's persona, an Anthropic-format client's ``system``) joins
an OpenAI-format client's first system message: one system message reaches the upstream, first,
as the chat templates of Mistral, Qwen and Gemma models require."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from shared.chat.canonical import ChatRequest, Text
from shared.chat.from_openai import request_from_openai
from shared.chat.to_openai import request_to_openai
from shared.http.body import parse_model
from shared.wire.openai import ChatCompletionRequest

PERSONA = "You are hrLLM."


def upstream_messages(messages: list[dict[str, Any]], persona: str | None = PERSONA) -> list[dict[str, Any]]:
    request: ChatRequest = request_from_openai(
        parse_model(ChatCompletionRequest, {"model": "m", "messages": messages})
    )
    if persona is not None:
        request = replace(request, system=(Text(persona),))
    rendered: list[dict[str, Any]] = request_to_openai(request)["messages"]
    return rendered


def test_the_persona_joins_the_clients_system_message() -> None:
    messages = [{"role": "system", "content": "Answer briefly."}, {"role": "user", "content": "Hi"}]

    assert upstream_messages(messages) == [
        {"role": "system", "content": f"{PERSONA}\n\nAnswer briefly."},
        {"role": "user", "content": "Hi"},
    ]


def test_a_developer_message_joins_it_too() -> None:
    messages = [{"role": "developer", "content": "Use tools."}, {"role": "user", "content": "Hi"}]

    assert [m["role"] for m in upstream_messages(messages)] == ["system", "user"]


def test_a_system_message_with_parts_keeps_its_cache_mark_after_the_persona() -> None:
    marked = {"type": "text", "text": "Long rules.", "cache_control": {"type": "ephemeral"}}
    messages: list[dict[str, Any]] = [
        {"role": "system", "content": [marked]},
        {"role": "user", "content": "Hi"},
    ]

    [system, _] = upstream_messages(messages)

    assert system["content"] == [{"type": "text", "text": f"{PERSONA}\n\n"}, marked]


def test_without_a_client_system_message_the_persona_comes_first_alone() -> None:
    assert upstream_messages([{"role": "user", "content": "Hi"}]) == [
        {"role": "system", "content": PERSONA},
        {"role": "user", "content": "Hi"},
    ]


def test_a_named_system_message_stays_its_own() -> None:
    messages = [{"role": "system", "content": "Rules.", "name": "ops"}, {"role": "user", "content": "Hi"}]

    assert upstream_messages(messages)[:2] == [
        {"role": "system", "content": PERSONA},
        {"role": "system", "content": "Rules.", "name": "ops"},
    ]


def test_without_a_persona_the_clients_system_messages_go_as_sent() -> None:
    messages = [
        {"role": "system", "content": "One."},
        {"role": "developer", "content": "Two."},
        {"role": "user", "content": "Hi"},
    ]

    assert upstream_messages(messages, persona=None) == [
        {"role": "system", "content": "One."},
        {"role": "system", "content": "Two."},
        {"role": "user", "content": "Hi"},
    ]
