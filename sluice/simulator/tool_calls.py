"""When the simulator answers with tool calls, and with which arguments.

With ``tool_choice`` absent or ``"auto"``, the last message must be from the user and either name
tools (every named tool is called, in order of mention, or only the first when
``parallel_tool_calls`` is false) or contain the word "tool"/"tools" (the first tool is called).
``"required"`` always calls (named tools, else the first), a named ``tool_choice`` always calls
that tool, ``"none"`` never calls.
"""

from __future__ import annotations

import json
import re

from sluice.simulator.placeholders import placeholder_value
from sluice.simulator.wire import ChatRequest, InvalidRequest, NamedToolChoice, ToolDefinition

_TOOL_WORD = re.compile(r"\btools?\b", re.IGNORECASE)


def tools_to_call(request: ChatRequest) -> list[ToolDefinition]:
    """The tools this request's answer calls (empty for a text answer)."""
    tools = request.tools or []
    choice = request.tool_choice
    if not tools or choice == "none":
        return []
    if isinstance(choice, NamedToolChoice):
        return [_tool_named(tools, choice.function.name)]
    user_speaks_last = request.messages[-1].role == "user"
    text = request.last_user_text() if user_speaks_last else ""
    named = _mentioned(tools, text)
    if request.parallel_tool_calls is False:
        named = named[:1]
    if named:
        return named
    if choice == "required" or (user_speaks_last and _TOOL_WORD.search(text)):
        return tools[:1]
    return []


def tool_arguments(tool: ToolDefinition) -> str:
    """Deterministic JSON arguments for ``tool``, built from its parameters schema."""
    parameters = tool.function.parameters
    # Arguments are always a JSON object, even for a tool declared with no parameters schema.
    schema = parameters if "type" in parameters else {"type": "object", **parameters}
    try:
        return json.dumps(placeholder_value(schema))
    except ValueError as error:
        raise InvalidRequest(f"tool {tool.function.name}: {error}", "tools") from error


def _tool_named(tools: list[ToolDefinition], name: str) -> ToolDefinition:
    for tool in tools:
        if tool.function.name == name:
            return tool
    raise InvalidRequest(f"tool_choice names {name!r}, which is not in tools", "tool_choice")


def _mentioned(tools: list[ToolDefinition], text: str) -> list[ToolDefinition]:
    positions: list[tuple[int, int, ToolDefinition]] = []
    for order, tool in enumerate(tools):
        found = re.search(rf"(?<![\w-]){re.escape(tool.function.name)}(?![\w-])", text, re.IGNORECASE)
        if found:
            positions.append((found.start(), order, tool))
    return [tool for _, _, tool in sorted(positions, key=lambda item: item[:2])]
