"""What a Messages request must be, as Anthropic refuses it: JSON numbers and booleans (no
``"100"`` or ``true`` for ``max_tokens``), tools named by Anthropic's rule, each name once, and an
object schema for each tool's input (an upstream refused it as a 502 before)."""

from __future__ import annotations

from typing import Any

import pytest
from support.chat_anthropic import body, parse

from shared.errors import InvalidRequest


def tool(name: str = "get_weather", schema: Any = None) -> dict[str, Any]:
    return {"name": name, "input_schema": schema if schema is not None else {"type": "object"}}


@pytest.mark.parametrize(
    ("data", "param"),
    [
        (body(max_tokens="100"), "max_tokens"),
        (body(max_tokens=True), "max_tokens"),
        (body(stream="yes"), "stream"),
        (body(temperature="0.5"), "temperature"),
        (body(top_k="3"), "top_k"),
        (body(thinking={"type": "enabled", "budget_tokens": "2048"}), "thinking.budget_tokens"),
        (body(tools=[tool("a b!")]), "tools.0.name"),
        (body(tools=[tool("x" * 129)]), "tools.0.name"),
        (body(tools=[tool(schema={"type": "string"})]), "tools.0.input_schema"),
        (body(tools=[tool(schema={"properties": {}})]), "tools.0.input_schema"),
        (body(tools=[tool(), tool("other"), tool()]), "tools.2"),
    ],
)
def test_invalid_values_are_refused_naming_the_param(data: dict[str, Any], param: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        parse(data)

    assert caught.value.param == param


def test_valid_tools_and_numbers_are_read() -> None:
    request = parse(body(max_tokens=100.0, tools=[tool("mcp__ide__getDiagnostics"), tool("Bash-2")]))

    assert request.max_tokens == 100
    assert [t.name for t in request.tools] == ["mcp__ide__getDiagnostics", "Bash-2"]
