"""SseResponse: frames ready together leave in one write; a frame alone leaves at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest
from starlette.types import Message
from support.loop_turns import Turns

from shared.chat.sse import FLUSH
from shared.http.sse_response import FLUSH_FRAMES, SseResponse


class Client:
    def __init__(self) -> None:
        self.messages: list[Message] = []

    async def send(self, message: Message) -> None:
        self.messages.append(message)

    @property
    def writes(self) -> list[bytes]:
        return [m["body"] for m in self.messages if m["type"] == "http.response.body" and m["more_body"]]


def scope() -> dict[str, Any]:
    return {"type": "http", "asgi": {"spec_version": "2.4"}}


async def never_disconnects() -> dict[str, Any]:
    await asyncio.Event().wait()
    return {}


def test_a_burst_is_one_write_and_frames_apart_are_separate_writes() -> None:
    client = Client()
    seen_before_second_burst: list[list[bytes]] = []

    async def body() -> AsyncIterator[bytes]:
        for frame in (b"a", b"b", b"c"):  # one upstream read: no wait between them
            yield frame
        await asyncio.sleep(0.01)  # the upstream is slow: what was ready has gone out by now
        seen_before_second_burst.append(list(client.writes))
        yield b"d"
        await asyncio.sleep(0.01)
        yield b"e"

    asyncio.run(SseResponse(body())(scope(), never_disconnects, client.send))

    assert seen_before_second_burst == [[b"abc"]]
    assert client.writes == [b"abc", b"d", b"e"]
    assert client.messages[0]["type"] == "http.response.start"
    assert client.messages[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    assert dict(client.messages[0]["headers"])[b"content-type"].startswith(b"text/event-stream")


def test_a_failing_body_stops_the_writer_and_sends_no_end() -> None:
    client = Client()

    async def body() -> AsyncIterator[bytes]:
        yield b"a"
        await asyncio.sleep(0.01)
        raise RuntimeError("upstream gone")

    async def run() -> set[asyncio.Task[Any]]:
        with pytest.raises(RuntimeError):
            await SseResponse(body())(scope(), never_disconnects, client.send)
        return asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(run()) == set(), "no writer task left behind"
    assert client.writes == [b"a"]
    assert not any(m.get("more_body") is False for m in client.messages)


def test_flush_sends_what_was_written_before_the_rest_of_a_burst() -> None:
    client = Client()
    seen_at_flush: list[list[bytes]] = []

    async def body() -> AsyncIterator[bytes]:
        yield b"role"
        yield b"first-token"
        yield FLUSH
        seen_at_flush.append(list(client.writes))  # before the body pauses at all
        for frame in (b"x", b"y"):
            yield frame

    asyncio.run(SseResponse(body())(scope(), never_disconnects, client.send))

    assert seen_at_flush == [[b"rolefirst-token"]]
    assert client.writes == [b"rolefirst-token", b"xy"]


def test_a_long_burst_leaves_every_flush_frames_frames() -> None:
    client = Client()
    frames = [b"%d," % i for i in range(FLUSH_FRAMES * 2 + 3)]

    async def body() -> AsyncIterator[bytes]:
        for frame in frames:  # never pauses: one upstream read holding many events
            yield frame

    asyncio.run(SseResponse(body())(scope(), never_disconnects, client.send))

    assert client.writes == [
        b"".join(frames[:FLUSH_FRAMES]),
        b"".join(frames[FLUSH_FRAMES : 2 * FLUSH_FRAMES]),
        b"".join(frames[2 * FLUSH_FRAMES :]),
    ]


def test_a_client_that_leaves_cancels_the_body_and_the_response_ends_quietly() -> None:
    client = Client()
    cancelled = asyncio.Event()
    gone = asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        yield b"a"
        try:
            await asyncio.sleep(10)  # waiting for the upstream's next token
        except asyncio.CancelledError:
            cancelled.set()
            raise
        yield b"never"

    async def receive() -> dict[str, Any]:
        await gone.wait()
        return {"type": "http.disconnect"}

    async def run() -> tuple[int, set[asyncio.Task[Any]]]:
        response = asyncio.create_task(SseResponse(body())(scope(), receive, client.send))
        await asyncio.sleep(0.01)
        gone.set()
        await asyncio.wait_for(response, 2)  # returns: the disconnect is not an error
        assert cancelled.is_set()
        return response.cancelling(), asyncio.all_tasks() - {asyncio.current_task()}

    assert asyncio.run(run()) == (0, set())
    assert client.writes == [b"a"]


def test_a_disconnect_after_the_last_frame_cancels_nothing() -> None:
    """uvicorn answers ``receive`` with a disconnect as soon as the response is complete."""
    client = Client()
    complete = asyncio.Event()

    async def send(message: Message) -> None:
        await client.send(message)
        if message.get("more_body") is False:
            complete.set()
            await asyncio.sleep(0)  # the disconnect arrives while the last send is still in hand

    async def receive() -> dict[str, Any]:
        await complete.wait()
        return {"type": "http.disconnect"}

    async def body() -> AsyncIterator[bytes]:
        yield b"a"

    async def run() -> str:
        await SseResponse(body())(scope(), receive, send)
        await asyncio.sleep(0.01)  # a cancellation left pending would land here
        return "finished"

    assert asyncio.run(run()) == "finished"
    assert client.writes == [b"a"]


def test_the_start_leaves_in_the_same_turn_as_first_frames_that_are_ready() -> None:
    """The server's transport sends what one loop turn wrote in one writev: head and first token."""
    sent: list[tuple[int, str]] = []

    async def body() -> AsyncIterator[bytes]:
        yield b"first-token"
        yield FLUSH
        await asyncio.sleep(0.01)
        yield b"second"

    async def run() -> None:
        turns = Turns()

        async def send(message: Message) -> None:
            sent.append((turns.now, message["type"]))

        await SseResponse(body())(scope(), never_disconnects, send)

    asyncio.run(run())

    (start_turn, start), (first_turn, first) = sent[:2]
    assert (start, first) == ("http.response.start", "http.response.body")
    assert start_turn == first_turn
    assert sent[2][0] > first_turn


