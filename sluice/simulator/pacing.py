"""Response bodies over time: token pacing, hangs and mid-body faults."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

from starlette.requests import Request

from sluice.simulator.faults import RESET_AFTER_STEPS, FaultName, with_half_emoji
from sluice.simulator.render import Chunk, sse_event

MALFORMED_EVENT = b"data: {not json\n\n"


class SimulatedConnectionReset(ConnectionResetError):
    """Raised inside a response body so that the server drops the connection mid-response."""


@dataclass(frozen=True)
class SseFraming:
    """How one protocol writes its stream: each event, what ends the stream, and the broken event
    ``malformed_sse`` sends (framed so that the protocol's clients try to parse it)."""

    encode: Callable[[Chunk], bytes]
    ending: bytes
    malformed: bytes


OPENAI_SSE = SseFraming(encode=sse_event, ending=sse_event("[DONE]"), malformed=MALFORMED_EVENT)


@dataclass(frozen=True)
class Timing:
    """How one response is paced: seconds between tokens, and how long a hang lasts."""

    token_delay: float
    hang_seconds: float


async def pause(request: Request, seconds: float) -> bool:
    """Wait ``seconds``; returns true as soon as the client disconnects instead."""
    if seconds <= 0:
        return False
    try:
        async with asyncio.timeout(seconds):
            while (await request.receive())["type"] != "http.disconnect":
                pass
    except TimeoutError:
        return False
    return True


async def sse_body(
    request: Request,
    steps: list[list[Chunk]],
    timing: Timing,
    fault: FaultName | None,
    framing: SseFraming = OPENAI_SSE,
) -> AsyncIterator[bytes]:
    """The SSE stream: one step per token interval, then the ending (OpenAI's ``data: [DONE]``),
    unless a fault hits."""
    half_emoji = fault is FaultName.LONE_SURROGATE
    for position, step in enumerate(steps):
        if position and timing.token_delay:
            await asyncio.sleep(timing.token_delay)
        data = b"".join(framing.encode(chunk) for chunk in step)
        if half_emoji:
            marked = with_half_emoji(data)
            half_emoji, data = marked == data, marked
        yield data
        if position == 0 and fault is FaultName.MALFORMED_SSE:
            yield framing.malformed
        hangs = position == 0 and fault is FaultName.HANG_AFTER_FIRST
        if hangs and await pause(request, timing.hang_seconds):
            return
        if fault is FaultName.RESET_MID_STREAM and position + 1 == RESET_AFTER_STEPS:
            raise SimulatedConnectionReset("simulated reset_mid_stream")
    if framing.ending:
        yield framing.ending


async def faulty_json_body(
    request: Request, body: bytes, timing: Timing, fault: FaultName | None
) -> AsyncIterator[bytes]:
    """A JSON body that hangs after its first byte or breaks off halfway, as ``fault`` says."""
    if fault is FaultName.RESET_MID_STREAM:
        yield body[: len(body) // 2]
        raise SimulatedConnectionReset("simulated reset_mid_stream")
    yield body[:1]
    if fault is FaultName.HANG_AFTER_FIRST and await pause(request, timing.hang_seconds):
        return
    yield body[1:]
