"""Anthropic Messages: wire models, request and response translation."""

from dataclasses import replace
from typing import Any

import pytest
from anthropic.types import Message as SdkMessage

from shared.chat.canonical import (
    CacheControl,
    ChatRequest,
    ChatResponse,
    Choice,
    Finish,
    FinishReason,
    Message,
    Reasoning,
    ReasoningConfig,
    ReasoningEffort,
    RedactedReasoning,
    Role,
    ServerTool,
    Text,
    ThinkingMode,
    ToolCall,
    ToolChoiceMode,
    ToolReference,
    ToolResult,
    Usage,
)
from shared.chat.from_anthropic import request_from_anthropic, response_from_anthropic
from shared.chat.from_openai import request_from_openai
from shared.chat.ids import new_anthropic_id
from shared.chat.to_anthropic import request_to_anthropic
from shared.chat.to_anthropic_response import response_to_anthropic
from shared.chat.to_openai import request_to_openai
from shared.errors import InvalidRequest, UpstreamError
from shared.http.body import parse_model
from shared.wire.anthropic import MessagesRequest
from shared.wire.openai import ChatCompletionRequest


def body(**overrides: Any) -> dict[str, Any]:
    return {
        "model": "claude",
        "max_tokens": 100,
        "messages": [{"role": "user", "content": "Hi"}],
        **overrides,
    }


def parse(data: dict[str, Any]) -> ChatRequest:
    return request_from_anthropic(parse_model(MessagesRequest, data))


def from_openai(data: dict[str, Any]) -> ChatRequest:
    return request_from_openai(parse_model(ChatCompletionRequest, {"model": "m", **data}))


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


# --- OpenAI requests to an Anthropic upstream --------------------------------------------------


def test_openai_system_developer_and_tools_to_anthropic() -> None:
    request = from_openai(
        {
            "messages": [
                {"role": "system", "content": "S"},
                {"role": "user", "content": "q"},
                {"role": "developer", "content": "D"},
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [
                        {"id": "a", "type": "function", "function": {"name": "f", "arguments": ""}},
                        {"id": "b", "type": "function", "function": {"name": "f", "arguments": '{"x": [1]}'}},
                    ],
                },
                {"role": "tool", "tool_call_id": "a", "content": "1"},
                {"role": "tool", "tool_call_id": "b", "content": "2"},
                {"role": "user", "content": "and?"},
            ],
            "max_tokens": 50,
            "parallel_tool_calls": False,
            "tools": [{"type": "function", "function": {"name": "f"}}],
        }
    )
    rendered = request_to_anthropic(request)
    assert rendered["system"] == [{"type": "text", "text": "S"}, {"type": "text", "text": "D"}]
    assert [m["role"] for m in rendered["messages"]] == ["user", "assistant", "user"]
    assert rendered["messages"][1]["content"] == [
        {"type": "tool_use", "id": "a", "name": "f", "input": {}},
        {"type": "tool_use", "id": "b", "name": "f", "input": {"x": [1]}},
    ]
    assert [b["type"] for b in rendered["messages"][2]["content"]] == ["tool_result", "tool_result", "text"]
    assert rendered["tools"] == [{"name": "f", "input_schema": {"type": "object", "properties": {}}}]
    assert rendered["tool_choice"] == {"type": "auto", "disable_parallel_tool_use": True}


@pytest.mark.parametrize("arguments", ["{not json", "[1, 2]", '"text"'])
def test_tool_arguments_that_are_not_a_json_object_are_refused(arguments: str) -> None:
    call = {"id": "a", "type": "function", "function": {"name": "f", "arguments": arguments}}
    request = from_openai(
        {"messages": [{"role": "user", "content": "q"}, {"role": "assistant", "tool_calls": [call]}]}
    )
    with pytest.raises(InvalidRequest, match="arguments must be a JSON object"):
        request_to_anthropic(request, default_max_tokens=10)