def test_the_start_waits_for_the_first_bytes_and_reads_late_headers_then() -> None:
    """A stream's routed model is known once its upstream commits, which is when bytes flow."""
    client = Client()
    sent_while_waiting: list[list[str]] = []
    routed = {"model": "first-candidate"}

    async def body() -> AsyncIterator[bytes]:
        await asyncio.sleep(0.02)  # the upstream has not committed yet
        sent_while_waiting.append([m["type"] for m in client.messages])
        routed["model"] = "second-candidate"  # the first one failed; the second answered
        yield b"late"

    response = SseResponse(
        body(), headers={"x-fixed": "1"}, late_headers=lambda: {"X-Sluice-Model": routed["model"]}
    )
    asyncio.run(response(scope(), never_disconnects, client.send))

    assert sent_while_waiting == [[]], "nothing before the first bytes"
    headers = dict(client.messages[0]["headers"])
    assert headers[b"x-sluice-model"] == b"second-candidate" and headers[b"x-fixed"] == b"1"
    assert client.writes == [b"late"]


def test_an_empty_body_still_gets_its_start_then_its_end() -> None:
    client = Client()

    async def body() -> AsyncIterator[bytes]:
        return
        yield b""

    asyncio.run(
        SseResponse(body(), late_headers=lambda: {"x-late": "yes"})(scope(), never_disconnects, client.send)
    )

    assert [m["type"] for m in client.messages] == ["http.response.start", "http.response.body"]
    assert dict(client.messages[0]["headers"])[b"x-late"] == b"yes"
    assert client.messages[1] == {"type": "http.response.body", "body": b"", "more_body": False}


def test_a_flush_sends_from_the_body_in_the_same_turn_when_the_writer_is_idle() -> None:
    """No loop turn between the body's flush and the first token's send: whatever else is ready to
    run (the disconnect listener's first step, the writer task's) runs after it."""
    sent: list[tuple[int, str]] = []
    flushed_at: list[int] = []

    async def run() -> None:
        turns = Turns()

        async def send(message: Message) -> None:
            sent.append((turns.now, message["type"]))

        async def body() -> AsyncIterator[bytes]:
            yield b"role"
            yield b"first-token"
            flushed_at.append(turns.now)
            yield FLUSH
            yield b"rest"

        await SseResponse(body())(scope(), never_disconnects, send)

    asyncio.run(run())

    assert sent[:2] == [(flushed_at[0], "http.response.start"), (flushed_at[0], "http.response.body")]


def test_a_flush_while_the_writer_is_sending_waits_its_turn_and_loses_nothing() -> None:
    """A send held by the client's flow control: the body's flush does not send beside it."""
    client = Client()

    async def run() -> None:
        drained = asyncio.Event()
        in_send = 0
        most = 0

        async def send(message: Message) -> None:
            nonlocal in_send, most
            in_send += 1
            most = max(most, in_send)
            if message.get("body") == b"a":
                await drained.wait()  # the client reads slowly
            await client.send(message)
            in_send -= 1

        async def body() -> AsyncIterator[bytes]:
            yield b"a"
            await asyncio.sleep(0.01)  # the writer sends "a" and is held
            yield b"b"
            yield FLUSH
            yield b"c"
            yield FLUSH
            drained.set()
            yield b"d"

        await SseResponse(body())(scope(), never_disconnects, send)
        assert most == 1

    asyncio.run(run())

    assert b"".join(client.writes) == b"abcd"
    assert client.writes[0] == b"a"
