"""OpenAI Chat Completions requests: the wire model's checks (each refusal names its parameter),
and request translation to canonical form and back to OpenAI: unknown fields passed through, stop
and max_tokens spellings, roles and the fields each may carry, images, response formats, usage for
streams, server tools and the images of tool results."""

from dataclasses import replace
from typing import Any

import pytest

from shared.chat.canonical import (
    ChatRequest,
    Image,
    Message,
    Reasoning,
    Role,
    ServerTool,
    Text,
    ToolCall,
    ToolResult,
    WireFormat,
)
from shared.chat.from_openai import request_from_openai
from shared.chat.to_openai import request_to_openai
from shared.errors import InvalidRequest
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
        ({"messages": [{"role": "robot", "content": "x"}]}, "messages.0.role"),
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
