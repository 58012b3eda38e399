"""CPU per streamed event of the translation alone (shared/chat), on a recorded upstream stream.

The recording is the raw SSE body of one streaming answer of the fake upstream (64 content
chunks, include_usage). Three costs, in µs of CPU per upstream event:
- parse: SSE framing + JSON + OpenAI chunk -> canonical events;
- parse + render OpenAI (an OpenAI client on an OpenAI upstream);
- parse + render Anthropic (an Anthropic client on an OpenAI upstream).
"""

from __future__ import annotations

import json
import time
import urllib.request
from collections.abc import Callable
from typing import Any

from shared.chat.sse import SseParser
from shared.chat.stream_openai import OpenAIChunkParser
from shared.gateway.sse_render import AnthropicSse, OpenAISse


def record_stream(base_url: str, model: str) -> bytes:
    body = json.dumps(
        {
            "model": model,
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "hi"}],
        }
    ).encode()
    request = urllib.request.Request(  # noqa: S310 - loopback
        f"{base_url}/v1/chat/completions", data=body, headers={"content-type": "application/json"}
    )
    with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
        return bytes(response.read())


def _parse(raw: bytes) -> list[Any]:
    sse, chunks = SseParser(), OpenAIChunkParser()
    events: list[Any] = []
    for item in sse.feed(raw):
        if item.data.strip() == "[DONE]":
            break
        parsed = chunks.feed_json(item.data)
        events.extend(parsed if parsed is not None else chunks.feed(json.loads(item.data)))
    return events


def _render(events: list[Any], renderer: Any) -> int:
    size = 0
    for event in events:
        size += sum(len(frame) for frame in renderer.feed(event))
    return size + sum(len(frame) for frame in renderer.close())


def _cpu_us_per_event(work: Callable[[], Any], events: int, seconds: float) -> float:
    work()  # warm
    runs, started = 0, time.process_time()
    while time.process_time() - started < seconds:
        work()
        runs += 1
    return (time.process_time() - started) / (runs * events) * 1e6


def translation_costs(raw: bytes, seconds: float = 1.5) -> dict[str, Any]:
    lines = [line for line in raw.split(b"\n\n") if line.startswith(b"data: ")]
    events = len(lines) - 1  # every data line but [DONE]
    return {
        "upstream_events": events,
        "canonical_events": len(_parse(raw)),
        "parse_us": round(_cpu_us_per_event(lambda: _parse(raw), events, seconds), 2),
        "openai_to_openai_us": round(
            _cpu_us_per_event(
                lambda: _render(_parse(raw), OpenAISse(model="m", include_usage=True)), events, seconds
            ),
            2,
        ),
        "openai_to_anthropic_us": round(
            _cpu_us_per_event(lambda: _render(_parse(raw), AnthropicSse(model="m")), events, seconds), 2
        ),
    }
