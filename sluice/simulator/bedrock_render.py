"""Planned answers rendered as Bedrock Converse: the ``Converse`` body and ConverseStream frames.

An answer holds, in order, a ``reasoningContent`` block (with a signature), a ``text`` block and
``toolUse`` blocks. A ConverseStream is Bedrock's binary event stream
(``application/vnd.amazon.eventstream``): ``messageStart``, per block a ``contentBlockStart``
(tool uses only, as Bedrock sends it), one ``contentBlockDelta`` per token (per JSON fragment for
tool input) and ``contentBlockStop``, then ``messageStop`` and ``metadata``. Each event is one
message: a prelude (total and headers length, their CRC32), string headers (``:event-type``,
``:content-type``, ``:message-type``), a JSON payload and a CRC32 of the whole message.
``metrics.latencyMs`` is the time the simulator's pacing takes, as planned.
"""

from __future__ import annotations

import json
import struct
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sluice.simulator.frontends import reasoning_signature
from sluice.simulator.pacing import SseFraming
from sluice.simulator.plan import ChoicePlan, CompletionPlan
from sluice.simulator.tokens import chunk_text, split_tokens

type JsonObject = dict[str, Any]

STOP_SEQUENCE_PATH = "/stop_sequence"  # the response field path Claude on Bedrock fills
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use"}


def converse_body(plan: CompletionPlan, fields: JsonObject | None, latency_ms: int) -> JsonObject:
    """The ``Converse`` answer (Bedrock has one choice: the plan's first)."""
    choice = plan.choices[0]
    message = {"role": "assistant", "content": [block.whole for block in _blocks(choice)]}
    body = {
        "output": {"message": message},
        "stopReason": stop_reason(choice),
        "usage": usage(plan),
        "metrics": {"latencyMs": latency_ms},
    }
    return body if fields is None else body | {"additionalModelResponseFields": fields}


def stream_steps(
    plan: CompletionPlan, fields: JsonObject | None, token_delay: float
) -> list[list[JsonObject]]:
    """The ConverseStream as steps for ``sse_body``, one token interval each.

    Events are ``{name: payload}``, as botocore yields them. Each step holds one
    ``contentBlockDelta``; block starts and stops ride with the step they follow, so the first
    step is ``messageStart`` and the last one ``messageStop`` and ``metadata``.
    """
    choice = plan.choices[0]
    steps: list[list[JsonObject]] = [[{"messageStart": {"role": "assistant"}}]]
    for index, block in enumerate(_blocks(choice)):
        if block.start is not None:
            steps[-1].append({"contentBlockStart": {"start": block.start, "contentBlockIndex": index}})
        steps += [
            [{"contentBlockDelta": {"delta": delta, "contentBlockIndex": index}}] for delta in block.deltas
        ]
        steps[-1].append({"contentBlockStop": {"contentBlockIndex": index}})
    stop = {"stopReason": stop_reason(choice)} | (
        {} if fields is None else {"additionalModelResponseFields": fields}
    )
    metrics = {"latencyMs": round(token_delay * len(steps) * 1000)}  # the intervals before the last step
    steps.append([{"messageStop": stop}, {"metadata": {"usage": usage(plan), "metrics": metrics}}])
    return steps


def stop_reason(choice: ChoicePlan) -> str:
    """Converse's ``stopReason``: a stop that matched a sequence is ``stop_sequence``."""
    if choice.finish_reason == "stop" and choice.stop_reason:
        return "stop_sequence"
    return STOP_REASONS[choice.finish_reason]


def response_fields(choice: ChoicePlan, paths: list[str]) -> JsonObject | None:
    """``additionalModelResponseFields`` for the paths asked for: Claude's ``stop_sequence`` only."""
    return {"stop_sequence": choice.stop_reason} if STOP_SEQUENCE_PATH in paths else None


def usage(plan: CompletionPlan) -> JsonObject:
    """Converse's ``usage``, from the plan's token counts."""
    output = plan.completion_tokens()
    return {
        "inputTokens": plan.prompt_tokens,
        "outputTokens": output,
        "totalTokens": plan.prompt_tokens + output,
    }


@dataclass(frozen=True)
class _Block:
    """One content block: whole (in a Converse answer), its stream start if any, and its deltas."""

    whole: JsonObject
    start: JsonObject | None
    deltas: list[JsonObject]


def _blocks(choice: ChoicePlan) -> list[_Block]:
    blocks: list[_Block] = []
    if choice.reasoning:
        signature = reasoning_signature(choice.reasoning)
        thinking = [{"reasoningContent": {"text": piece}} for piece in split_tokens(choice.reasoning)]
        whole = {"reasoningContent": {"reasoningText": {"text": choice.reasoning, "signature": signature}}}
        blocks.append(_Block(whole, None, [*thinking, {"reasoningContent": {"signature": signature}}]))
    if choice.content:
        text = [{"text": piece} for piece in split_tokens(choice.content)]
        blocks.append(_Block({"text": choice.content}, None, text))
    for call in choice.tool_calls:
        head = {"toolUseId": "tooluse_" + call.id.removeprefix("call_"), "name": call.name}
        fragments = [{"toolUse": {"input": piece}} for piece in chunk_text(call.arguments)]
        whole = {"toolUse": head | {"input": json.loads(call.arguments)}}
        blocks.append(_Block(whole, {"toolUse": head}, fragments))
    return blocks


def event_frame(event: Mapping[str, JsonObject]) -> bytes:
    """One event, ``{name: payload}``, as an event-stream message of type ``event``."""
    [(name, payload)] = event.items()
    headers = {":event-type": name, ":content-type": "application/json", ":message-type": "event"}
    return _message(headers, json.dumps(payload, separators=(",", ":")).encode())


def exception_frame(name: str, message: str) -> bytes:
    """A mid-stream error as Bedrock sends it: a message of type ``exception`` (botocore raises it)."""
    headers = {":exception-type": name, ":content-type": "application/json", ":message-type": "exception"}
    return _message(headers, json.dumps({"message": message}).encode())


def _message(headers: Mapping[str, str], payload: bytes) -> bytes:
    """Prelude (total and headers length, their CRC32), headers, payload, CRC32 of all before."""
    head = b"".join(_header(name, value) for name, value in headers.items())
    prelude = struct.pack(">II", 12 + len(head) + len(payload) + 4, len(head))
    message = prelude + struct.pack(">I", zlib.crc32(prelude)) + head + payload
    return message + struct.pack(">I", zlib.crc32(message))


def _header(name: str, value: str) -> bytes:
    """A header: name length and name, value type 7 (string), value length and value."""
    raw_name, raw_value = name.encode(), value.encode()
    return bytes([len(raw_name)]) + raw_name + b"\x07" + struct.pack(">H", len(raw_value)) + raw_value


# How ``pacing.sse_body`` writes a ConverseStream; ``malformed_sse`` is a broken model stream.
BEDROCK_EVENT_STREAM = SseFraming(
    encode=event_frame,
    ending=b"",
    malformed=exception_frame("modelStreamErrorException", "Simulated broken model stream (malformed_sse)."),
)
