"""Anthropic Messages responses: an upstream's message in canonical form (blocks, usage, stop
reasons), a canonical answer rendered for an Anthropic client (a fresh ``msg_`` id, the public
model name, valid for the SDK), what is an upstream error either way, and random message ids."""

from dataclasses import replace
from typing import Any

import pytest
from anthropic.types import Message as SdkMessage

from shared.chat.canonical import (
    ChatResponse,
    Choice,
    Finish,
    FinishReason,
    Reasoning,
    Text,
    ToolCall,
    Usage,
)
from shared.chat.from_anthropic_response import response_from_anthropic
from shared.chat.ids import new_anthropic_id
from shared.chat.to_anthropic_response import response_to_anthropic
from shared.errors import UpstreamError

# --- responses ---------------------------------------------------------------------------------


def upstream(content: list[dict[str, Any]], stop: str | None = "end_turn", **extra: Any) -> dict[str, Any]:
    return {
        "id": "msg_up",
        "type": "message",
        "role": "assistant",
        "model": "claude-x",
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": {"input_tokens": 10, "output_tokens": 5},
        **extra,
    }


def test_response_blocks_and_usage() -> None:
    answer = response_from_anthropic(
        upstream(
            [
                {"type": "text", "text": "a", "citations": None},
                {"type": "tool_use", "id": "t", "name": "f", "input": {"k": "v"}},
            ],
            "tool_use",
            usage={
                "input_tokens": 10,
                "cache_read_input_tokens": 30,
                "cache_creation_input_tokens": 5,
                "output_tokens": 7,
            },
        )
    )
    assert answer.choices[0].parts == (Text("a"), ToolCall("t", "f", '{"k": "v"}'))
    assert answer.usage == Usage(45, 7, cache_read_tokens=30, cache_write_tokens=5)
    rendered = response_to_anthropic(answer, model="claude")
    assert rendered["usage"] == {
        "input_tokens": 10,
        "cache_creation_input_tokens": 5,
        "cache_read_input_tokens": 30,
        "output_tokens": 7,
    }


def test_unknown_stop_reasons_and_blocks_are_upstream_errors() -> None:
    with pytest.raises(UpstreamError):
        response_from_anthropic(upstream([{"type": "text", "text": "a"}], "bored"))
    with pytest.raises(UpstreamError):
        response_from_anthropic(
            upstream([{"type": "server_tool_use", "id": "s", "name": "web", "input": {}}])
        )


def test_rendered_response_has_fresh_id_public_model_and_text_with_tools() -> None:
    answer = ChatResponse(
        id="chatcmpl-up",
        model="Qwen/Qwen3",
        choices=(
            Choice(
                0,
                (Reasoning("r"), Text("t"), ToolCall("c", "f", "")),
                Finish(FinishReason.TOOL_CALLS),
            ),
        ),
        usage=Usage(12, 3, cache_read_tokens=2),
    )
    first = response_to_anthropic(answer, model="qwen3")
    assert (
        first["id"].startswith("msg_") and first["id"] != response_to_anthropic(answer, model="qwen3")["id"]
    )
    assert first["model"] == "qwen3"
    assert first["content"] == [
        {"type": "thinking", "thinking": "r", "signature": ""},
        {"type": "text", "text": "t"},
        {"type": "tool_use", "id": "c", "name": "f", "input": {}},
    ]
    assert first["stop_reason"] == "tool_use"
    assert first["usage"] == {"input_tokens": 10, "cache_read_input_tokens": 2, "output_tokens": 3}
    SdkMessage.model_validate(first)


def test_error_finish_and_invalid_tool_json_are_upstream_errors() -> None:
    failed = ChatResponse(id=None, model="m", choices=(Choice(0, (Text("x"),), Finish(FinishReason.ERROR)),))
    with pytest.raises(UpstreamError):
        response_to_anthropic(failed, model="m")
    bad_json = ChatResponse(id=None, model="m", choices=(Choice(0, (ToolCall("c", "f", "{oops"),), None),))
    with pytest.raises(UpstreamError):
        response_to_anthropic(bad_json, model="m")


def test_stop_sequence_is_reported() -> None:
    answer = response_from_anthropic(
        upstream([{"type": "text", "text": "a"}], "stop_sequence", stop_sequence="##")
    )
    assert answer.choices[0].finish == Finish(FinishReason.STOP_SEQUENCE, "##")
    rendered = response_to_anthropic(replace(answer, usage=None), model="m")
    assert (rendered["stop_reason"], rendered["stop_sequence"]) == ("stop_sequence", "##")
    assert rendered["usage"] == {"input_tokens": 0, "output_tokens": 0}  # schema-required; none reported


def test_anthropic_ids_are_random() -> None:
    ids = {new_anthropic_id() for _ in range(100)}
    assert len(ids) == 100 and all(i.startswith("msg_") for i in ids)
