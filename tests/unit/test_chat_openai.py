"""OpenAI Chat Completions: wire models, request and response translation."""

import string
from dataclasses import replace
from typing import Any

import pytest
from openai.types.chat import ChatCompletion as SdkChatCompletion

from shared.chat.canonical import (
    ChatRequest,
    ChatResponse,
    Choice,
    Finish,
    FinishReason,
    Image,
    Message,
    Reasoning,
    Refusal,
    Role,
    ServerTool,
    Text,
    ToolCall,
    ToolResult,
    Usage,
    WireFormat,
)
from shared.chat.from_openai import request_from_openai
from shared.chat.from_openai_response import response_from_openai
from shared.chat.ids import new_openai_id
from shared.chat.to_openai import request_to_openai
from shared.chat.to_openai_response import response_to_openai
from shared.errors import InvalidRequest, UpstreamError
from shared.http.body import parse_model
from shared.wire.openai import ChatCompletionRequest


def body(**overrides: Any) -> dict[str, Any]:
    return {"model": "qwen3", "messages": [{"role": "user", "content": "Hi"}], **overrides}


def parse(data: dict[str, Any]) -> ChatRequest:
    return request_from_openai(parse_model(ChatCompletionRequest, data))


@pytest.mark.parametrize(
    ("overrides", "param"),
    [
        ({"temperature": 2.5}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"frequency_penalty": -3}, "frequency_penalty"),
        ({"presence_penalty": 2.1}, "presence_penalty"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"n": 0}, "n"),
        ({"max_tokens": 0}, "max_tokens"),
        ({"messages": []}, "messages"),
        ({"messages": [{"role": "function", "content": "x"}]}, "messages.0.role"),
        ({"response_format": {"type": "yaml"}}, "response_format.type"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
        ({"thinking": {"type": "enabled", "budget": 5}}, "thinking.budget"),
    ],
)
def test_invalid_parameters_name_the_param(overrides: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(body(**overrides))
    assert caught.value.param == param


def test_unknown_content_part_type_is_refused_by_position() -> None:
    audio = {"type": "input_audio", "input_audio": {"data": "AAAA", "format": "wav"}}
    with pytest.raises(InvalidRequest) as caught:
        parse(body(messages=[{"role": "user", "content": [audio]}]))
    assert caught.value.param == "messages.0.content.0"
    assert "input_audio" in caught.value.message


def test_unknown_top_level_fields_pass_through_to_openai_upstreams_only() -> None:
    request = parse(body(repetition_penalty=1.1, chat_template_kwargs={"enable_thinking": False}))
    assert request.extras == {"repetition_penalty": 1.1, "chat_template_kwargs": {"enable_thinking": False}}
    assert request.extras_format is WireFormat.OPENAI
    rendered = request_to_openai(request)
    assert rendered["repetition_penalty"] == 1.1
    assert rendered["chat_template_kwargs"] == {"enable_thinking": False}


def test_stop_string_becomes_a_list() -> None:
    assert parse(body(stop="###")).stop == ("###",)


def test_roles_map_to_canonical() -> None:
    request = parse(
        body(
            messages=[
                {"role": "developer", "content": "Rules."},
                {"role": "system", "content": "More rules."},
                {"role": "user", "content": "Hi", "name": "ana"},
                {
                    "role": "assistant",
                    "content": "Calling.",
                    "reasoning_content": "plan",
                    "tool_calls": [
                        {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}
                    ],
                },
                {"role": "tool", "tool_call_id": "c1", "content": "done"},
            ]
        )
    )
    roles = [m.role for m in request.messages]
    assert roles == [Role.SYSTEM, Role.SYSTEM, Role.USER, Role.ASSISTANT, Role.USER]
    assert request.messages[2].name == "ana"
    assert request.messages[3].parts == (Reasoning("plan"), Text("Calling."), ToolCall("c1", "f", "{}"))
    assert request.messages[4].parts == (ToolResult("c1", (Text("done"),)),)


@pytest.mark.parametrize(
    ("message", "param"),
    [
        ({"role": "tool", "content": "x"}, "messages.0.tool_call_id"),
        ({"role": "user", "content": "x", "tool_call_id": "c"}, "messages.0.tool_call_id"),
        (
            {
                "role": "user",
                "content": "x",
                "tool_calls": [{"id": "c", "function": {"name": "f", "arguments": ""}}],
            },
            "messages.0.tool_calls",
        ),
        (
            {"role": "system", "content": [{"type": "image_url", "image_url": {"url": "https://x/y.png"}}]},
            "messages.0.content.0",
        ),
        ({"role": "user", "content": [{"type": "refusal", "refusal": "no"}]}, "messages.0.content.0"),
    ],
)
def test_fields_a_role_cannot_carry_are_refused(message: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(body(messages=[message]))
    assert caught.value.param == param


def test_max_tokens_spellings() -> None:
    assert parse(body(max_completion_tokens=300)).max_tokens == 300
    assert parse(body(max_tokens=200, max_completion_tokens=200)).max_tokens == 200
    with pytest.raises(InvalidRequest) as caught:
        parse(body(max_tokens=100, max_completion_tokens=200))
    assert caught.value.param == "max_tokens"
    request = parse(body(max_tokens=300))
    assert request_to_openai(request)["max_tokens"] == 300
    rendered = request_to_openai(request, max_tokens_field="max_completion_tokens")
    assert rendered["max_completion_tokens"] == 300 and "max_tokens" not in rendered


def test_images_data_urls_and_remote_urls() -> None:
    parts = [
        {"type": "image_url", "image_url": {"url": "data:image/webp;base64,UklGRg=="}},
        {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}},
    ]
    request = parse(body(messages=[{"role": "user", "content": parts}]))
    assert request.messages[0].parts == (
        Image(media_type="image/webp", data="UklGRg=="),
        Image(url="https://example.com/a.png", detail="low"),
    )
    assert request_to_openai(request)["messages"][0]["content"] == parts


@pytest.mark.parametrize(
    "url", ["data:image/png,notbase64", "data:;base64,AAAA", "file:///etc/passwd", "ftp://x/y"]
)
def test_bad_image_urls_are_refused(url: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(
            body(messages=[{"role": "user", "content": [{"type": "image_url", "image_url": {"url": url}}]}])
        )
    assert caught.value.param == "messages.0.content.0.image_url.url"


def test_json_schema_response_format_needs_its_schema() -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(body(response_format={"type": "json_schema"}))
    assert caught.value.param == "response_format.json_schema"
    spec = {"name": "answer", "schema": {"type": "object"}, "strict": True}
    rendered = request_to_openai(parse(body(response_format={"type": "json_schema", "json_schema": spec})))
    assert rendered["response_format"] == {"type": "json_schema", "json_schema": spec}


def test_stream_always_asks_the_upstream_for_usage() -> None:
    request = parse(body(stream=True))
    assert request.include_usage is False
    assert request_to_openai(request)["stream_options"] == {"include_usage": True}
    assert "stream_options" not in request_to_openai(parse(body()))


def test_server_tools_cannot_go_to_an_openai_upstream() -> None:
    request = parse(body())
    with pytest.raises(InvalidRequest) as caught:
        request_to_openai(replace(request, tools=(ServerTool("web_search_20250305", "web_search"),)))
    assert caught.value.param == "tools.0"


def test_tool_images_follow_the_tool_message() -> None:
    request = parse(body())
    png = Image(media_type="image/png", data="AAAA")
    result = ToolResult("call_1", (Text("see image"), png))
    request = replace(request, messages=(Message(Role.USER, (result,)),))
    messages = request_to_openai(request)["messages"]
    assert messages[0] == {"role": "tool", "tool_call_id": "call_1", "content": "see image"}
    assert messages[1]["role"] == "user"
    assert messages[1]["content"][1] == {
        "type": "image_url",
        "image_url": {"url": "data:image/png;base64,AAAA"},
    }


# --- responses ---------------------------------------------------------------------------------


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
