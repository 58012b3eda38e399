"""Anthropic streams: upstream SSE event dicts -> canonical events, and canonical events ->
Messages stream events for the client. Byte framing (``event: ...``) lives in ``sse``."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from shared.chat import events as ev
from shared.chat.canonical import FinishReason, Usage
from shared.chat.from_anthropic_response import finish_from_anthropic, usage_from_anthropic
from shared.chat.ids import IdFactory, new_anthropic_id
from shared.chat.to_anthropic_response import FINISH_TO_ANTHROPIC, usage_to_anthropic
from shared.chat.upstream import validate_upstream
from shared.errors import UpstreamError
from shared.wire import anthropic as blocks
from shared.wire import anthropic_response as wire

type Json = dict[str, Any]

PING: Json = {"type": "ping"}


class AnthropicEventParser:
    """Reads an Anthropic upstream's events. State: which block index is which tool call."""

    def __init__(self) -> None:
        self._tool_of_block: dict[int, int] = {}
        self._start_usage: Usage | None = None
        self._handlers: dict[type, Callable[[Any], list[ev.StreamEvent]]] = {
            wire.MessageStartEvent: self._message_start,
            wire.BlockStartEvent: self._block_start,
            wire.BlockDeltaEvent: self._block_delta,
            wire.MessageDeltaEvent: self._message_delta,
            wire.ErrorEvent: self._error,
        }

    def feed(self, event: Mapping[str, Any]) -> list[ev.StreamEvent]:
        """The canonical events one upstream event carries."""
        model = wire.EVENT_MODELS.get(str(event.get("type")))
        if model is None:
            return []  # unknown event types are skipped, as Anthropic's versioning policy asks
        parsed = validate_upstream(model.model_validate, event, f"{event.get('type')} event")
        handler = self._handlers.get(type(parsed))
        return handler(parsed) if handler is not None else []  # block/message stop, ping

    def _message_start(self, event: wire.MessageStartEvent) -> list[ev.StreamEvent]:
        message = event.message
        self._start_usage = usage_from_anthropic(message.usage) if message.usage else None
        return [ev.Start(id=message.id, model=message.model, usage=self._start_usage)]

    def _block_start(self, event: wire.BlockStartEvent) -> list[ev.StreamEvent]:
        index, block = event.index, event.content_block
        match block:
            case blocks.TextBlock():
                return [ev.TextDelta(block.text)] if block.text else []
            case wire.ResponseThinkingBlock():
                started: list[ev.StreamEvent] = [ev.ReasoningDelta(block.thinking)] if block.thinking else []
                return started + ([ev.ReasoningSignature(block.signature)] if block.signature else [])
            case blocks.RedactedThinkingBlock():
                return [ev.RedactedReasoningBlock(block.data)]
            case blocks.ToolUseBlock():
                tool = len(self._tool_of_block)
                self._tool_of_block[index] = tool
                opened: list[ev.StreamEvent] = [ev.ToolCallStart(tool, block.id, block.name)]
                if block.input:
                    opened.append(ev.ToolCallArgsDelta(tool, json.dumps(block.input, ensure_ascii=False)))
                return opened
        return []

    def _block_delta(self, event: wire.BlockDeltaEvent) -> list[ev.StreamEvent]:
        index, delta = event.index, event.delta
        match delta:
            case wire.TextDelta():
                return [ev.TextDelta(delta.text)]
            case wire.ThinkingDelta():
                return [ev.ReasoningDelta(delta.thinking)]
            case wire.SignatureDelta():
                return [ev.ReasoningSignature(delta.signature)]
            case wire.InputJsonDelta():
                if index not in self._tool_of_block:
                    raise UpstreamError(
                        f"Upstream sent tool input for block {index}, which is not a tool call."
                    )
                fragment = delta.partial_json
                return [ev.ToolCallArgsDelta(self._tool_of_block[index], fragment)] if fragment else []
        return []  # citations_delta: the cited text arrives as text deltas

    def _error(self, event: wire.ErrorEvent) -> list[ev.StreamEvent]:
        kind = ev.ERROR_KIND_FROM_ANTHROPIC.get(event.error.type, ev.ErrorKind.API_ERROR)
        return [ev.Error(event.error.message or "Upstream error.", kind)]

    def _message_delta(self, event: wire.MessageDeltaEvent) -> list[ev.StreamEvent]:
        events: list[ev.StreamEvent] = []
        finish = finish_from_anthropic(event.delta.stop_reason, event.delta.stop_sequence)
        if finish is not None:
            events.append(ev.Finish(finish.reason, finish.stop_sequence))
        if event.usage is not None:
            events.append(ev.UsageReport(usage_from_anthropic(event.usage, self._start_usage)))
        return events


@dataclass(slots=True)
class _Block:
    kind: str  # "text", "thinking" or "tool_use"
    index: int
    tool: int | None = None


