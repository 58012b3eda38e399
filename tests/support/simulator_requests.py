"""Requests for the tests of the upstream simulator's pure parts: a chat request, a tool, and a
weather tool's JSON schema (a string, an enum, a bounded integer, a boolean, a nested object and
an array with a minimum length, all required)."""

from __future__ import annotations

from typing import Any

from sluice.simulator.wire import ChatRequest

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
