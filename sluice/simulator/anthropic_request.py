"""Anthropic Messages requests, read and mapped onto the simulator's OpenAI-shaped ``ChatRequest``.

The mapping builds the chat-completions body an OpenAI client would send for the same
conversation and validates it as ``ChatRequest``, so the planner sees the same request whichever
protocol asked: same words, same token counts. ``system`` (top-level, or a system turn) becomes a
system message, a ``tool_result`` a ``tool`` message, a ``tool_use`` an assistant tool call;
thinking blocks of earlier turns are not part of the prompt, as with Anthropic.

Unknown top-level fields are accepted (clients send many). Block types the simulator cannot
answer (documents, server tools, ...) are refused with a 400 naming the block, as are the rules
Anthropic enforces on a conversation: non-empty turns, non-empty text blocks (and a turn's text
not all whitespace), every ``tool_use`` answered by a ``tool_result`` in the next turn, a thinking
budget below ``max_tokens``, and thinking replayed with the signature the simulator gave it.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterable
from typing import Any

from sluice.simulator.anthropic_wire import (
    ImageBlock,
    MessagesRequest,
    OutputConfig,
    TextBlock,
    ThinkingBlock,
    Tool,
    ToolChoice,
    ToolResultBlock,
    ToolUseBlock,
    Turn,
)
from sluice.simulator.frontends import check_signature, claude_conflict, last_assistant
from sluice.simulator.wire import ChatRequest, InvalidRequest

Json = dict[str, Any]
_ANY_BLOCK = {"text", "image", "tool_use", "tool_result", "thinking", "redacted_thinking"}
_ALLOWED_BLOCKS = {
    "user": _ANY_BLOCK - {"tool_use"},
    "assistant": _ANY_BLOCK - {"tool_result"},
    "system": {"text"},
}


def chat_request(body: Any) -> ChatRequest:
    """The ``ChatRequest`` for a Messages body; raises ``ValidationError`` or ``InvalidRequest``."""
    request = MessagesRequest.model_validate(body)
    if any(not stop.strip() for stop in request.stop_sequences or ()):
        raise InvalidRequest(
            "stop_sequences: each stop sequence must contain non-whitespace", "stop_sequences"
        )
    _check_thinking(request)
    _check_turns(request.messages)
    for index, turn in enumerate(request.messages):
        for number, block in enumerate(turn.content):
            if isinstance(block, ThinkingBlock):
                check_signature(f"messages.{index}.content.{number}", block.thinking, block.signature)
    return ChatRequest.model_validate(openai_body(request))


def openai_body(request: MessagesRequest) -> Json:
    """The chat-completions body an OpenAI client would send for the same request."""
    system = [{"role": "system", "content": _parts(request.system)}] if request.system else []
    turns = [message for turn in request.messages for message in _messages(turn)]
    choice = request.tool_choice
    optional = {
        "stop": request.stop_sequences,
        "temperature": request.temperature,
        "top_p": request.top_p,
        "top_k": request.top_k,
        "tools": [_function(tool) for tool in request.tools] if request.tools else None,
        "tool_choice": _tool_choice(choice) if choice else None,
        "parallel_tool_calls": False if choice and choice.disable_parallel_tool_use else None,
        # The planner reasons for any ``thinking`` that is not disabled, as Anthropic's models do.
        "thinking": request.thinking.model_dump(exclude_none=True) if request.thinking else None,
        "response_format": _response_format(request.output_config),
    }
    body: Json = {
        "model": request.model,
        "messages": system + turns,
        "max_tokens": request.max_tokens,
        "stream": request.stream,
    }
    return body | {key: value for key, value in optional.items() if value is not None}


def _messages(turn: Turn) -> list[Json]:
    """One turn as OpenAI messages: tool results split off a user turn as ``tool`` messages."""
    if turn.role == "system":
        return [{"role": "system", "content": _parts(turn.content)}]
    if turn.role == "assistant":
        calls = [_tool_call(block) for block in turn.content if isinstance(block, ToolUseBlock)]
        message: Json = {"role": "assistant", "content": _parts(turn.content)}
        return [message | {"tool_calls": calls}] if calls else [message]
    messages: list[Json] = []
    for is_result, group in itertools.groupby(turn.content, lambda block: isinstance(block, ToolResultBlock)):
        if is_result:
            messages += [_tool_message(block) for block in group if isinstance(block, ToolResultBlock)]
        else:
            messages.append({"role": "user", "content": _parts(group)})
    return messages


def _parts(blocks: Iterable[object]) -> list[Json]:
    """Text and image blocks as OpenAI content parts; thinking and tool blocks are not content."""
    parts: list[Json] = []
    for block in blocks:
        if isinstance(block, TextBlock):
            parts.append({"type": "text", "text": block.text})
        elif isinstance(block, ImageBlock):
            parts.append(block.part())
    return parts


def _tool_call(block: ToolUseBlock) -> Json:
    arguments = json.dumps(block.input)
    return {"id": block.id, "type": "function", "function": {"name": block.name, "arguments": arguments}}


def _tool_message(block: ToolResultBlock) -> Json:
    return {"role": "tool", "tool_call_id": block.tool_use_id, "content": _parts(block.content)}


def _function(tool: Tool) -> Json:
    function: Json = {"name": tool.name, "parameters": tool.input_schema}
    if tool.description is not None:
        function["description"] = tool.description
    return {"type": "function", "function": function}


def _tool_choice(choice: ToolChoice) -> str | Json:
    """Anthropic's ``auto``/``any``/``none``/``tool`` as OpenAI's ``auto``/``required``/``none``/named."""
    if choice.type != "tool":
        return {"auto": "auto", "any": "required", "none": "none"}[choice.type]
    if not choice.name:
        raise InvalidRequest("tool_choice.name: Field required for type tool", "tool_choice.name")
    return {"type": "function", "function": {"name": choice.name}}


def _response_format(config: OutputConfig | None) -> Json | None:
    if config is None or config.format is None:
        return None
    return {"type": "json_schema", "json_schema": {"name": "output", "schema": config.format.schema_}}


def _check_thinking(request: MessagesRequest) -> None:
    """Enabled thinking needs a budget, and the budget must leave room for the answer; thinking
    allows only some sampling values and no forced tool call."""
    thinking = request.thinking
    choice = request.tool_choice
    conflict = claude_conflict(
        thinking.type if thinking else None,
        request.temperature,
        request.top_p,
        request.top_k,
        forced_tool=choice is not None and choice.type in ("any", "tool"),
        effort=request.output_config.effort if request.output_config else None,
    )
    if conflict is not None:
        raise InvalidRequest(conflict, "thinking")
    if thinking is not None and thinking.type in ("enabled", "adaptive"):
        _check_thought_tool_turn(request.messages)
    if thinking is None or thinking.type != "enabled":
        return
    if thinking.budget_tokens is None:
        raise InvalidRequest("thinking.enabled.budget_tokens: Field required", "thinking")
    if thinking.budget_tokens >= request.max_tokens:
        raise InvalidRequest("max_tokens must be greater than thinking.budget_tokens", "max_tokens")


def _check_thought_tool_turn(turns: list[Turn]) -> None:
    """While Claude thinks, the last assistant turn, if it called tools, starts with the thinking
    that led to the calls."""
    found = last_assistant(turns)
    if found is None or not any(isinstance(block, ToolUseBlock) for block in found[1].content):
        return
    index, last = found
    if (first := last.content[0].type) not in ("thinking", "redacted_thinking"):
        raise InvalidRequest(
            f"messages.{index}.content.0.type: expected thinking or redacted_thinking, found {first}: "
            "while thinking is enabled or adaptive, a final assistant turn that calls tools must start "
            "with the thinking that led to the calls",
            "messages",
        )


def _check_turns(turns: list[Turn]) -> None:
    """Anthropic's conversation rules.

    Every turn but a final assistant one has content; ``tool_use`` appears only in assistant
    turns, ``tool_result`` only in user turns, system turns hold only text; each ``tool_use`` is
    answered by a ``tool_result`` in the next turn and each ``tool_result`` answers one,
    consecutive turns of one role counting as one (Anthropic merges them).
    """
    for index, turn in enumerate(turns):
        if not turn.content and not (turn.role == "assistant" and index == len(turns) - 1):
            raise InvalidRequest(
                f"messages.{index}: all messages must have non-empty content except for the optional "
                "final assistant message",
                "messages",
            )
        _check_texts(turn)
        allowed = _ALLOWED_BLOCKS[turn.role]
        if misplaced := next((block.type for block in turn.content if block.type not in allowed), None):
            raise InvalidRequest(f"messages.{index}: {misplaced} blocks are not allowed in {turn.role} turns")
    asked: set[str] = set()
    conversation = [(index, turn) for index, turn in enumerate(turns) if turn.role != "system"]
    for _, group in itertools.groupby(conversation, lambda item: item[1].role):
        merged = list(group)
        blocks = [block for _, turn in merged for block in turn.content]
        answered = {block.tool_use_id for block in blocks if isinstance(block, ToolResultBlock)}
        _check_answers(f"messages.{merged[0][0]}", asked, answered)
        asked = {block.id for block in blocks if isinstance(block, ToolUseBlock)}
    _check_answers("messages", asked, set())


def _check_texts(turn: Turn) -> None:
    """Anthropic refuses an empty text block, and a turn whose text blocks are all whitespace."""
    texts = [block.text for block in turn.content if isinstance(block, TextBlock)]
    if not all(texts):
        raise InvalidRequest("messages: text content blocks must be non-empty", "messages")
    if texts and not any(text.strip() for text in texts):
        raise InvalidRequest("messages: text content blocks must contain non-whitespace text", "messages")


def _check_answers(where: str, asked: set[str], answered: set[str]) -> None:
    if missing := asked - answered:
        raise InvalidRequest(
            f"{where}: tool_use ids were found without tool_result blocks immediately after: "
            f"{', '.join(sorted(missing))}",
            "messages",
        )
    if unexpected := answered - asked:
        raise InvalidRequest(
            f"{where}: unexpected tool_use_id found in tool_result blocks: {', '.join(sorted(unexpected))}; "
            "each tool_result block must have a corresponding tool_use block in the previous message",
            "messages",
        )