class AnthropicStreamWriter:
    """Renders canonical events as Messages stream events for the client.

    State: the open content block (a new one opens whenever the kind changes, with the next
    index), the finish and the latest usage. ``message_delta`` waits for ``close()``, because an
    OpenAI upstream reports usage after its finish reason. Only choice 0 is rendered.
    """

    def __init__(self, *, model: str, new_id: IdFactory = new_anthropic_id) -> None:
        self._id = new_id()
        self._model = model
        self._started = False
        self._done = False
        self._next_index = 0
        self._open: _Block | None = None
        self._finish: ev.Finish | None = None
        self._usage: Usage | None = None
        self._handlers: dict[type, Callable[[Any], list[Json]]] = {
            ev.Start: self._on_start,
            ev.TextDelta: self._on_text,
            ev.RefusalDelta: self._on_text,  # Anthropic has no refusal block: it is text
            ev.ReasoningDelta: self._on_reasoning,
            ev.ReasoningSignature: self._on_signature,
            ev.RedactedReasoningBlock: self._on_redacted,
            ev.ToolCallStart: self._on_tool_start,
            ev.ToolCallArgsDelta: self._tool_args,
            ev.Finish: self._on_finish,
            ev.UsageReport: self._on_usage,
            ev.Error: self._fail,
        }

    def feed(self, event: ev.StreamEvent) -> list[Json]:
        """The Anthropic events one canonical event becomes."""
        if self._done or getattr(event, "choice", 0) != 0:
            return []
        return self._handlers[type(event)](event)

    def _on_start(self, event: ev.Start) -> list[Json]:
        self._usage = event.usage or self._usage
        return self._message_start()

    def _on_text(self, event: ev.TextDelta | ev.RefusalDelta) -> list[Json]:
        return self._delta("text", {"type": "text_delta", "text": event.text})

    def _on_reasoning(self, event: ev.ReasoningDelta) -> list[Json]:
        return self._delta("thinking", {"type": "thinking_delta", "thinking": event.text})

    def _on_signature(self, event: ev.ReasoningSignature) -> list[Json]:
        return self._delta("thinking", {"type": "signature_delta", "signature": event.signature})

    def _on_redacted(self, event: ev.RedactedReasoningBlock) -> list[Json]:
        block = {"type": "redacted_thinking", "data": event.data}
        return [*self._start_block("redacted_thinking", block), *self._close_block()]

    def _on_tool_start(self, event: ev.ToolCallStart) -> list[Json]:
        block = {"type": "tool_use", "id": event.id, "name": event.name, "input": {}}
        return self._start_block("tool_use", block, tool=event.index)

    def _on_finish(self, event: ev.Finish) -> list[Json]:
        self._finish = event
        return [*self._message_start(), *self._close_block()]

    def _on_usage(self, event: ev.UsageReport) -> list[Json]:
        self._usage = event.usage
        return []

    def close(self) -> list[Json]:
        """``message_delta`` (stop reason, usage) and ``message_stop``; an error event if the
        upstream never finished or finished in error."""
        if self._done:
            return []
        if self._finish is None:
            return self._fail(ev.Error("The upstream stream ended before the answer was complete."))
        if self._finish.reason not in FINISH_TO_ANTHROPIC:
            return self._fail(ev.Error("The upstream model failed while generating the answer."))
        self._done = True
        delta = {
            "stop_reason": FINISH_TO_ANTHROPIC[self._finish.reason],
            "stop_sequence": self._stop_sequence(),
        }
        usage = usage_to_anthropic(self._usage) if self._usage else {"output_tokens": 0}
        return [
            *self._message_start(),
            *self._close_block(),
            {"type": "message_delta", "delta": delta, "usage": usage},
            {"type": "message_stop"},
        ]

    def _stop_sequence(self) -> str | None:
        finish = self._finish
        return finish.stop_sequence if finish and finish.reason is FinishReason.STOP_SEQUENCE else None

    def _message_start(self) -> list[Json]:
        if self._started:
            return []
        self._started = True
        usage = usage_to_anthropic(self._usage) if self._usage else {"input_tokens": 0, "output_tokens": 0}
        message: Json = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return [{"type": "message_start", "message": message}]

    def _start_block(self, kind: str, block: Json, tool: int | None = None) -> list[Json]:
        out = [*self._message_start(), *self._close_block()]
        self._open = _Block(kind, self._next_index, tool)
        self._next_index += 1
        out.append({"type": "content_block_start", "index": self._open.index, "content_block": block})
        return out

    def _close_block(self) -> list[Json]:
        if self._open is None:
            return []
        index, self._open = self._open.index, None
        return [{"type": "content_block_stop", "index": index}]

    def _delta(self, kind: str, delta: Json) -> list[Json]:
        out: list[Json] = []
        if self._open is None or self._open.kind != kind:
            empty = (
                {"type": "text", "text": ""}
                if kind == "text"
                else {"type": kind, "thinking": "", "signature": ""}
            )
            out = self._start_block(kind, empty)
        assert self._open is not None
        return [*out, {"type": "content_block_delta", "index": self._open.index, "delta": delta}]

    def _tool_args(self, event: ev.ToolCallArgsDelta) -> list[Json]:
        block = self._open
        if block is None or block.kind != "tool_use" or block.tool != event.index:
            return self._fail(ev.Error("Upstream interleaved the arguments of several tool calls."))
        delta = {"type": "input_json_delta", "partial_json": event.json_fragment}
        return [{"type": "content_block_delta", "index": block.index, "delta": delta}]

    def _fail(self, error: ev.Error) -> list[Json]:
        self._done = True
        body = {"type": ev.ERROR_KIND_TO_ANTHROPIC[error.kind], "message": error.message}
        return [{"type": "error", "error": body}]


def parse_anthropic_events(events: Iterable[Mapping[str, Any]]) -> Iterator[ev.StreamEvent]:
    """Canonical events from a whole sequence of upstream events (tests, buffered paths)."""
    parser = AnthropicEventParser()
    for event in events:
        yield from parser.feed(event)


def render_anthropic_events(
    events: Iterable[ev.StreamEvent], writer: AnthropicStreamWriter
) -> Iterator[Json]:
    """Client events for a whole sequence of canonical events, closing the writer at the end."""
    for event in events:
        yield from writer.feed(event)
    yield from writer.close()
