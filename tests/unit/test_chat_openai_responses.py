"""OpenAI Chat Completions responses: an upstream's completion in canonical form (text, reasoning
and refusals, tool calls, usage, finish reasons and vLLM's stop reasons), what is an upstream
error, a canonical answer rendered for an OpenAI client (a fresh ``chatcmpl-`` id, the public model
name, no invented usage, valid for the SDK, an OpenAI spelling for every finish reason), and random
completion ids."""

import string
from typing import Any

import pytest
from openai.types.chat import ChatCompletion as SdkChatCompletion

from shared.chat.canonical import (
    ChatResponse,
    Choice,
    Finish,
    FinishReason,
    Reasoning,
    Refusal,
    Text,
    ToolCall,
    Usage,
)
from shared.chat.from_openai_response import response_from_openai
from shared.chat.ids import new_openai_id
from shared.chat.to_openai_response import response_to_openai
from shared.errors import UpstreamError


def upstream(message: dict[str, Any], finish: str | None = "stop", **extra: Any) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", **message}, "finish_reason": finish, **extra}
    return {"id": "up-1", "object": "chat.completion", "created": 1, "model": "up-model", "choices": [choice]}


def test_response_keeps_text_reasoning_and_tool_calls_together() -> None:
    call = {"id": "c1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}
    answer = response_from_openai(
        upstream({"content": "Sure.", "reasoning_content": "think", "tool_calls": [call]}, "tool_calls")
    )
    assert answer.choices[0].parts == (Reasoning("think"), Text("Sure."), ToolCall("c1", "f", '{"a":1}'))
    assert answer.choices[0].finish == Finish(FinishReason.TOOL_CALLS)
    assert answer.usage is None


def test_reasoning_spelled_reasoning_and_refusals_are_read() -> None:
    answer = response_from_openai(
        upstream({"content": None, "reasoning": "r", "refusal": "no"}, "content_filter")
    )
    assert answer.choices[0].parts == (Reasoning("r"), Refusal("no"))
    assert answer.choices[0].finish == Finish(FinishReason.CONTENT_FILTER)


def test_vllm_stop_reason_names_the_stop_sequence() -> None:
    answer = response_from_openai(upstream({"content": "x"}, "stop", stop_reason="###"))
    assert answer.choices[0].finish == Finish(FinishReason.STOP_SEQUENCE, "###")
    token_stop = response_from_openai(upstream({"content": "x"}, "stop", stop_reason=151645))
    assert token_stop.choices[0].finish == Finish(FinishReason.STOP)


def test_unknown_finish_reason_and_malformed_answers_are_upstream_errors() -> None:
    with pytest.raises(UpstreamError):
        response_from_openai(upstream({"content": "x"}, "cancelled"))
    with pytest.raises(UpstreamError):
        response_from_openai({"id": "x", "choices": "nope"})
    with pytest.raises(UpstreamError):
        response_from_openai(upstream({"tool_calls": [{"id": "c", "function": {"arguments": "{}"}}]}))


def test_tool_call_without_id_gets_a_fresh_one() -> None:
    call = {"type": "function", "function": {"name": "f", "arguments": "{}"}}
    answer = response_from_openai(
        upstream({"tool_calls": [call]}, "tool_calls"), new_tool_id=lambda: "call_new"
    )
    assert answer.choices[0].parts == (ToolCall("call_new", "f", "{}"),)


def test_usage_is_read_not_invented() -> None:
    data = upstream({"content": "x"})
    data["usage"] = {
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "total_tokens": 15,
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 2},
    }
    assert response_from_openai(data).usage == Usage(10, 5, cache_read_tokens=4, reasoning_tokens=2)
    rendered = response_to_openai(response_from_openai(data), model="qwen3")
    assert rendered["usage"] == data["usage"]


def test_rendered_response_has_fresh_id_public_model_and_no_invented_usage() -> None:
    answer = ChatResponse(
        id="upstream-id",
        model="Qwen/Qwen3-32B",
        choices=(
            Choice(0, (Text("a"), Text("b"), ToolCall("c1", "f", "{}")), Finish(FinishReason.TOOL_CALLS)),
        ),
    )
    first = response_to_openai(answer, model="qwen3")
    second = response_to_openai(answer, model="qwen3")
    assert first["id"] != second["id"] and first["id"].startswith("chatcmpl-")
    assert first["model"] == "qwen3"
    assert "usage" not in first
    message = first["choices"][0]["message"]
    assert message["content"] == "ab" and message["tool_calls"][0]["id"] == "c1"
    assert first["choices"][0]["finish_reason"] == "tool_calls"
    SdkChatCompletion.model_validate(first)


def test_ids_are_random() -> None:
    ids = {new_openai_id() for _ in range(100)}
    assert len(ids) == 100
    assert all(i.startswith("chatcmpl-") and len(i) == len("chatcmpl-") + 24 for i in ids)


def test_every_position_of_an_id_draws_from_the_whole_alphabet() -> None:
    """Each character is uniform over 62 (3,000 ids: a position seeing fewer than 55 distinct
    characters has a probability far below 1e-9 if it is)."""
    suffixes = [new_openai_id().removeprefix("chatcmpl-") for _ in range(3000)]
    for position in range(24):
        seen = {s[position] for s in suffixes}
        assert len(seen) >= 55 and seen <= set(string.ascii_letters + string.digits), position


@pytest.mark.parametrize(
    ("reason", "wire"),
    [
        (FinishReason.STOP, "stop"),
        (FinishReason.STOP_SEQUENCE, "stop"),
        (FinishReason.LENGTH, "length"),
        (FinishReason.CONTEXT_WINDOW, "length"),
        (FinishReason.TOOL_CALLS, "tool_calls"),
        (FinishReason.CONTENT_FILTER, "content_filter"),
        (FinishReason.PAUSE, "stop"),
        (FinishReason.ERROR, "error"),
    ],
)
def test_every_finish_reason_has_an_openai_spelling(reason: FinishReason, wire: str) -> None:
    answer = ChatResponse(id=None, model="m", choices=(Choice(0, (Text("x"),), Finish(reason)),))
    assert response_to_openai(answer, model="m")["choices"][0]["finish_reason"] == wire
