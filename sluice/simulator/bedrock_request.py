"""Bedrock Converse requests, read and mapped onto the simulator's OpenAI-shaped ``ChatRequest``.

The body is read with Bedrock's field names (so a 400 names the Bedrock field), then rewritten as
the chat-completions body an OpenAI client would send for the same conversation and validated as
``ChatRequest``: the planner sees the same request whichever protocol asked, so it gives the same
words and token counts. ``system`` becomes a system message, ``toolResult`` blocks ``tool``
messages, ``toolUse`` blocks assistant tool calls, an ``image`` a data-URL image part.
``cachePoint`` and ``reasoningContent`` blocks are accepted and ignored: the simulator has no cache,
and earlier reasoning is not part of the prompt. Other union members (documents, guard content,
S3 images, system tools, ...) are refused, naming the member.

Reasoning is asked for as the model reads it. A Claude model (its id names Claude) reads
``thinking`` in ``additionalModelRequestFields``, checked as Claude checks it (and replayed
reasoning must carry the signature the simulator gave it); ``outputConfig.effort`` alone does not
turn it on. Another model reads no ``thinking`` (refused, as Bedrock refuses a key the model does
not know) and reasons at ``outputConfig.effort``. JSON mode is ``outputConfig.textFormat`` with a
JSON schema sent as a string. The conversation rules Bedrock enforces are enforced too: a user
turn first, alternating roles, a ``toolConfig`` whenever tool blocks appear, and every ``toolUse``
answered by a ``toolResult`` in the next turn.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import Any

from sluice.simulator.bedrock_wire import (
    ContentBlock,
    ConverseRequest,
    Message,
    TextFormat,
    ToolResultBlock,
    ToolSpec,
    ToolUseBlock,
)
from sluice.simulator.frontends import check_signature, claude_conflict, last_assistant
from sluice.simulator.wire import ChatRequest, InvalidRequest

type JsonObject = dict[str, Any]


def read_converse(body: Any, model_id: str) -> ConverseRequest:
    """A Converse body for ``model_id``, checked; raises ``ValidationError`` or ``InvalidRequest``."""
    request = ConverseRequest.model_validate(body)
    if _names_claude(model_id):
        _check_thinking(request)
        _check_signatures(request)
    elif request.additionalModelRequestFields.thinking is not None:
        raise InvalidRequest(
            "Malformed input request: extraneous key [thinking] is not permitted, please reformat "
            "your input and try again."
        )
    _check_turns(request)
    return request


def _check_signatures(request: ConverseRequest) -> None:
    """A Claude model's replayed reasoning carries the signature the simulator gave it."""
    for index, turn in enumerate(request.messages):
        for number, block in enumerate(turn.content):
            reasoning = block.reasoningContent
            text = reasoning.get("reasoningText") if isinstance(reasoning, dict) else None
            if isinstance(text, dict):
                where = f"messages.{index}.content.{number}"
                check_signature(where, str(text.get("text", "")), text.get("signature"))


def _names_claude(model_id: str) -> bool:
    return "claude" in model_id.lower()


def chat_request(request: ConverseRequest, model_id: str, stream: bool) -> ChatRequest:
    """The ``ChatRequest`` for a checked Converse body; raises ``ValidationError``."""
    chat = ChatRequest.model_validate(openai_body(request, model_id, stream))
    # Bedrock takes up to 2500 stop sequences where OpenAI takes 4; the planner takes any number.
    return chat.model_copy(update={"stop": request.inferenceConfig.stopSequences or None})


def openai_body(request: ConverseRequest, model_id: str, stream: bool) -> JsonObject:
    """The chat-completions body an OpenAI client would send for the same request (``stop`` aside)."""
    system = [{"type": "text", "text": block.text} for block in request.system if block.text]
    turns = [message for turn in request.messages for message in _messages(turn)]
    inference, tools, output = request.inferenceConfig, request.toolConfig, request.outputConfig
    specs = [entry.toolSpec for entry in tools.tools if entry.toolSpec] if tools else []
    thinking = request.additionalModelRequestFields.thinking
    optional = {
        "max_tokens": inference.maxTokens,
        "temperature": inference.temperature,
        "top_p": inference.topP,
        "tools": [_function(spec) for spec in specs] or None,
        "tool_choice": tools.toolChoice.openai() if tools and tools.toolChoice else None,
        # Claude thinks only when ``thinking`` turns it on; ``outputConfig.effort`` alone sets how much
        # it spends, so it is not passed on as the OpenAI route's ``reasoning_effort`` (which reasons).
        # Other models reason at the effort.
        "thinking": thinking.model_dump(exclude_none=True) if thinking else None,
        "reasoning_effort": None if _names_claude(model_id) else output.effort,
        "response_format": _response_format(output.textFormat),
    }
    body: JsonObject = {
        "model": model_id,
        "messages": ([{"role": "system", "content": system}] if system else []) + turns,
        "stream": stream,
    }
    return body | {key: value for key, value in optional.items() if value is not None}


def _messages(turn: Message) -> list[JsonObject]:
    """One turn as OpenAI messages: tool results split off a user turn as ``tool`` messages."""
    if turn.role == "assistant":
        calls = [_tool_call(block.toolUse) for block in turn.content if block.toolUse]
        message: JsonObject = {"role": "assistant", "content": _parts(turn.content) or None}
        return [message | {"tool_calls": calls}] if calls else [message]
    messages: list[JsonObject] = []
    for is_result, group in itertools.groupby(turn.content, lambda block: block.toolResult is not None):
        if is_result:
            messages += [_tool_message(block.toolResult) for block in group if block.toolResult]
        elif parts := _parts(group):
            messages.append({"role": "user", "content": parts})
    return messages


