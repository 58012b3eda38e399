"""Server-Sent Events bytes: encoding what Sluice sends, parsing what upstreams send.

Kept apart from the stream translators, which deal only in dicts and canonical events.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from typing import Any, NamedTuple

from shared.json_codec import dumps

DONE = b"data: [DONE]\n\n"
KEEPALIVE = b": keep-alive\n\n"
FLUSH = b""  # not a frame: a response body yields it to send what it has written so far now


def encode_openai_chunk(chunk: dict[str, Any]) -> bytes:
    """``data: {chunk}`` and the blank line that ends an SSE event."""
    return b"data: " + dumps(chunk) + b"\n\n"


def encode_anthropic_event(event: dict[str, Any]) -> bytes:
    """``event: <type>``, ``data: {event}`` and the blank line, as Anthropic frames its stream."""
    return b"event: " + str(event["type"]).encode() + b"\ndata: " + dumps(event) + b"\n\n"


class SseEvent(NamedTuple):
    event: str | None
    data: str


class SseParser:
    """Incremental SSE parser (WHATWG rules): bytes in, complete events out.

    Handles lines split across reads, LF/CRLF/CR line ends, comments, multi-line ``data``
    (joined with newlines) and a UTF-8 byte-order mark; ``id`` and ``retry`` are ignored.
    """

    def __init__(self) -> None:
        self._buffer = b""
        self._first = True
        self._event: str | None = None
        self._data: list[str] = []
        self._lines: deque[str] = deque()  # complete lines not parsed yet

    def feed(self, chunk: bytes) -> list[SseEvent]:
        """Every event that ``chunk`` completes."""
        return list(self.events(chunk))

    def events(self, chunk: bytes) -> Iterator[SseEvent]:
        """``feed``, one event at a time: the first event of a long read (a fast upstream's whole
        answer; 66 events here took 154 µs to parse) is out before the rest is parsed. Lines not
        reached when the caller stops iterating are parsed by the next call."""
        self._buffer += chunk
        if self._first and len(self._buffer) >= 3:
            self._buffer = self._buffer.removeprefix(b"\xef\xbb\xbf")
            self._first = False
        self._lines.extend(self._complete_lines())
        return self._parsed()

    def _parsed(self) -> Iterator[SseEvent]:
        lines = self._lines
        while lines:
            event = self._line(lines.popleft())
            if event is not None:
                yield event

    def finish(self) -> list[SseEvent]:
        """At end of stream: an unterminated last event, leniently (some servers omit the blank line)."""
        events = list(self._parsed())
        tail, self._buffer = self._buffer.rstrip(b"\r"), b""
        if tail:
            self._line(tail.decode("utf-8", "replace"))
        return [*events, self._dispatch()] if self._data else events

    def _complete_lines(self) -> list[str]:
        if b"\r" not in self._buffer:  # LF line ends only (the usual case): one split
            done, found, self._buffer = self._buffer.rpartition(b"\n")
            return done.decode("utf-8", "replace").split("\n") if found else []
        lines: list[str] = []
        while True:
            cut = _line_end(self._buffer)
            if cut is None:
                return lines
            end, width = cut
            lines.append(self._buffer[:end].decode("utf-8", "replace"))
            self._buffer = self._buffer[end + width :]

    def _line(self, line: str) -> SseEvent | None:
        if not line:
            if self._data:
                return self._dispatch()
            self._reset()
            return None
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "data":
            self._data.append(value)
        elif name == "event":
            self._event = value
        return None

    def _dispatch(self) -> SseEvent:
        event = SseEvent(self._event, "\n".join(self._data))
        self._reset()
        return event

    def _reset(self) -> None:
        self._event = None
        self._data = []


def _line_end(buffer: bytes) -> tuple[int, int] | None:
    """Where the first complete line ends and how wide its terminator is.

    A CR at the very end of the buffer waits for the next read: it may be half of a CRLF.
    """
    lf, cr = buffer.find(b"\n"), buffer.find(b"\r")
    if cr == -1 or (lf != -1 and lf < cr):
        return (lf, 1) if lf != -1 else None
    if cr + 1 == len(buffer):
        return None
    return cr, 2 if buffer[cr + 1] == 0x0A else 1
