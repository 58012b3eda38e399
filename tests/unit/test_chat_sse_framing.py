"""SSE framing: the encoders, and the parser over split reads, every line ending and an
unterminated last event."""

import json

import pytest
from support.chat_streams import (
    render_openai,
)

from shared.chat import events as ev
from shared.chat.canonical import FinishReason
from shared.chat.sse import DONE, KEEPALIVE, SseEvent, SseParser, encode_anthropic_event, encode_openai_chunk
from shared.chat.stream_anthropic import (
    PING,
)

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
