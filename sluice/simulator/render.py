"""A planned answer rendered as OpenAI's JSON: the ``chat.completion`` body or stream chunks.

Asked for ``logprobs``, the content's tokens come with theirs: the simulator is certain of every
word it writes, so each has logprob 0 and is its own only alternative (``top_logprobs`` holds it
when at least one is asked for). Reasoning, refusals and tool calls have none.
"""

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
                "logprobs": _logprobs(plan, split_tokens(choice.content)),
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
    content = delta.get("content")
    logprobs = _logprobs(plan, [content]) if content else None
    choice = {"index": index, "delta": delta, "logprobs": logprobs, "finish_reason": finish_reason}
    return {**_envelope(plan), "choices": [choice]}


def _logprobs(plan: CompletionPlan, tokens: list[str]) -> dict[str, Any] | None:
    """OpenAI's ``logprobs`` object for these content tokens, or None when it was not asked for."""
    if plan.top_logprobs is None:
        return None
    entries = []
    for token in tokens:
        entry = {"token": token, "logprob": 0.0, "bytes": list(token.encode())}
        entries.append({**entry, "top_logprobs": [entry] if plan.top_logprobs else []})
    return {"content": entries, "refusal": None}
