"""Stream translation (upstream chunks/events <-> canonical events <-> client chunks/events) and
SSE framing."""

import json
from typing import Any

import pytest
from anthropic.types import ErrorResponse, RawMessageStreamEvent
from openai.types.chat import ChatCompletionChunk as SdkChunk
from pydantic import TypeAdapter

from shared.chat import events as ev
from shared.chat.canonical import FinishReason, Usage
from shared.chat.sse import DONE, KEEPALIVE, SseEvent, SseParser, encode_anthropic_event, encode_openai_chunk
from shared.chat.stream_anthropic import (
    PING,
    AnthropicEventParser,
    AnthropicStreamWriter,
    parse_anthropic_events,
    render_anthropic_events,
)
from shared.chat.stream_openai import (
    OpenAIChunkParser,
    OpenAIStreamWriter,
    parse_openai_chunks,
    render_openai_chunks,
)
from shared.errors import UpstreamError

ANTHROPIC_EVENT = TypeAdapter(RawMessageStreamEvent)


def chunk(delta: dict[str, Any] | None = None, finish: str | None = None, **extra: Any) -> dict[str, Any]:
    choices = [] if delta is None else [{"index": 0, "delta": delta, "finish_reason": finish, **extra}]
    return {"id": "up", "object": "chat.completion.chunk", "created": 1, "model": "up", "choices": choices}


def anthropic_writer() -> AnthropicStreamWriter:
    return AnthropicStreamWriter(model="m", new_id=lambda: "msg_1")


def openai_writer(include_usage: bool = False) -> OpenAIStreamWriter:
    return OpenAIStreamWriter(model="m", include_usage=include_usage, new_id=lambda: "chatcmpl-1", created=5)


def render_anthropic(events: list[ev.StreamEvent]) -> list[dict[str, Any]]:
    rendered = list(render_anthropic_events(events, anthropic_writer()))
    for event in rendered:
        if event["type"] == "error":
            ErrorResponse.model_validate(event)
        else:
            ANTHROPIC_EVENT.validate_python(event)
    return rendered


def render_openai(events: list[ev.StreamEvent], include_usage: bool = False) -> list[dict[str, Any]]:
    return list(render_openai_chunks(events, openai_writer(include_usage)))


# --- OpenAI upstream chunks -> canonical -------------------------------------------------------