def _parts(blocks: Iterable[ContentBlock]) -> list[JsonObject]:
    """Text and image blocks as OpenAI content parts; reasoning, tool and cache blocks are not content."""
    parts: list[JsonObject] = []
    for block in blocks:
        if block.text is not None:
            parts.append({"type": "text", "text": block.text})
        elif block.image is not None:
            parts.append(block.image.part())
    return parts


def _tool_call(use: ToolUseBlock) -> JsonObject:
    function = {"name": use.name, "arguments": json.dumps(use.input)}
    return {"id": use.toolUseId, "type": "function", "function": function}


def _tool_message(result: ToolResultBlock) -> JsonObject:
    parts = [item.part() for item in result.content]
    return {"role": "tool", "tool_call_id": result.toolUseId, "content": parts}


def _function(spec: ToolSpec) -> JsonObject:
    function: JsonObject = {"name": spec.name, "parameters": spec.inputSchema.json_}
    if spec.description is not None:
        function["description"] = spec.description
    return {"type": "function", "function": function}


def _response_format(text_format: TextFormat | None) -> JsonObject | None:
    if text_format is None:
        return None
    definition = text_format.structure.jsonSchema
    return {"type": "json_schema", "json_schema": {"name": definition.name, "schema": definition.schema_}}


def _check_thinking(request: ConverseRequest) -> None:
    """Enabled thinking needs a budget, and the budget must leave room for the answer; thinking
    allows only some sampling values and no forced tool call (Claude's rules)."""
    fields, inference = request.additionalModelRequestFields, request.inferenceConfig
    thinking = fields.thinking
    top_k = (fields.model_extra or {}).get("top_k")
    choice = request.toolConfig.toolChoice if request.toolConfig else None
    conflict = claude_conflict(
        thinking.type if thinking else None,
        inference.temperature,
        inference.topP,
        top_k,
        forced_tool=choice is not None and (choice.any_ is not None or choice.tool is not None),
        effort=request.outputConfig.effort,
    )
    if conflict is not None:
        raise InvalidRequest(conflict)
    if thinking is not None and thinking.type in ("enabled", "adaptive"):
        _check_thought_tool_turn(request)
    if thinking is None or thinking.type != "enabled":
        return
    if thinking.budget_tokens is None:
        raise InvalidRequest("additionalModelRequestFields.thinking.budget_tokens: Field required")
    max_tokens = request.inferenceConfig.maxTokens
    if max_tokens is not None and thinking.budget_tokens >= max_tokens:
        raise InvalidRequest("inferenceConfig.maxTokens must be greater than thinking.budget_tokens")


def _check_thought_tool_turn(request: ConverseRequest) -> None:
    """While Claude thinks, the last assistant turn, if it called tools, starts with the reasoning
    that led to the calls."""
    found = last_assistant(request.messages)
    if found is None or not any(block.toolUse for block in found[1].content):
        return
    index, last = found
    if last.content[0].reasoningContent is None:
        raise InvalidRequest(
            f"messages.{index}.content.0: expected reasoningContent: while thinking is enabled or "
            "adaptive, a final assistant turn that calls tools must start with the reasoning that led "
            "to the calls"
        )


def _check_turns(request: ConverseRequest) -> None:
    """Bedrock's conversation rules (see the module docstring), with Bedrock's messages."""
    turns = request.messages
    if turns[0].role != "user":
        raise InvalidRequest(
            "A conversation must start with a user message. Try again with a conversation that starts "
            "with a user message."
        )
    for index, (before, turn) in enumerate(itertools.pairwise(turns), start=1):
        if before.role == turn.role:
            raise InvalidRequest(
                f"messages.{index}: A conversation must alternate between user and assistant roles. Make "
                "sure the conversation alternates between user and assistant roles and try again."
            )
    uses_tools = any(block.toolUse or block.toolResult for turn in turns for block in turn.content)
    if uses_tools and request.toolConfig is None:
        raise InvalidRequest(
            "The toolConfig field must be defined when using toolUse and toolResult content blocks."
        )
    asked: set[str] = set()
    for index, turn in enumerate(turns):
        misplaced = "toolResult" if turn.role == "assistant" else "toolUse"
        if any(getattr(block, misplaced) for block in turn.content):
            raise InvalidRequest(
                f"messages.{index}.content: {misplaced} blocks are not allowed in {turn.role} turns"
            )
        answered = {block.toolResult.toolUseId for block in turn.content if block.toolResult}
        _check_answers(index, asked, answered)
        asked = {block.toolUse.toolUseId for block in turn.content if block.toolUse}


def _check_answers(index: int, asked: set[str], answered: set[str]) -> None:
    """Each ``toolUse`` of a turn is answered in the next turn, and each ``toolResult`` answers one.

    A final assistant turn's open tool uses are not checked: nothing follows it yet.
    """
    if missing := asked - answered:
        raise InvalidRequest(
            f"messages.{index}.content: Expected toolResult blocks for the following Ids: "
            f"{', '.join(sorted(missing))}"
        )
    if unexpected := answered - asked:
        raise InvalidRequest(
            f"messages.{index}.content: toolResult blocks answer no toolUse of the previous turn: "
            f"{', '.join(sorted(unexpected))}"
        )