def test_what_anthropic_cannot_honour() -> None:
    with pytest.raises(InvalidRequest) as caught:
        request_to_anthropic(
            from_openai({"messages": [{"role": "user", "content": "q"}], "n": 2, "max_tokens": 5})
        )
    assert caught.value.param == "n"
    with pytest.raises(InvalidRequest) as caught:
        request_to_anthropic(
            from_openai({"messages": [{"role": "user", "content": "q"}], "logprobs": True}),
            default_max_tokens=5,
        )
    assert caught.value.param == "logprobs"
    with pytest.raises(InvalidRequest) as caught:
        request_to_anthropic(from_openai({"messages": [{"role": "user", "content": "q"}]}))
    assert caught.value.param == "max_tokens"
    with pytest.raises(InvalidRequest) as caught:
        request_to_anthropic(
            from_openai({"messages": [{"role": "user", "content": "q"}], "thinking": {"type": "enabled"}}),
            default_max_tokens=9000,
        )
    assert caught.value.param == "thinking.budget_tokens"
    small = {"type": "enabled", "budget_tokens": 500}
    with pytest.raises(InvalidRequest, match="at least 1024"):
        request_to_anthropic(
            from_openai({"messages": [{"role": "user", "content": "q"}], "thinking": small}),
            default_max_tokens=9000,
        )


def test_openai_sampling_to_anthropic() -> None:
    request = from_openai(
        {
            "messages": [{"role": "user", "content": "q"}],
            "temperature": 1.7,
            "seed": 3,
            "frequency_penalty": 1,
            "presence_penalty": 1,
            "user": "u",
            "reasoning_effort": "none",
            "response_format": {"type": "json_object"},
        }
    )
    rendered = request_to_anthropic(request, default_max_tokens=64)
    assert rendered["max_tokens"] == 64
    assert rendered["temperature"] == 1.0
    assert rendered["metadata"] == {"user_id": "u"}
    assert rendered["thinking"] == {"type": "disabled"}
    assert rendered["output_config"] == {"format": {"type": "json_schema", "schema": {"type": "object"}}}
    assert not {"seed", "frequency_penalty", "presence_penalty", "user", "n"} & set(rendered)


def test_unsigned_reasoning_is_not_replayed_to_anthropic() -> None:
    request = ChatRequest(
        model="m",
        messages=(Message(Role.USER, (Text("q"),)), Message(Role.ASSISTANT, (Reasoning("r"), Text("a")))),
        max_tokens=10,
        reasoning=ReasoningConfig(effort=ReasoningEffort.MINIMAL),
    )
    rendered = request_to_anthropic(request)
    assert rendered["messages"][1]["content"] == [{"type": "text", "text": "a"}]
    assert rendered["output_config"] == {"effort": "low"}


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


def test_an_openai_clients_reasoning_effort_turns_adaptive_thinking_on() -> None:
    """OpenAI's ``reasoning_effort`` asks for reasoning; Claude thinks only when ``thinking`` says so."""
    openai_effort = request_to_anthropic(
        from_openai({"messages": [{"role": "user", "content": "q"}], "reasoning_effort": "high"}),
        default_max_tokens=64,
    )
    anthropic_effort = request_to_anthropic(parse(body(output_config={"effort": "high"})))

    assert openai_effort["thinking"] == {"type": "adaptive"}
    assert openai_effort["output_config"] == {"effort": "high"}
    assert "thinking" not in anthropic_effort, "an Anthropic client's effort alone stays effort alone"
    assert anthropic_effort["output_config"] == {"effort": "high"}


def test_a_turn_with_nothing_to_replay_is_left_out_and_its_neighbours_merge() -> None:
    """Unsigned reasoning from another provider is all the middle turn held; an empty turn is refused."""
    request = ChatRequest(
        model="m",
        messages=(
            Message(Role.USER, (Text("q1"),)),
            Message(Role.ASSISTANT, (Reasoning("thought elsewhere"),)),
            Message(Role.USER, (Text("q2"),)),
        ),
        max_tokens=10,
    )

    assert request_to_anthropic(request)["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "q1"}, {"type": "text", "text": "q2"}]}
    ]