def test_openai_chunks_to_events() -> None:
    events = list(
        parse_openai_chunks(
            [
                chunk({"role": "assistant", "content": ""}),
                chunk({"reasoning_content": "think"}),
                chunk({"reasoning": "more"}),
                chunk({"content": "Hi"}),
                chunk({"refusal": "no"}),
                chunk({}, "stop", stop_reason="</end>"),
                chunk(None) | {"usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
            ]
        )
    )
    assert events == [
        ev.Start(id="up", model="up"),
        ev.ReasoningDelta("think"),
        ev.ReasoningDelta("more"),
        ev.TextDelta("Hi"),
        ev.TextDelta("no"),
        ev.Finish(FinishReason.STOP_SEQUENCE, "</end>"),
        ev.UsageReport(Usage(3, 4)),
    ]


def test_tool_call_deltas_without_index_are_numbered_by_id() -> None:
    parser = OpenAIChunkParser(new_tool_id=lambda: "gen")
    first = {"id": "a", "function": {"name": "f", "arguments": "{"}}
    more = {"function": {"arguments": "}"}}
    second = {"id": "b", "function": {"name": "g", "arguments": "{}"}}
    unnamed_id = {"index": 2, "function": {"name": "h"}}
    events = [e for c in (first, more, second, unnamed_id) for e in parser.feed(chunk({"tool_calls": [c]}))]
    assert events[1:] == [
        ev.ToolCallStart(0, "a", "f"),
        ev.ToolCallArgsDelta(0, "{"),
        ev.ToolCallArgsDelta(0, "}"),
        ev.ToolCallStart(1, "b", "g"),
        ev.ToolCallArgsDelta(1, "{}"),
        ev.ToolCallStart(2, "gen", "h"),
    ]


def test_tool_arguments_before_a_name_are_an_upstream_error() -> None:
    with pytest.raises(UpstreamError):
        list(parse_openai_chunks([chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{}"}}]})]))


def test_error_chunks_and_malformed_chunks() -> None:
    assert list(parse_openai_chunks([{"error": {"message": "overloaded"}}])) == [ev.Error("overloaded")]
    with pytest.raises(UpstreamError):
        list(parse_openai_chunks([{"choices": [{"index": "zero"}]}]))
    with pytest.raises(UpstreamError):
        list(parse_openai_chunks([chunk({}, "exploded")]))


# --- canonical -> OpenAI client chunks ---------------------------------------------------------


def test_openai_writer_orders_role_deltas_finish_and_usage() -> None:
    chunks = render_openai(
        [
            ev.Start(),
            ev.TextDelta("a"),
            ev.Finish(FinishReason.LENGTH),
            ev.UsageReport(Usage(5, 6, cache_read_tokens=1)),
        ],
        include_usage=True,
    )
    assert [c["choices"][0]["delta"] if c["choices"] else c["usage"] for c in chunks] == [
        {"role": "assistant", "content": ""},
        {"content": "a"},
        {},
        {
            "prompt_tokens": 5,
            "completion_tokens": 6,
            "total_tokens": 11,
            "prompt_tokens_details": {"cached_tokens": 1},
        },
    ]
    assert chunks[2]["choices"][0]["finish_reason"] == "length"
    assert {c["id"] for c in chunks} == {"chatcmpl-1"} and {c["model"] for c in chunks} == {"m"}
    for c in chunks:
        SdkChunk.model_validate(c)


def test_openai_writer_usage_only_when_asked_and_known() -> None:
    finished: list[ev.StreamEvent] = [ev.Start(), ev.Finish(FinishReason.STOP), ev.UsageReport(Usage(1, 1))]
    assert all(c["choices"] for c in render_openai(finished, include_usage=False))
    unknown = render_openai([ev.Start(), ev.Finish(FinishReason.STOP)], include_usage=True)
    assert all(c["choices"] for c in unknown)


def test_openai_writer_ends_a_cut_stream_with_an_error() -> None:
    chunks = render_openai([ev.Start(), ev.TextDelta("partial")])
    assert chunks[-1] == {
        "error": {
            "message": "The upstream stream ended before the answer was complete.",
            "type": "api_error",
            "code": None,
        }
    }
    failed = render_openai(
        [ev.TextDelta("a"), ev.Error("boom", ev.ErrorKind.RATE_LIMITED), ev.TextDelta("b")]
    )
    assert failed[-1] == {"error": {"message": "boom", "type": "rate_limit_error", "code": None}}
    assert len(failed) == 3  # role, "a", error; nothing after the error


def test_openai_writer_opens_each_choice_with_a_role_chunk() -> None:
    chunks = render_openai([ev.TextDelta("x", choice=1), ev.Finish(FinishReason.STOP, choice=1)])
    assert [(c["choices"][0]["index"], c["choices"][0]["delta"]) for c in chunks] == [
        (1, {"role": "assistant", "content": ""}),
        (1, {"content": "x"}),
        (1, {}),
    ]


# --- Anthropic upstream events -> canonical ----------------------------------------------------


def test_anthropic_events_to_canonical() -> None:
    start = {
        "type": "message_start",
        "message": {
            "id": "u",
            "model": "c",
            "content": [],
            "usage": {"input_tokens": 9, "cache_read_input_tokens": 1, "output_tokens": 1},
        },
    }
    events = list(
        parse_anthropic_events(
            [
                start,
                {"type": "ping"},
                {"type": "brand_new_event", "whatever": 1},
                {
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": {"type": "redacted_thinking", "data": "xx"},
                },
                {
                    "type": "content_block_start",
                    "index": 1,
                    "content_block": {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}},
                },
                {
                    "type": "content_block_delta",
                    "index": 1,
                    "delta": {"type": "input_json_delta", "partial_json": ""},
                },
                {
                    "type": "content_block_delta",
                    "index": 2,
                    "delta": {"type": "citations_delta", "citation": {}},
                },
                {
                    "type": "message_delta",
                    "delta": {"stop_reason": "pause_turn"},
                    "usage": {"output_tokens": 3},
                },
                {"type": "message_delta", "delta": {}, "usage": {"input_tokens": 9, "output_tokens": 4}},
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
            ]
        )
    )
    assert events == [
        ev.Start("u", "c", Usage(10, 1, cache_read_tokens=1)),
        ev.RedactedReasoningBlock("xx"),
        ev.ToolCallStart(0, "t", "f"),
        ev.ToolCallArgsDelta(0, '{"a": 1}'),
        ev.Finish(FinishReason.PAUSE),
        ev.UsageReport(Usage(10, 3, cache_read_tokens=1)),
        ev.UsageReport(Usage(10, 4, cache_read_tokens=1)),
        ev.Error("Overloaded", ev.ErrorKind.OVERLOADED),
    ]


def test_anthropic_upstream_protocol_errors() -> None:
    parser = AnthropicEventParser()
    with pytest.raises(UpstreamError):
        parser.feed(
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "input_json_delta", "partial_json": "{"},
            }
        )
    with pytest.raises(UpstreamError):
        parser.feed({"type": "content_block_start", "index": 0, "content_block": {"type": "mystery"}})
    with pytest.raises(UpstreamError):
        parser.feed({"type": "message_delta", "delta": {"stop_reason": "tired"}})


# --- canonical -> Anthropic client events ------------------------------------------------------


def block_starts(events: list[dict[str, Any]]) -> list[tuple[int, str]]:
    return [(e["index"], e["content_block"]["type"]) for e in events if e["type"] == "content_block_start"]


def test_a_new_block_opens_whenever_the_kind_changes() -> None:
    events = render_anthropic(
        [
            ev.Start(usage=Usage(40, 1)),
            ev.ReasoningDelta("r1"),
            ev.ReasoningDelta("r2"),
            ev.ReasoningSignature("sig"),
            ev.TextDelta("t1"),
            ev.ToolCallStart(0, "c0", "f"),
            ev.ToolCallArgsDelta(0, "{}"),
            ev.ToolCallStart(1, "c1", "g"),
            ev.TextDelta("after"),
            ev.RedactedReasoningBlock("opaque"),
            ev.Finish(FinishReason.TOOL_CALLS),
            ev.UsageReport(Usage(40, 12)),
        ]
    )
    assert block_starts(events) == [
        (0, "thinking"),
        (1, "text"),
        (2, "tool_use"),
        (3, "tool_use"),
        (4, "text"),
        (5, "redacted_thinking"),
    ]
    stops = [e["index"] for e in events if e["type"] == "content_block_stop"]
    assert stops == [0, 1, 2, 3, 4, 5]
    assert events[0]["message"]["usage"] == {"input_tokens": 40, "output_tokens": 1}
    signature = next(e for e in events if e.get("delta", {}).get("type") == "signature_delta")
    assert signature["index"] == 0
    assert events[-2] == {
        "type": "message_delta",
        "delta": {"stop_reason": "tool_use", "stop_sequence": None},
        "usage": {"input_tokens": 40, "output_tokens": 12},
    }
    assert events[-1] == {"type": "message_stop"}


def test_stop_sequence_and_missing_usage() -> None:
    events = render_anthropic([ev.TextDelta("x"), ev.Finish(FinishReason.STOP_SEQUENCE, "##")])
    assert events[0]["type"] == "message_start"
    assert events[-2] == {
        "type": "message_delta",
        "delta": {"stop_reason": "stop_sequence", "stop_sequence": "##"},
        "usage": {"output_tokens": 0},
    }


@pytest.mark.parametrize(
    ("stream", "message"),
    [
        ([ev.Start(), ev.TextDelta("cut")], "The upstream stream ended before the answer was complete."),
        (
            [ev.Start(), ev.Finish(FinishReason.ERROR)],
            "The upstream model failed while generating the answer.",
        ),
        (
            [
                ev.Start(),
                ev.ToolCallStart(0, "a", "f"),
                ev.ToolCallStart(1, "b", "f"),
                ev.ToolCallArgsDelta(0, "{"),
            ],
            "Upstream interleaved the arguments of several tool calls.",
        ),
        (
            [ev.Start(), ev.TextDelta("a"), ev.Error("gone", ev.ErrorKind.OVERLOADED), ev.TextDelta("b")],
            "gone",
        ),
    ],
)
def test_failures_end_with_one_well_formed_error_event(stream: list[ev.StreamEvent], message: str) -> None:
    events = render_anthropic(stream)
    assert events[-1]["type"] == "error" and events[-1]["error"]["message"] == message
    assert sum(e["type"] == "error" for e in events) == 1
    assert not any(e["type"] in ("message_delta", "message_stop") for e in events)


def test_anthropic_writer_renders_choice_zero_only() -> None:
    events = render_anthropic([ev.TextDelta("a"), ev.TextDelta("b", choice=1), ev.Finish(FinishReason.STOP)])
    texts = [e["delta"]["text"] for e in events if e["type"] == "content_block_delta"]
    assert texts == ["a"]


def test_anthropic_stream_round_trips_through_canonical() -> None:
    upstream: list[dict[str, Any]] = [
        {
            "type": "message_start",
            "message": {
                "id": "u",
                "type": "message",
                "role": "assistant",
                "model": "c",
                "content": [],
                "stop_reason": None,
                "stop_sequence": None,
                "usage": {"input_tokens": 3, "cache_creation_input_tokens": 2, "output_tokens": 1},
            },
        },
        {
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "thinking", "thinking": "", "signature": ""},
        },
        {"type": "content_block_delta", "index": 0, "delta": {"type": "thinking_delta", "thinking": "hm"}},
        {"type": "content_block_delta", "index": 0, "delta": {"type": "signature_delta", "signature": "s"}},
        {"type": "content_block_stop", "index": 0},
        {"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}},
        {"type": "content_block_delta", "index": 1, "delta": {"type": "text_delta", "text": "ok"}},
        {"type": "content_block_stop", "index": 1},
        {
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": None},
            "usage": {"input_tokens": 3, "cache_creation_input_tokens": 2, "output_tokens": 8},
        },
        {"type": "message_stop"},
    ]
    writer = AnthropicStreamWriter(model="c", new_id=lambda: "u")
    assert list(render_anthropic_events(parse_anthropic_events(upstream), writer)) == upstream


# --- SSE framing -------------------------------------------------------------------------------


def test_encoders() -> None:
    assert encode_openai_chunk({"a": "é"}) == 'data: {"a":"é"}\n\n'.encode()
    assert encode_anthropic_event(PING) == b'event: ping\ndata: {"type":"ping"}\n\n'
    assert DONE == b"data: [DONE]\n\n"
    assert KEEPALIVE.startswith(b":")


def feed_all(raw: bytes, size: int) -> list[SseEvent]:
    parser = SseParser()
    events = [e for i in range(0, len(raw), size) for e in parser.feed(raw[i : i + size])]
    return events + parser.finish()


@pytest.mark.parametrize("size", [1, 2, 3, 5, 1000])
@pytest.mark.parametrize("newline", [b"\n", b"\r\n", b"\r"])
def test_sse_parser_handles_split_reads_and_every_line_ending(size: int, newline: bytes) -> None:
    lines = [
        b"\xef\xbb\xbf: comment",
        b"event: message_start",
        b'data: {"text": "\xc5\xbeaba"}',
        b"",
        b"id: 7",
        b"retry: 100",
        b"data: line one",
        b"data:line two",
        b"data",
        b"",
        b"",
        b": keep-alive",
        b"",
        b"data: [DONE]",
        b"",
    ]
    raw = newline.join(lines) + newline
    assert feed_all(raw, size) == [
        SseEvent("message_start", '{"text": "žaba"}'),
        SseEvent(None, "line one\nline two\n"),
        SseEvent(None, "[DONE]"),
    ]


def test_sse_events_yields_one_at_a_time_and_a_caller_that_stops_loses_nothing() -> None:
    """``events`` parses a long read as it is consumed; lines it has not reached when the caller
    stops are the next call's (``feed`` or ``finish``) first events."""
    burst = b"".join(b"data: %d\n\n" % n for n in range(50))
    parser = SseParser()
    first = parser.events(burst[:-1])  # the last event's blank line comes with the next read
    assert next(first) == SseEvent(None, "0")
    assert next(first) == SseEvent(None, "1")  # then the caller stops reading this one
    assert parser.feed(b"\n") == [SseEvent(None, str(n)) for n in range(2, 50)]
    stopped = SseParser()
    assert next(stopped.events(b"data: a\n\ndata: b\n\nevent: x\ndata: c")) == SseEvent(None, "a")
    assert stopped.finish() == [SseEvent(None, "b"), SseEvent("x", "c")]


def test_sse_parser_finish_flushes_an_unterminated_event() -> None:
    parser = SseParser()
    assert parser.feed(b'event: x\ndata: {"a":1}') == []
    assert parser.finish() == [SseEvent("x", '{"a":1}')]
    assert parser.finish() == []


def test_sse_bytes_of_an_openai_stream_parse_back() -> None:
    chunks = render_openai([ev.Start(), ev.TextDelta("hi"), ev.Finish(FinishReason.STOP)])
    raw = b"".join(encode_openai_chunk(c) for c in chunks) + DONE
    parsed = feed_all(raw, 4)
    assert [json.loads(e.data) for e in parsed[:-1]] == chunks
    assert parsed[-1].data == "[DONE]"


# --- feed_json: the same events from the chunk's JSON text ---------------------------------------

JSON_CHUNKS = [
    chunk({"role": "assistant", "content": ""}),
    chunk({"reasoning_content": "think"}),
    chunk({"content": "Hi \\u00e9 \U0001f600"}),
    chunk({"tool_calls": [{"index": 0, "id": "t1", "function": {"name": "f", "arguments": '{"a"'}}]}),
    chunk({"tool_calls": [{"index": 0, "function": {"arguments": ": 1}"}}]}),
    chunk({}, "tool_calls"),
    chunk(None) | {"usage": {"prompt_tokens": 3, "completion_tokens": 4, "total_tokens": 7}},
    {"error": {"message": "overloaded"}},
]


def test_feed_json_gives_the_same_events_as_feed() -> None:
    by_dict, by_text = OpenAIChunkParser(new_tool_id=lambda: "g"), OpenAIChunkParser(new_tool_id=lambda: "g")
    for item in JSON_CHUNKS:
        assert by_text.feed_json(json.dumps(item)) == by_dict.feed(item), item


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", '"text"', '{"choices": [{"index": "zero"}]}'])
def test_feed_json_leaves_malformed_chunks_to_feed(text: str) -> None:
    assert OpenAIChunkParser().feed_json(text) is None
