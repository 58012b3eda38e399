"""A planned answer rendered as OpenAI's JSON: the ``chat.completion`` body or stream chunks."""

from __future__ import annotations

import json
from typing import Any

from sluice.simulator.plan import ChoicePlan, CompletionPlan
from sluice.simulator.tokens import chunk_text, split_tokens

Chunk = dict[str, Any]
Delta = dict[str, Any]


def completion_body(plan: CompletionPlan) -> dict[str, Any]:
    """The non-streaming ``chat.completion`` object."""
    return {
        "id": plan.id,
        "object": "chat.completion",
        "created": plan.created,
        "model": plan.model,
        "choices": [
            {
                "index": choice.index,
                "message": _message(choice),
                "logprobs": None,
                "finish_reason": choice.finish_reason,
                "stop_reason": choice.stop_reason,
            }
            for choice in plan.choices
        ],
        "usage": plan.usage(),
    }


def stream_steps(plan: CompletionPlan, include_usage: bool = False) -> list[list[Chunk]]:
    """The stream as steps: each step holds one chunk per choice still going, one token each.

    Choices are interleaved as OpenAI does: step ``t`` carries the ``t``-th delta of every choice.
    With ``include_usage`` every chunk has ``usage: null`` and a last step holds one chunk with
    no choices and the usage.
    """
    deltas = {choice.index: _deltas(choice) for choice in plan.choices}
    finish = {choice.index: choice.finish_reason for choice in plan.choices}
    stopped_by = {choice.index: choice.stop_reason for choice in plan.choices}
    steps: list[list[Chunk]] = []
    for position in range(max(len(items) for items in deltas.values())):
        step = []
        for index, items in deltas.items():
            if position < len(items):
                last = position == len(items) - 1
                chunk = _chunk(plan, index, items[position], finish[index] if last else None)
                if last and stopped_by[index]:
                    chunk["choices"][0]["stop_reason"] = stopped_by[index]
                step.append(chunk)
        steps.append(step)
    if include_usage:
        for step in steps:
            for chunk in step:
                chunk["usage"] = None
        steps.append([{**_envelope(plan), "choices": [], "usage": plan.usage()}])
    return steps


def sse_event(data: dict[str, Any] | str) -> bytes:
    """One server-sent event ``data: ...`` line and its blank line."""
    payload = data if isinstance(data, str) else json.dumps(data, separators=(",", ":"))
    return f"data: {payload}\n\n".encode()


def _message(choice: ChoicePlan) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": choice.content, "refusal": None}
    if choice.reasoning:
        message["reasoning_content"] = choice.reasoning
    if choice.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in choice.tool_calls
        ]
    return message


def _deltas(choice: ChoicePlan) -> list[Delta]:
    deltas: list[Delta] = [{"role": "assistant", "content": ""}]
    deltas += [{"reasoning_content": piece} for piece in split_tokens(choice.reasoning)]
    deltas += [{"content": piece} for piece in split_tokens(choice.content)]
    for position, call in enumerate(choice.tool_calls):
        opening = {"index": position, "id": call.id, "type": "function"}
        deltas.append({"tool_calls": [{**opening, "function": {"name": call.name, "arguments": ""}}]})
        deltas += [
            {"tool_calls": [{"index": position, "function": {"arguments": piece}}]}
            for piece in chunk_text(call.arguments)
        ]
    deltas.append({})
    return deltas


def _envelope(plan: CompletionPlan) -> Chunk:
    return {"id": plan.id, "object": "chat.completion.chunk", "created": plan.created, "model": plan.model}


def _chunk(plan: CompletionPlan, index: int, delta: Delta, finish_reason: str | None) -> Chunk:
    choice = {"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {**_envelope(plan), "choices": [choice]}
