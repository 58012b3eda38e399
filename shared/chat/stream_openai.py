"""OpenAI streams: upstream ``chat.completion.chunk`` dicts -> canonical events, and canonical
events -> chunk dicts for the client. Byte framing (``data: ...``) lives in ``sse``."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from pydantic import ValidationError
from pydantic_core import from_json

from shared.chat import events as ev
from shared.chat.canonical import FinishReason, JsonObject, Usage
from shared.chat.from_openai_response import finish_from_openai, logprobs_of, usage_from_openai
from shared.chat.ids import IdFactory, new_openai_id, new_tool_call_id
from shared.chat.openai_text_chunks import text_events, text_only
from shared.chat.to_openai_response import FINISH_TO_OPENAI, usage_to_openai
from shared.chat.upstream import validate_upstream
from shared.errors import UpstreamError
from shared.wire.openai_response import ChatCompletionChunk, ChunkChoice, ToolCallOut

type Json = dict[str, Any]


class OpenAIChunkParser:
    """Reads an OpenAI-compatible upstream's chunks. State: which tool calls are open, per choice."""

    def __init__(self, *, new_tool_id: IdFactory = new_tool_call_id) -> None:
        self._new_tool_id = new_tool_id
        self._started = False
        self._tool_ids: dict[tuple[int, str], int] = {}
        self._tools_open: set[tuple[int, int]] = set()
        self._tool_count: dict[int, int] = {}

    def feed(self, chunk: Mapping[str, Any]) -> list[ev.StreamEvent]:
        """The canonical events one upstream chunk carries."""
        if "error" in chunk and not chunk.get("choices"):
            return [_upstream_error(chunk["error"])]
        return self._events(validate_upstream(ChatCompletionChunk.model_validate, chunk, "stream chunk"))

    def feed_json(self, data: str) -> list[ev.StreamEvent] | None:
        """``feed`` straight from the chunk's JSON text. None when the text is not a well-formed
        chunk: ``feed`` on the decoded object then says what is wrong.

        Most chunks of a stream carry one piece of text: those are decoded by pydantic-core's JSON
        parser into plain dicts and read with exact type checks (``openai_text_chunks``), about a third of
        the CPU of the model. Every other
        chunk (the first, tool calls, finish, usage, errors, anything unusual) goes through the
        pydantic model, which parses and validates in one pass (less than half the CPU of
        ``json.loads`` then ``feed``). Both give the same events for the chunks the first accepts
        (tests/unit/test_stream_openai_fast_path.py)."""
        if self._started:
            try:
                text = text_only(from_json(data))
            except ValueError:
                return None
            if text is not None:
                return text_events(*text)
        try:
            parsed = ChatCompletionChunk.model_validate_json(data)
        except ValidationError:
            return None
        extra = parsed.model_extra or {}
        if "error" in extra and not parsed.choices:
            return [_upstream_error(extra["error"])]
        return self._events(parsed)

    def _events(self, parsed: ChatCompletionChunk) -> list[ev.StreamEvent]:
        events: list[ev.StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(ev.Start(id=parsed.id, model=parsed.model))
        for choice in parsed.choices:
            events.extend(self._choice(choice))
        if parsed.usage is not None:
            events.append(ev.UsageReport(usage_from_openai(parsed.usage)))
        return events

    def _choice(self, choice: ChunkChoice) -> list[ev.StreamEvent]:
        delta, index = choice.delta, choice.index
        events: list[ev.StreamEvent] = []
        # The chunk's logprobs ride its first text event; a chunk without text (tool calls, a bare
        # finish) has nothing to carry them to the client on.
        logprobs = logprobs_of(choice)
        reasoning = delta.reasoning_text()
        if reasoning:
            events.append(ev.ReasoningDelta(reasoning, choice=index, logprobs=logprobs))
            logprobs = None
        if delta.content:
            events.append(ev.TextDelta(delta.content, choice=index, logprobs=logprobs))
            logprobs = None
        if delta.refusal:
            events.append(ev.RefusalDelta(delta.refusal, choice=index, logprobs=logprobs))
        for call in delta.tool_calls or ():
            events.extend(self._tool_call(index, call))
        finish = finish_from_openai(choice.finish_reason, choice.stop_reason)
        if finish is not None:
            events.append(ev.Finish(finish.reason, finish.stop_sequence, choice=index))
        return events

    def _tool_call(self, choice: int, call: ToolCallOut) -> list[ev.StreamEvent]:
        index = call.index if call.index is not None else self._guess_index(choice, call.id)
        if call.id is not None:
            self._tool_ids[(choice, call.id)] = index
        events: list[ev.StreamEvent] = []
        fn = call.function
        if (choice, index) not in self._tools_open:
            if fn is None or not fn.name:
                raise UpstreamError("Upstream streamed tool call arguments before the tool's name.")
            self._tools_open.add((choice, index))
            self._tool_count[choice] = max(self._tool_count.get(choice, 0), index + 1)
            events.append(ev.ToolCallStart(index, call.id or self._new_tool_id(), fn.name, choice=choice))
        if fn is not None and fn.arguments:
            events.append(ev.ToolCallArgsDelta(index, fn.arguments, choice=choice))
        return events

    def _guess_index(self, choice: int, call_id: str | None) -> int:
        """Some servers omit ``index``: a new id is the next call, no id continues the last one."""
        count = self._tool_count.get(choice, 0)
        if call_id is None:
            return max(count - 1, 0)
        return self._tool_ids.get((choice, call_id), count)


def _upstream_error(error: Any) -> ev.Error:
    message = error.get("message") if isinstance(error, Mapping) else None
    return ev.Error(str(message or error or "Upstream error."))


class OpenAIStreamWriter:
    """Renders canonical events as ``chat.completion.chunk`` dicts for the client.

    A role chunk opens each choice; a finish chunk closes it; ``close()`` adds the usage chunk
    when the client asked for it (``stream_options.include_usage``) and the upstream reported
    usage. The caller frames the chunks and sends ``data: [DONE]``.

    A signed reasoning block (a Claude route's) ends with a ``thinking_blocks`` delta holding the
    whole block, its text and its signature, as the non-streamed message carries it; a redacted
    one is such a delta too. Each has the ``index`` of its block in the message, so a client
    accumulating deltas (the OpenAI SDK's stream helper does) keeps them as a list.
    """

    _finish_names: Mapping[FinishReason, str] = FINISH_TO_OPENAI  # the legacy writer's differ

    def __init__(
        self,
        *,
        model: str,
        include_usage: bool = False,
        new_id: IdFactory = new_openai_id,
        created: int | None = None,
    ) -> None:
        self._id = new_id()
        self._model = model
        self._created = created if created is not None else int(time.time())
        self._include_usage = include_usage
        self._roles_sent: set[int] = set()
        self._usage: Usage | None = None
        self._finished = False
        self._failed = False
        # Per choice, the open reasoning block's text, for its signature; dropped when another
        # block begins (reasoning without a signature, an OpenAI-compatible upstream's, ends so).
        self._thinking: dict[int, list[str]] = {}
        self._blocks: dict[int, int] = {}  # per choice, thinking_blocks sent
        self._handlers: dict[type, Callable[[Any], list[Json]]] = {
            ev.Start: self._on_start,
            ev.TextDelta: self._on_text,
            ev.RefusalDelta: self._on_refusal,
            ev.ReasoningDelta: self._on_reasoning,
            ev.ReasoningSignature: self._on_signature,
            ev.RedactedReasoningBlock: self._on_redacted,
            ev.ToolCallStart: self._on_tool_start,
            ev.ToolCallArgsDelta: self._on_tool_args,
            ev.Finish: self._on_finish,
            ev.UsageReport: self._on_usage,
            ev.Error: self._on_error,
        }

    def feed(self, event: ev.StreamEvent) -> list[Json]:
        """The chunks one canonical event becomes (often one, sometimes none)."""
        if self._failed:
            return []
        handler = self._handlers.get(type(event))
        return handler(event) if handler is not None else []

    def _on_start(self, event: ev.Start) -> list[Json]:
        self._usage = event.usage or self._usage
        return self._open(0)

    def _on_text(self, event: ev.TextDelta) -> list[Json]:
        if self._thinking:  # a reasoning block ends where another block begins
            self._thinking.pop(event.choice, None)
        return self._delta(event.choice, {"content": event.text}, event.logprobs)

    def _on_refusal(self, event: ev.RefusalDelta) -> list[Json]:
        if self._thinking:
            self._thinking.pop(event.choice, None)
        return self._delta(event.choice, {"refusal": event.text}, event.logprobs)

    def _on_reasoning(self, event: ev.ReasoningDelta) -> list[Json]:
        self._thinking.setdefault(event.choice, []).append(event.text)
        return self._delta(event.choice, {"reasoning_content": event.text}, event.logprobs)

    def _on_signature(self, event: ev.ReasoningSignature) -> list[Json]:
        text = "".join(self._thinking.pop(event.choice, ()))
        return self._block(event.choice, {"type": "thinking", "thinking": text, "signature": event.signature})

    def _on_redacted(self, event: ev.RedactedReasoningBlock) -> list[Json]:
        return self._block(event.choice, {"type": "redacted_thinking", "data": event.data})

    def _block(self, choice: int, block: Json) -> list[Json]:
        index = self._blocks.get(choice, 0)
        self._blocks[choice] = index + 1
        return self._delta(choice, {"thinking_blocks": [{"index": index, **block}]})

    def _on_tool_start(self, event: ev.ToolCallStart) -> list[Json]:
        if self._thinking:
            self._thinking.pop(event.choice, None)
        fn = {"name": event.name, "arguments": ""}
        call = {"index": event.index, "id": event.id, "type": "function", "function": fn}
        return self._delta(event.choice, {"tool_calls": [call]})

    def _on_tool_args(self, event: ev.ToolCallArgsDelta) -> list[Json]:
        call = {"index": event.index, "function": {"arguments": event.json_fragment}}
        return self._delta(event.choice, {"tool_calls": [call]})

    def _on_finish(self, event: ev.Finish) -> list[Json]:
        self._finished = True
        finish = self._chunk(event.choice, {}, self._finish_names[event.reason])
        return [*self._open(event.choice), finish]

    def _on_usage(self, event: ev.UsageReport) -> list[Json]:
        self._usage = event.usage
        return []

    def _on_error(self, event: ev.Error) -> list[Json]:
        return [self._error(event)]

    def close(self) -> list[Json]:
        """The chunks that end the stream: an error if it never finished, then usage if asked."""
        if self._failed:
            return []
        if not self._finished:
            return [self._error(ev.Error("The upstream stream ended before the answer was complete."))]
        if not self._include_usage or self._usage is None:
            return []
        return [{**self._envelope(), "choices": [], "usage": usage_to_openai(self._usage)}]

    def _open(self, choice: int) -> list[Json]:
        if choice in self._roles_sent:
            return []
        self._roles_sent.add(choice)
        return [self._chunk(choice, {"role": "assistant", "content": ""})]

    def _delta(self, choice: int, delta: Json, logprobs: JsonObject | None = None) -> list[Json]:
        return [*self._open(choice), self._chunk(choice, delta, logprobs=logprobs)]

    def _envelope(self) -> Json:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
        }

    def _chunk(
        self, choice: int, delta: Json, finish: str | None = None, logprobs: JsonObject | None = None
    ) -> Json:
        body = {"index": choice, "delta": delta, "logprobs": logprobs, "finish_reason": finish}
        return {**self._envelope(), "choices": [body]}

    def _error(self, error: ev.Error) -> Json:
        self._failed = True
        return {  # SPEC "Errors": message, type, code and param, as before the stream starts
            "error": {
                "message": error.message,
                "type": ev.ERROR_KIND_TO_OPENAI[error.kind],
                "code": ev.ERROR_KIND_CODE[error.kind],
                "param": None,
            }
        }


def parse_openai_chunks(chunks: Iterable[Mapping[str, Any]]) -> Iterator[ev.StreamEvent]:
    """Canonical events from a whole sequence of upstream chunks (tests, buffered paths)."""
    parser = OpenAIChunkParser()
    for chunk in chunks:
        yield from parser.feed(chunk)


def render_openai_chunks(events: Iterable[ev.StreamEvent], writer: OpenAIStreamWriter) -> Iterator[Json]:
    """Client chunks for a whole sequence of canonical events, closing the writer at the end."""
    for event in events:
        yield from writer.feed(event)
    yield from writer.close()
