"""Bedrock Converse -> canonical: whole responses and ConverseStream events.

Explicit tables; an unknown stop reason or content block is an ``UpstreamError``. Stream event
and delta kinds Sluice does not know are skipped (AWS adds them over time; citations, for one,
repeat text that arrives as text deltas anyway), except exception events, which raise.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from shared.chat import events as ev
from shared.chat.canonical import (
    ChatResponse,
    Choice,
    Finish,
    FinishReason,
    Part,
    Reasoning,
    RedactedReasoning,
    Text,
    ToolCall,
    Usage,
)
from shared.errors import UpstreamError
from shared.providers.bedrock_errors import STREAM_EXCEPTION_EVENTS, stream_exception_failure

type Json = Mapping[str, Any]

FINISH_FROM_CONVERSE: Mapping[str, FinishReason] = {
    "end_turn": FinishReason.STOP,
    "tool_use": FinishReason.TOOL_CALLS,
    "max_tokens": FinishReason.LENGTH,
    "stop_sequence": FinishReason.STOP_SEQUENCE,
    "guardrail_intervened": FinishReason.CONTENT_FILTER,
    "content_filtered": FinishReason.CONTENT_FILTER,
    "model_context_window_exceeded": FinishReason.CONTEXT_WINDOW,
    "malformed_model_output": FinishReason.ERROR,
    "malformed_tool_use": FinishReason.ERROR,
}


def finish_from_converse(stop_reason: object, fields: object = None) -> Finish:
    """A Converse ``stopReason``; the matched stop sequence comes from the model's own fields."""
    reason = FINISH_FROM_CONVERSE.get(str(stop_reason))
    if reason is None:
        raise UpstreamError(f"Upstream returned an unknown stopReason {stop_reason!r}.")
    sequence = fields.get("stop_sequence") if isinstance(fields, Mapping) else None
    if reason is not FinishReason.STOP_SEQUENCE or not isinstance(sequence, str):
        sequence = None
    return Finish(reason, stop_sequence=sequence)


def usage_from_converse(usage: Json) -> Usage:
    """Converse usage; canonical ``input_tokens`` adds back cache reads and writes, which
    Bedrock counts apart from ``inputTokens``."""
    read = usage.get("cacheReadInputTokens")
    write = usage.get("cacheWriteInputTokens")
    return Usage(
        input_tokens=int(usage.get("inputTokens") or 0) + int(read or 0) + int(write or 0),
        output_tokens=int(usage.get("outputTokens") or 0),
        cache_read_tokens=read,
        cache_write_tokens=write,
    )


def response_from_converse(body: Json, *, model: str) -> ChatResponse:
    """A ``converse`` answer in canonical form. Converse has no message id: the request id stands in."""
    message = (body.get("output") or {}).get("message")
    if not isinstance(message, Mapping):
        raise UpstreamError("Upstream sent a Converse answer without a message.")
    choice = Choice(
        index=0,
        parts=tuple(part_from_converse(block) for block in message.get("content") or ()),
        finish=finish_from_converse(body.get("stopReason"), body.get("additionalModelResponseFields")),
    )
    usage = body.get("usage")
    request_id = (body.get("ResponseMetadata") or {}).get("RequestId")
    return ChatResponse(
        id=request_id,
        model=model,
        choices=(choice,),
        usage=usage_from_converse(usage) if isinstance(usage, Mapping) else None,
    )


def part_from_converse(block: Json) -> Part:
    """A Converse content block of an answer as a canonical part."""
    if "text" in block:
        return Text(str(block["text"]))
    if "toolUse" in block:
        use = block["toolUse"]
        return ToolCall(use["toolUseId"], use["name"], json.dumps(use.get("input") or {}, ensure_ascii=False))
    reasoning = block.get("reasoningContent")
    if isinstance(reasoning, Mapping) and "reasoningText" in reasoning:
        text = reasoning["reasoningText"]
        return Reasoning(str(text.get("text") or ""), signature=text.get("signature") or None)
    if isinstance(reasoning, Mapping) and "redactedContent" in reasoning:
        return RedactedReasoning(_b64(reasoning["redactedContent"]))
    raise UpstreamError(f"Upstream sent an unsupported content block {sorted(block)}.")


def _b64(data: object) -> str:
    raw = data if isinstance(data, bytes) else str(data).encode()
    return base64.b64encode(raw).decode("ascii")


class ConverseStreamParser:
    """Reads ConverseStream events. State: which content block index is which tool call."""

    def __init__(self, *, model: str) -> None:
        self._model = model
        self._tool_of_block: dict[int, int] = {}
        self._handlers: dict[str, Callable[[Json], list[ev.StreamEvent]]] = {
            "messageStart": self._message_start,
            "contentBlockStart": self._block_start,
            "contentBlockDelta": self._block_delta,
            "messageStop": self._message_stop,
            "metadata": self._metadata,
        }

    def feed(self, event: Json) -> list[ev.StreamEvent]:
        """The canonical events one ConverseStream event carries (each has a single key)."""
        out: list[ev.StreamEvent] = []
        for name, body in event.items():
            if name in STREAM_EXCEPTION_EVENTS:
                raise stream_exception_failure(name, body)
            handler = self._handlers.get(name)
            if handler is not None and isinstance(body, Mapping):
                out.extend(handler(body))
        return out  # contentBlockStop and unknown kinds carry nothing

    def _message_start(self, _body: Json) -> list[ev.StreamEvent]:
        return [ev.Start(model=self._model)]

    def _block_start(self, body: Json) -> list[ev.StreamEvent]:
        use = (body.get("start") or {}).get("toolUse")
        if not isinstance(use, Mapping):
            return []
        tool = len(self._tool_of_block)
        self._tool_of_block[int(body["contentBlockIndex"])] = tool
        return [ev.ToolCallStart(tool, str(use["toolUseId"]), str(use["name"]))]

    def _block_delta(self, body: Json) -> list[ev.StreamEvent]:
        delta = body.get("delta") or {}
        if "text" in delta:
            return [ev.TextDelta(delta["text"])] if delta["text"] else []
        if "toolUse" in delta:
            return self._tool_args(int(body["contentBlockIndex"]), delta["toolUse"])
        reasoning = delta.get("reasoningContent")
        return _reasoning_delta(reasoning) if isinstance(reasoning, Mapping) else []

    def _tool_args(self, index: int, delta: Json) -> list[ev.StreamEvent]:
        if index not in self._tool_of_block:
            raise UpstreamError(f"Upstream sent tool input for block {index}, which is not a tool call.")
        fragment = str(delta.get("input") or "")
        return [ev.ToolCallArgsDelta(self._tool_of_block[index], fragment)] if fragment else []

    def _message_stop(self, body: Json) -> list[ev.StreamEvent]:
        finish = finish_from_converse(body.get("stopReason"), body.get("additionalModelResponseFields"))
        return [ev.Finish(finish.reason, finish.stop_sequence)]

    def _metadata(self, body: Json) -> list[ev.StreamEvent]:
        usage = body.get("usage")
        return [ev.UsageReport(usage_from_converse(usage))] if isinstance(usage, Mapping) else []


def _reasoning_delta(delta: Json) -> list[ev.StreamEvent]:
    if delta.get("text"):
        return [ev.ReasoningDelta(str(delta["text"]))]
    if delta.get("signature"):
        return [ev.ReasoningSignature(str(delta["signature"]))]
    if "redactedContent" in delta:
        return [ev.RedactedReasoningBlock(_b64(delta["redactedContent"]))]
    return []
