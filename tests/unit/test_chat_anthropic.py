"""Anthropic Messages requests: the wire model's checks (each refusal names its parameter), and
request translation to canonical form, back to Anthropic and on to OpenAI: unknown fields, system
turns, tool results, tools and tool choice, thinking and its blocks."""

from typing import Any

import pytest
from support.chat_anthropic import body, parse

from shared.chat.canonical import (
    CacheControl,
    Message,
    Reasoning,
    ReasoningConfig,
    RedactedReasoning,
    Role,
    ServerTool,
    Text,
    ThinkingMode,
    ToolChoiceMode,
    ToolReference,
    ToolResult,
)
from shared.chat.to_anthropic import request_to_anthropic
from shared.chat.to_openai import request_to_openai
from shared.errors import InvalidRequest


@pytest.mark.parametrize(
    ("data", "param"),
    [
        ({"model": "claude", "messages": [{"role": "user", "content": "x"}]}, "max_tokens"),
        (body(temperature=1.5), "temperature"),
        (body(top_p=-0.1), "top_p"),
        (body(top_k=-1), "top_k"),
        (body(stop_sequences=["1", "2", "3", "4", "5"]), "stop_sequences"),
        (body(messages=[]), "messages"),
        (body(messages=[{"role": "tool", "content": "x"}]), "messages.0.role"),
        (body(thinking={"type": "enabled", "budget_tokens": 100}), "thinking.budget_tokens"),
        (body(thinking={"type": "enabled"}), "thinking.budget_tokens"),
        (body(tool_choice={"type": "tool"}), "tool_choice.name"),
        (body(tool_choice={"type": "sometimes"}), "tool_choice.type"),
    ],
)
def test_invalid_parameters_name_the_param(data: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(data)
    assert caught.value.param == param


def test_unknown_content_block_types_are_refused_by_position() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(body(messages=[{"role": "user", "content": [{"type": "video", "url": "x"}]}]))
    assert caught.value.param == "messages.0.content.0"


def test_document_blocks_are_refused_clearly() -> None:
    document = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "x"}}
    with pytest.raises(InvalidRequest) as caught:
        parse(body(messages=[{"role": "user", "content": [document]}]))
    assert caught.value.param == "messages.0.content.0.type"
    assert "document blocks are not supported" in caught.value.message


def test_blocks_in_the_wrong_turn_are_refused() -> None:
    use = {"type": "tool_use", "id": "t", "name": "f", "input": {}}
    with pytest.raises(InvalidRequest) as caught:
        parse(body(messages=[{"role": "user", "content": [use]}]))
    assert caught.value.param == "messages.0.content.0"


def test_unknown_top_level_fields_are_kept_for_anthropic_upstreams_only() -> None:
    request = parse(
        body(context_management={"edits": []}, container="c-1", output_config={"effort": "low", "x": 1})
    )
    assert request.extras == {
        "context_management": {"edits": []},
        "container": "c-1",
        "output_config": {"x": 1},
    }
    rendered = request_to_anthropic(request)
    assert rendered["context_management"] == {"edits": []} and rendered["container"] == "c-1"
    assert rendered["output_config"] == {"x": 1, "effort": "low"}
    openai_body = request_to_openai(request)
    assert "context_management" not in openai_body and "container" not in openai_body


def test_system_turns_fold_into_system_and_same_role_turns_merge() -> None:
    request = parse(
        body(
            system="Top.",
            messages=[
                {"role": "user", "content": "a"},
                {
                    "role": "system",
                    "content": [{"type": "text", "text": "Mid.", "cache_control": {"type": "ephemeral"}}],
                },
                {"role": "user", "content": [{"type": "text", "text": "b"}]},
                {"role": "assistant", "content": "c"},
                {"role": "assistant", "content": "d"},
            ],
        )
    )
    assert request.system == (Text("Top."), Text("Mid.", cache=CacheControl()))
    assert request.messages == (
        Message(Role.USER, (Text("a"), Text("b"))),
        Message(Role.ASSISTANT, (Text("c"), Text("d"))),
    )


