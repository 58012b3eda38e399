"""Stream parsing: upstream OpenAI chunks and Anthropic events as canonical events (the writers
are in test_chat_stream_writers.py, SSE framing in test_chat_sse_framing.py)."""

import json

import pytest
from support.chat_streams import (
    chunk,
)

from shared.chat import events as ev
from shared.chat.canonical import FinishReason, Usage
from shared.chat.stream_anthropic import (
    AnthropicEventParser,
    parse_anthropic_events,
)
from shared.chat.stream_openai import (
    OpenAIChunkParser,
    parse_openai_chunks,
)
from shared.errors import UpstreamError

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
        ev.RefusalDelta("no"),
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
