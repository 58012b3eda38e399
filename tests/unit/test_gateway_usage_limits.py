"""What counts against the usage limits: characters (code points) of conversation content."""

from __future__ import annotations

from dataclasses import replace

import pytest
from support.chat_anthropic import body as messages_body
from support.chat_anthropic import parse as parse_messages

from shared.chat.canonical import (
    ChatRequest,
    Image,
    Message,
    Reasoning,
    ReasoningConfig,
    Role,
    Text,
    ThinkingMode,
    ToolCall,
    ToolResult,
)
from shared.chat.messages import message_chars
from shared.errors import InvalidRequest, RequestTooLarge
from shared.gateway.usage_limits import body_too_large, check_body_size, check_content, clamp_max_tokens


def request(*messages: Message) -> ChatRequest:
    return ChatRequest(model="m", messages=messages)


def user(*parts) -> Message:
    return Message(Role.USER, tuple(parts))


def test_characters_are_code_points_not_bytes_or_utf16_units() -> None:
    assert message_chars(user(Text("č" * 10))) == 10
    assert message_chars(user(Text("😀" * 10))) == 10


def test_images_do_not_count_but_every_kind_of_text_does() -> None:
    assistant = Message(
        Role.ASSISTANT,
        (Reasoning("abc"), Text("de"), ToolCall(id="c1", name="lookup", arguments_json='{"q":1}')),
    )
    tool = Message(
        Role.USER, (ToolResult("c1", (Text("result"), Image(media_type="image/png", data="AAAA"))),)
    )

    assert message_chars(user(Image(url="https://example.com/a.png"), Text("hi"))) == 2
    assert message_chars(assistant) == 3 + 2 + 7
    assert message_chars(tool) == 6


@pytest.mark.parametrize(("plan", "limit"), [("free", 8_000), ("pro", 24_000)])
def test_one_message_limit(plan, limit) -> None:
    assert check_content(request(user(Text("a" * limit))), plan) == limit

    with pytest.raises(InvalidRequest) as refused:
        check_content(request(user(Text("ok")), user(Text("a" * (limit + 1)))), plan)
    assert refused.value.param == "messages.1.content"
    assert f"{limit:,} per message" in refused.value.message


@pytest.mark.parametrize(("plan", "limit"), [("free", 32_000), ("pro", 120_000)])
def test_all_messages_limit(plan, limit) -> None:
    each = limit // 8
    exact = [user(Text("a" * each)) for _ in range(8)]

    assert check_content(request(*exact), plan) == limit
    with pytest.raises(InvalidRequest) as refused:
        check_content(request(*exact, user(Text("a"))), plan)
    assert refused.value.param == "messages" and f"{limit:,}" in refused.value.message


def test_system_messages_are_not_conversation_content() -> None:
    system = Message(Role.SYSTEM, (Text("s" * 50_000),))

    assert check_content(request(system, user(Text("hi"))), "free") == 2


@pytest.mark.parametrize(("plan", "limit"), [("free", 64 * 1024), ("pro", 256 * 1024)])
def test_body_size_limit(plan, limit) -> None:
    check_body_size(limit, plan)
    with pytest.raises(RequestTooLarge) as refused:
        check_body_size(limit + 1, plan)
    assert refused.value.status == 413 and f"{limit // 1024} KB" in refused.value.message


@pytest.mark.parametrize(
    ("size", "plan", "message"),
    [
        (5_242_880, "free", "Request body is 5,242,880 bytes; the Free plan allows 64 KB."),
        (None, "pro", "Request body is over 256 KB; the Pro plan allows 256 KB."),
        (
            5_242_880,
            None,
            "Request body is 5,242,880 bytes; no plan allows more than 256 KB (the Pro plan's limit).",
        ),
    ],
)
def test_a_body_refusal_names_the_plan_or_the_largest_limit(size, plan, message) -> None:
    refused = body_too_large(size, plan)

    assert refused.status == 413 and refused.message == message


def test_an_unknown_plan_gets_the_free_limits() -> None:
    with pytest.raises(InvalidRequest):
        check_content(request(user(Text("a" * 8_001))), "trial")


@pytest.mark.parametrize(
    ("asked", "budget", "sent_budget"),
    [
        (32_000, 16_000, 4_000),  # half of what was asked stays half of the cap
        (32_000, 31_999, 7_999),  # all but one token: the most the cap allows
        (32_000, 2_048, 2_048),  # still under the cap: untouched
    ],
)
def test_a_clamp_keeps_the_thinking_budget_under_max_tokens(asked, budget, sent_budget) -> None:
    asking = replace(
        request(user(Text("think"))),
        max_tokens=asked,
        reasoning=ReasoningConfig(mode=ThinkingMode.ENABLED, budget_tokens=budget),
    )

    clamped, cap = clamp_max_tokens(asking, "pro", 8_000)

    assert cap == clamped.max_tokens == 8_000
    assert clamped.reasoning is not None and clamped.reasoning.budget_tokens == sent_budget
    budget, max_tokens = clamped.reasoning.budget_tokens, clamped.max_tokens
    assert budget is not None and max_tokens is not None and budget < max_tokens, "as Claude requires"


def test_a_messages_request_is_limited_per_turn_the_client_sent_not_per_merged_turn() -> None:
    """Two consecutive user turns become one message for the upstream; each is its own message."""
    two = [{"role": "user", "content": "a" * 15_000}, {"role": "user", "content": "b" * 15_000}]
    merged = parse_messages(messages_body(messages=two))

    assert len(merged.messages) == 1
    assert check_content(merged, "pro") == 30_000


def test_a_messages_request_over_the_limit_names_the_clients_own_turn() -> None:
    turns = [
        {"role": "user", "content": "hi"},
        {"role": "assistant", "content": "yo"},
        {"role": "system", "content": "be nice"},  # folded into the system prompt
        {"role": "user", "content": "b" * 25_000},
    ]
    with pytest.raises(InvalidRequest) as refused:
        check_content(parse_messages(messages_body(messages=turns)), "pro")

    assert refused.value.param == "messages.3.content"
    assert refused.value.message.startswith("messages[3] has 25,000 characters")