def test_system_turns_hold_only_text() -> None:
    image = {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}}
    with pytest.raises(InvalidRequest) as caught:
        parse(body(messages=[{"role": "system", "content": [image]}, {"role": "user", "content": "x"}]))
    assert caught.value.param == "messages.0.content.0"


def test_tool_results_keep_is_error_images_and_tool_references() -> None:
    result = {
        "type": "tool_result",
        "tool_use_id": "t1",
        "is_error": True,
        "content": [
            {"type": "text", "text": "bad"},
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "AAAA"}},
            {"type": "tool_reference", "tool_name": "Bash"},
        ],
    }
    request = parse(body(messages=[{"role": "user", "content": [result]}]))
    (part,) = request.messages[0].parts
    assert isinstance(part, ToolResult) and part.is_error
    assert part.content[2] == ToolReference("Bash")
    assert request_to_anthropic(request)["messages"][0]["content"] == [result]
    openai_messages = request_to_openai(request)["messages"]
    assert openai_messages[0]["content"] == [
        {"type": "text", "text": "Error: bad"},
        {"type": "text", "text": "[tool_reference: Bash]"},
    ]
    assert openai_messages[1]["content"][1]["image_url"]["url"] == "data:image/png;base64,AAAA"


def test_tools_server_tools_and_tool_choice() -> None:
    request = parse(
        body(
            tools=[
                {"name": "f", "input_schema": {"type": "object"}, "cache_control": {"type": "ephemeral"}},
                {"type": "web_search_20250305", "name": "web_search", "max_uses": 3},
            ],
            tool_choice={"type": "auto", "disable_parallel_tool_use": False},
        )
    )
    assert request.tools[1] == ServerTool("web_search_20250305", "web_search", {"max_uses": 3})
    assert request.tool_choice is not None and request.tool_choice.mode is ToolChoiceMode.AUTO
    assert request.parallel_tool_calls is True
    rendered = request_to_anthropic(request)
    assert rendered["tools"][1] == {"type": "web_search_20250305", "name": "web_search", "max_uses": 3}
    assert rendered["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": False}


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "any"}, "required"),
        ({"type": "none"}, "none"),
        ({"type": "auto"}, "auto"),
        ({"type": "tool", "name": "f"}, {"type": "function", "function": {"name": "f"}}),
    ],
)
def test_tool_choice_maps_to_openai(choice: dict[str, Any], expected: Any) -> None:
    tools = [{"name": "f", "input_schema": {"type": "object"}}]
    assert request_to_openai(parse(body(tools=tools, tool_choice=choice)))["tool_choice"] == expected


def test_thinking_and_effort() -> None:
    request = parse(body(max_tokens=4000, thinking={"type": "enabled", "budget_tokens": 2000}))
    assert request.reasoning == ReasoningConfig(mode=ThinkingMode.ENABLED, budget_tokens=2000)
    assert request_to_openai(request)["thinking"] == {"type": "enabled", "budget_tokens": 2000}
    disabled = parse(body(thinking={"type": "disabled"}, output_config={"effort": "max"}))
    assert request_to_openai(disabled)["thinking"] == {"type": "disabled"}
    assert request_to_openai(disabled)["reasoning_effort"] == "max"


def test_thinking_blocks_keep_signatures_and_redactions() -> None:
    blocks = [
        {"type": "thinking", "thinking": "hmm", "signature": "sig"},
        {"type": "redacted_thinking", "data": "opaque"},
        {"type": "text", "text": "answer"},
    ]
    request = parse(
        body(messages=[{"role": "user", "content": "q"}, {"role": "assistant", "content": blocks}])
    )
    assert request.messages[1].parts == (Reasoning("hmm", "sig"), RedactedReasoning("opaque"), Text("answer"))
    assert request_to_anthropic(request)["messages"][1]["content"] == blocks
    assert request_to_openai(request)["messages"][1] == {
        "role": "assistant",
        "content": "answer",
        "reasoning_content": "hmm",
    }
