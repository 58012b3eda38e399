"""The upstream simulator's placeholders and tool calls: placeholder values valid against their
JSON schema (the documented simple values; a remote ``$ref`` or a malformed schema refused), which
tools a request calls (by name, by the word "tool", by ``tool_choice``, one unless parallel calls
are on), and arguments valid against the tool's schema."""

from __future__ import annotations

import json
from typing import Any, Literal

import jsonschema
import pytest
from pydantic import BaseModel
from support.simulator_requests import WEATHER_SCHEMA, chat, tool

from sluice.simulator.placeholders import placeholder_value
from sluice.simulator.tool_calls import tool_arguments, tools_to_call
from sluice.simulator.wire import InvalidRequest

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
