"""OpenAI's deprecated function calling (``functions`` / ``function_call``), both ways.

A legacy request is a tools request: ``functions`` become canonical tools and ``function_call``
the tool choice, with parallel calls off (a legacy answer carries one call), so that every
upstream (OpenAI-compatible, Anthropic, Bedrock) and the plan gate see tools. In the history, an
assistant's ``function_call`` (it has no id) is a tool call with an id made from its message's
place (the same on every turn of the conversation, as a prompt cache wants it), and a
``{"role": "function", "name": N}`` message is the result of the latest unanswered call of ``N``.
``ChatRequest.legacy_functions`` says the client asked so: its answer carries
``message.function_call`` (the first call) instead of ``tool_calls``, and finish reason
``function_call`` (``response_to_openai``); streamed, ``delta.function_call``
(``LegacyFunctionsStreamWriter``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from shared.chat import events as ev
from shared.chat.canonical import Tool, ToolCall, ToolChoice, ToolChoiceMode
from shared.chat.messages import unique_tools
from shared.chat.stream_openai import OpenAIStreamWriter
from shared.chat.to_openai_response import LEGACY_FINISH_TO_OPENAI
from shared.errors import InvalidRequest
from shared.wire import openai as wire

type Json = dict[str, Any]

CALL_ID_PREFIX = "call_fn_"


@dataclass(frozen=True, slots=True)
class LegacyTools:
    """What ``functions`` / ``function_call`` say, in canonical form."""

    tools: tuple[Tool, ...]
    choice: ToolChoice | None


def legacy_tools(req: wire.ChatCompletionRequest) -> LegacyTools | None:
    """The request's legacy function declarations; None when it uses neither field. Mixed with
    ``tools`` / ``tool_choice`` they are a 400 naming the legacy field."""
    if req.functions is None and req.function_call is None:
        return None
    param = "functions" if req.functions is not None else "function_call"
    if req.tools is not None or req.tool_choice is not None:
        raise InvalidRequest(
            f"{param} is the deprecated spelling of tools and tool_choice: send one style, not both.",
            param=param,
        )
    tools = unique_tools((tool_from_function(fn) for fn in req.functions or ()), param="functions")
    return LegacyTools(tools, _choice(req.function_call))


def tool_from_function(fn: wire.FunctionDef) -> Tool:
    """A function declaration (a tool's ``function``, or a legacy ``functions`` item) as a tool."""
    return Tool(
        name=fn.name,
        parameters=fn.parameters,
        description=fn.description,
        strict=fn.strict,
        extras=dict(fn.model_extra or {}),
    )


def _choice(choice: str | wire.NamedFunction | None) -> ToolChoice | None:
    if choice is None:
        return None
    if isinstance(choice, wire.NamedFunction):
        return ToolChoice(ToolChoiceMode.TOOL, name=choice.name)
    return ToolChoice(ToolChoiceMode.NONE if choice == "none" else ToolChoiceMode.AUTO)


class LegacyCalls:
    """The history's legacy calls, in order: each ``function`` message answers the latest call of
    its name that no earlier ``function`` message answered."""

    def __init__(self) -> None:
        self._unanswered: list[ToolCall] = []

    def call(self, fn: wire.FunctionCall, message_index: int) -> ToolCall:
        call = ToolCall(id=f"{CALL_ID_PREFIX}{message_index}", name=fn.name, arguments_json=fn.arguments)
        self._unanswered.append(call)
        return call

    def answer(self, name: str | None, param: str) -> str:
        """The id of the call a ``function`` message answers."""
        if not name:
            raise InvalidRequest(f"{param}: a function message needs name.", param=f"{param}.name")
        for index in range(len(self._unanswered) - 1, -1, -1):
            if self._unanswered[index].name == name:
                return self._unanswered.pop(index).id
        raise InvalidRequest(
            f"{param}: the function message of {name!r} answers no earlier assistant function_call.",
            param=f"{param}.name",
        )


class LegacyFunctionsStreamWriter(OpenAIStreamWriter):
    """``OpenAIStreamWriter`` for a legacy client: each choice's first tool call streams as
    ``delta.function_call`` (``{"name", "arguments": ""}``, then ``{"arguments": piece}``), later
    ones are left out, and a tool-call finish is ``function_call``. Text, reasoning and refusals
    stream as for any client."""

    _finish_names = LEGACY_FINISH_TO_OPENAI

    def _on_tool_start(self, event: ev.ToolCallStart) -> list[Json]:
        if event.index:
            return []
        self._thinking.pop(event.choice, None)
        return self._delta(event.choice, {"function_call": {"name": event.name, "arguments": ""}})

    def _on_tool_args(self, event: ev.ToolCallArgsDelta) -> list[Json]:
        if event.index:
            return []
        return self._delta(event.choice, {"function_call": {"arguments": event.json_fragment}})
