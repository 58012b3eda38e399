"""The upstream simulator's pure parts: token model, reply text, placeholders, tool choice, plans."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel, ValidationError

from sluice.simulator.controls import Controls, marker_settings, read_controls
from sluice.simulator.faults import FailureCounter, FaultName
from sluice.simulator.placeholders import placeholder_value
from sluice.simulator.plan import plan_completion
from sluice.simulator.render import completion_body, stream_steps
from sluice.simulator.replies import (
    FILLER_MIN,
    FILLER_SPREAD,
    REASONING_TEXT,
    content_text,
    quote,
    reply_text,
)
from sluice.simulator.tokens import (
    IMAGE_PART_TOKENS,
    chunk_text,
    count_tokens,
    cut_at_stop,
    first_tokens,
    split_tokens,
)
from sluice.simulator.tool_calls import tool_arguments, tools_to_call
from sluice.simulator.wire import ChatRequest, InvalidRequest

WEATHER_SCHEMA = {
    "type": "object",
    "properties": {
        "city": {"type": "string"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 3, "maximum": 10},
        "detailed": {"type": "boolean"},
        "where": {
            "type": "object",
            "properties": {"lat": {"type": "number"}, "lon": {"type": "number"}},
            "required": ["lat", "lon"],
            "additionalProperties": False,
        },
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 2},
    },
    "required": ["city", "unit", "days", "detailed", "where", "tags"],
    "additionalProperties": False,
}


def tool(name: str, parameters: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "parameters": parameters or {}}}


def chat(text: str = "Hello there, how are you?", **fields: Any) -> ChatRequest:
    return ChatRequest.model_validate(
        {"model": "sim", "messages": [{"role": "user", "content": text}], **fields}
    )


# Token model


def test_a_token_is_a_whitespace_separated_word_and_pieces_rebuild_the_text() -> None:
    text = "Simulated  reply\tto: hello\nworld"

    pieces = split_tokens(text)

    assert count_tokens(text) == 5 == len(pieces)
    assert "".join(pieces) == text
    assert pieces[0] == "Simulated"
    assert all(piece.strip() for piece in pieces)


def test_first_tokens_keeps_the_original_spacing() -> None:
    assert first_tokens("one two  three four", 3) == "one two  three"
    assert first_tokens("one two", 0) == ""


def test_cut_at_stop_cuts_before_the_earliest_stop_sequence() -> None:
    assert cut_at_stop("alpha beta gamma delta", ["delta", "beta"]) == ("alpha", "beta")
    assert cut_at_stop("alpha beta", ["zeta", ""]) == ("alpha beta", None)


def test_chunk_text_splits_into_at_least_two_chunks() -> None:
    for text in ["{}", '{"city": "sample"}', "x" * 50]:
        chunks = chunk_text(text)
        assert len(chunks) >= 2
        assert "".join(chunks) == text


def test_prompt_tokens_count_words_of_every_message_plus_a_fixed_count_per_image() -> None:
    request = ChatRequest.model_validate(
        {
            "model": "sim",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {
                    "role": "user",
                    "content": [
                        {"type": "text", "text": "What is in"},
                        {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}},
                        {"type": "text", "text": "this picture?"},
                    ],
                },
            ],
        }
    )

    assert request.prompt_tokens() == 2 + 3 + 2 + IMAGE_PART_TOKENS


def test_unknown_roles_and_content_parts_are_rejected() -> None:
    with pytest.raises(ValidationError):
        ChatRequest.model_validate({"model": "sim", "messages": [{"role": "robot", "content": "hi"}]})
    with pytest.raises(ValidationError):
        ChatRequest.model_validate(
            {"model": "sim", "messages": [{"role": "user", "content": [{"type": "video", "video": {}}]}]}
        )


# Reply text


def test_quote_collapses_whitespace_strips_markers_and_cuts_at_60_characters() -> None:
    assert quote("  hello \n world [sim:fault=http_503] ") == "hello world"
    long = "word " * 30

    quoted = quote(long)

    assert quoted.endswith(" ...")
    assert len(quoted.removesuffix(" ...")) <= 60
    assert quote("[sim:fault=hang]") == "(no text)"


def test_reply_text_is_deterministic_and_its_length_follows_the_prompt() -> None:
    lead = "Simulated reply to: hi"

    first = reply_text(lead, prompt_tokens=5)

    assert first == reply_text(lead, prompt_tokens=5)
    assert first.startswith(lead + " ")
    assert count_tokens(first) == count_tokens(lead) + FILLER_MIN + 5 % FILLER_SPREAD
    assert count_tokens(reply_text(lead, prompt_tokens=6)) == count_tokens(first) + 1


def test_each_choice_gets_a_different_marked_reply() -> None:
    replies = [reply_text("Simulated reply to: hi", 3, index) for index in range(4)]

    assert len(set(replies)) == 4
    assert "(choice" not in replies[0]
    assert "(choice 2)" in replies[2]


def test_after_a_tool_result_the_reply_quotes_it() -> None:
    request = ChatRequest.model_validate(
        {
            "model": "sim",
            "messages": [
                {"role": "user", "content": "weather?"},
                {"role": "assistant", "content": None, "tool_calls": []},
                {"role": "tool", "tool_call_id": "call_1", "content": '{"temperature": 21}'},
            ],
            "tools": [tool("get_weather")],
        }
    )

    assert content_text(request).startswith('Tool result received: {"temperature": 21}')
    assert tools_to_call(request) == []


def test_json_object_format_gives_a_json_object() -> None:
    content = content_text(chat(response_format={"type": "json_object"}))

    assert isinstance(json.loads(content), dict)


def test_json_schema_format_gives_json_valid_against_the_schema() -> None:
    request = chat(
        response_format={"type": "json_schema", "json_schema": {"name": "w", "schema": WEATHER_SCHEMA}}
    )

    jsonschema.validate(json.loads(content_text(request)), WEATHER_SCHEMA)


# Placeholders


class Address(BaseModel):
    street: str
    kind: Literal["home", "work"]


class Person(BaseModel):
    name: str
    age: int
    score: float
    addresses: list[Address]
    nickname: str | None


@pytest.mark.parametrize(
    "schema",
    [
        WEATHER_SCHEMA,
        Person.model_json_schema(),
        {"anyOf": [{"type": "integer", "exclusiveMinimum": 5}, {"type": "string"}]},
        {"type": ["null", "string"], "minLength": 10, "format": "email"},
        {"allOf": [{"properties": {"a": {"const": 7}}, "required": ["a"]}, {"required": ["b"]}]},
        {"type": "array", "items": {"type": "number", "maximum": 0}, "maxItems": 0},
        {"type": "string", "maxLength": 3},
    ],
)
def test_placeholder_values_validate_against_their_schema(schema: dict[str, Any]) -> None:
    jsonschema.validate(placeholder_value(schema), schema)


def test_placeholders_are_the_documented_simple_values() -> None:
    value = placeholder_value(WEATHER_SCHEMA)

    assert value == {
        "city": "sample",
        "unit": "celsius",
        "days": 3,
        "detailed": True,
        "where": {"lat": 1, "lon": 1},
        "tags": ["sample", "sample"],
    }


def test_a_remote_ref_is_refused() -> None:
    with pytest.raises(ValueError, match="local"):
        placeholder_value({"$ref": "https://example.com/schema.json"})


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "object", "properties": [], "required": ["a"]},
        {"enum": 5},
        {"type": "array", "items": 7},
        {"type": "tuple"},
        {"$ref": "#/$defs/missing"},
    ],
)
def test_a_malformed_schema_is_a_value_error(schema: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        placeholder_value(schema)


# Tool choice


def test_tools_are_called_when_named_or_when_the_user_says_tool() -> None:
    tools = [tool("get_weather", WEATHER_SCHEMA), tool("get_time")]

    named = tools_to_call(chat("please call get_time now", tools=tools))
    by_word = tools_to_call(chat("Use the tool, please", tools=tools))
    plain = tools_to_call(chat("just chat with me", tools=tools))

    assert [t.function.name for t in named] == ["get_time"]
    assert [t.function.name for t in by_word] == ["get_weather"]
    assert plain == []


def test_two_named_tools_give_two_calls_unless_parallel_calls_are_off() -> None:
    tools = [tool("get_weather"), tool("get_time")]
    text = "call get_time and then get_weather"

    assert [t.function.name for t in tools_to_call(chat(text, tools=tools))] == ["get_time", "get_weather"]
    assert len(tools_to_call(chat(text, tools=tools, parallel_tool_calls=False))) == 1


def test_tool_choice_none_required_and_named() -> None:
    tools = [tool("get_weather"), tool("get_time")]
    forced = {"type": "function", "function": {"name": "get_time"}}

    assert tools_to_call(chat("use the tool", tools=tools, tool_choice="none")) == []
    assert [t.function.name for t in tools_to_call(chat("hi", tools=tools, tool_choice="required"))] == [
        "get_weather"
    ]
    assert [t.function.name for t in tools_to_call(chat("hi", tools=tools, tool_choice=forced))] == [
        "get_time"
    ]
    with pytest.raises(InvalidRequest):
        tools_to_call(chat("hi", tools=tools, tool_choice={"type": "function", "function": {"name": "nope"}}))


def test_tool_arguments_validate_against_the_tool_schema_and_default_to_an_object() -> None:
    jsonschema.validate(
        json.loads(
            tool_arguments(tools_to_call(chat("get_weather", tools=[tool("get_weather", WEATHER_SCHEMA)]))[0])
        ),
        WEATHER_SCHEMA,
    )
    assert json.loads(tool_arguments(tools_to_call(chat("get_time", tools=[tool("get_time")]))[0])) == {}


# Plans


def test_usage_counts_the_text_under_the_token_model() -> None:
    plan = plan_completion(chat("Tell me a story about rivers", n=2))
    body = completion_body(plan)

    contents = [choice["message"]["content"] for choice in body["choices"]]
    assert body["usage"]["prompt_tokens"] == 6
    assert body["usage"]["completion_tokens"] == sum(count_tokens(text) for text in contents)
    assert body["usage"]["total_tokens"] == 6 + body["usage"]["completion_tokens"]
    assert contents[0] != contents[1]
    assert [choice["finish_reason"] for choice in body["choices"]] == ["stop", "stop"]


def test_max_tokens_cuts_the_reply_with_finish_reason_length() -> None:
    full = plan_completion(chat()).choices[0].content

    for request in (chat(max_tokens=4), chat(max_completion_tokens=4)):
        choice = plan_completion(request).choices[0]
        assert choice.finish_reason == "length"
        assert choice.content == first_tokens(full, 4)
        assert choice.completion_tokens() == 4


def test_max_completion_tokens_wins_over_max_tokens() -> None:
    assert plan_completion(chat(max_tokens=9, max_completion_tokens=3)).choices[0].completion_tokens() == 3


def test_a_stop_sequence_cuts_the_reply_before_it() -> None:
    choice = plan_completion(chat(stop=["to:", "never-there"])).choices[0]

    assert choice.content == "Simulated reply"
    assert choice.finish_reason == "stop"
    assert plan_completion(chat(stop="reply", max_tokens=1)).choices[0].content == "Simulated"


def test_reasoning_comes_first_and_counts_toward_the_cap() -> None:
    full = plan_completion(chat(reasoning_effort="high")).choices[0]
    capped = plan_completion(chat(thinking={"type": "enabled"}, max_tokens=count_tokens(REASONING_TEXT) + 2))

    assert full.reasoning == REASONING_TEXT
    assert full.completion_tokens() == count_tokens(REASONING_TEXT) + count_tokens(full.content)
    assert capped.choices[0].content == "Simulated reply"
    assert capped.usage()["completion_tokens_details"]["reasoning_tokens"] == count_tokens(REASONING_TEXT)
    assert plan_completion(chat(thinking={"type": "disabled"})).choices[0].reasoning == ""


def test_a_tool_call_turn_has_text_and_calls_and_finishes_with_tool_calls() -> None:
    choice = plan_completion(chat("call get_weather", tools=[tool("get_weather", WEATHER_SCHEMA)])).choices[0]

    assert choice.content == "Calling get_weather."
    assert choice.finish_reason == "tool_calls"
    assert choice.tool_calls[0].name == "get_weather"
    assert choice.tool_calls[0].id.startswith("call_")
    assert choice.completion_tokens() == 2 + 1 + count_tokens(choice.tool_calls[0].arguments)


def test_every_plan_has_a_fresh_id_and_the_requested_model() -> None:
    first, second = plan_completion(chat()), plan_completion(chat())

    assert first.id != second.id
    assert first.id.startswith("chatcmpl-")
    assert first.model == "sim"


# Stream rendering


def test_stream_steps_interleave_choices_one_token_each() -> None:
    plan = plan_completion(chat(n=2, max_tokens=3))

    steps = stream_steps(plan, include_usage=True)

    assert [chunk["choices"][0]["index"] for chunk in steps[0]] == [0, 1]
    assert steps[0][0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    for index, choice in enumerate(plan.choices):
        deltas = [
            chunk["choices"][0]["delta"].get("content", "")
            for step in steps[:-1]
            for chunk in step
            if chunk["choices"][0]["index"] == index
        ]
        assert "".join(deltas) == choice.content
        assert sum(bool(delta) for delta in deltas) == 3
    assert steps[-2][0]["choices"][0]["finish_reason"] == "length"
    assert steps[-1] == [
        {
            **{k: steps[0][0][k] for k in ("id", "object", "created", "model")},
            "choices": [],
            "usage": plan.usage(),
        }
    ]
    assert all(chunk["usage"] is None for step in steps[:-1] for chunk in step)


# Controls


def test_markers_and_headers_select_faults_headers_winning() -> None:
    text = "hi [sim:fail_times=1;key=abc;fault=http_503] there"

    assert marker_settings(text) == {"fail_times": "1", "key": "abc", "fault": "http_503"}
    controls = read_controls({"x-sim-fault": "http_429"}, text)
    assert controls == Controls(fault=FaultName.HTTP_429, fail_times=1, fail_key="abc")


@pytest.mark.parametrize(
    ("headers", "text"),
    [
        ({"x-sim-fault": "explode"}, ""),
        ({"x-sim-token-rate": "-1"}, ""),
        ({"x-sim-fail-times": "many"}, ""),
        ({}, "[sim:colour=blue]"),
    ],
)
def test_bad_controls_are_invalid_requests(headers: dict[str, str], text: str) -> None:
    with pytest.raises(InvalidRequest):
        read_controls(headers, text)


def test_fail_times_fails_the_first_n_requests_per_key() -> None:
    counter = FailureCounter()
    twice = Controls(fail_times=2, fail_key="a")
    once_other = Controls(fail_times=1, fail_key="b", fault=FaultName.HTTP_500)

    outcomes = [twice.active_fault(counter) for _ in range(3)]

    assert outcomes == [FaultName.HTTP_503, FaultName.HTTP_503, None]
    assert [once_other.active_fault(counter) for _ in range(2)] == [FaultName.HTTP_500, None]
    with pytest.raises(InvalidRequest):
        Controls(fail_times=1).active_fault(counter)
