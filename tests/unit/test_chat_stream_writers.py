"""Stream rendering: canonical events as OpenAI ``chat.completion.chunk`` dicts and as Anthropic
stream events, and an Anthropic stream's round trip through canonical."""

from typing import Any

import pytest
from openai.types.chat import ChatCompletionChunk as SdkChunk
from support.chat_streams import render_anthropic, render_openai

from shared.chat import events as ev
from shared.chat.canonical import FinishReason, Usage
from shared.chat.stream_anthropic import (
    AnthropicStreamWriter,
    parse_anthropic_events,
    render_anthropic_events,
)

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
            "code": "upstream_error",
            "param": None,
        }
    }
    failed = render_openai(
        [ev.TextDelta("a"), ev.Error("boom", ev.ErrorKind.RATE_LIMITED), ev.TextDelta("b")]
    )
    assert failed[-1] == {
        "error": {"message": "boom", "type": "rate_limit_error", "code": "rate_limit_exceeded", "param": None}
    }
    assert len(failed) == 3  # role, "a", error; nothing after the error


def test_openai_writer_opens_each_choice_with_a_role_chunk() -> None:
    chunks = render_openai([ev.TextDelta("x", choice=1), ev.Finish(FinishReason.STOP, choice=1)])
    assert [(c["choices"][0]["index"], c["choices"][0]["delta"]) for c in chunks] == [
        (1, {"role": "assistant", "content": ""}),
        (1, {"content": "x"}),
        (1, {}),
    ]


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
