"""A streaming response whose frames, when several are ready at once, leave in one write.

Starlette's ``StreamingResponse`` sends every chunk the body yields as its own ASGI message: one
socket write per SSE frame, about a quarter of the gateway's CPU per streamed chunk when an
upstream delivers several chunks in one read (docs/BENCHMARKS.md). Here the body's frames go into
a buffer, and a writer task sends what has accumulated each time it runs, which is when the body
waits for the upstream again: a burst read from the upstream becomes one write to the client, a
chunk that arrives alone still leaves at once. The body itself still runs in the request's task,
so a client disconnect cancels it (and the upstream call) exactly as before.

A burst never holds frames back for long: the buffer leaves after ``FLUSH_FRAMES`` frames even
if the body has not paused (an upstream read can hold hundreds of events), and an empty chunk
from the body (``FLUSH``) sends what it wrote so far at once: the relay yields one after the
first content, so the first token is not kept waiting behind the rest of its burst. Such a
flush sends from the body's own task when the writer is not sending, with no loop turn in
between; one sender at a time, so frames never interleave.

The response's start goes out with the body's first bytes (a frame, a keep-alive, or the end)
and in the same loop turn: one socket write on the server's transport (shared/http/server.py),
which sends what a turn wrote together. Headers known only then (``late_headers``: the model a
stream was routed to) are read at that moment.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Mapping

from starlette.responses import ContentStream, StreamingResponse
from starlette.types import Message, Receive, Scope, Send

from shared.chat.sse import FLUSH

FLUSH_FRAMES = 16


class _Writer:
    """Sends the response's start with the body's first bytes, then whatever the body has written
    each time it runs, or at once when the body flushes."""

    def __init__(self, send: Send, start: Callable[[], Message]) -> None:
        self._send = send
        self._start: Callable[[], Message] | None = start
        self._buffer = bytearray()
        self._pending = 0  # frames written since the last send
        self._ready = asyncio.Event()
        self._sending = asyncio.Lock()
        self._ending = False
        self._task = asyncio.create_task(self._run())

    def write(self, chunk: bytes | memoryview) -> None:
        self._buffer += chunk
        self._pending += 1
        self._ready.set()

    @property
    def pending(self) -> int:
        return self._pending

    async def flush(self) -> None:
        """Send what was written now: from the body's task when the writer is idle, else by
        letting the writer task run (``write`` queued its wake-up ahead of this task's)."""
        if self._sending.locked():
            await asyncio.sleep(0)
        else:
            await self._drain()

    async def _drain(self) -> None:
        # The start goes out with the first bytes, in the same loop turn: the server's transport
        # (shared/http/server.py) sends what one turn wrote in one writev, so the status line, the
        # headers and the first token cost one send, not two.
        async with self._sending:
            self._ready.clear()  # what is written by now goes out here: no wake-up of the writer for it
            if self._start is not None:
                start, self._start = self._start, None
                await self._send(start())
            if self._buffer:
                body = bytes(self._buffer)
                self._buffer.clear()
                self._pending = 0
                await self._send({"type": "http.response.body", "body": body, "more_body": True})

    async def _run(self) -> None:
        while True:
            await self._ready.wait()
            self._ready.clear()
            await self._drain()
            if self._ending and not self._buffer:
                return

    async def finish(self) -> None:
        """Everything written goes out, then the end of the body."""
        self._ending = True
        self._ready.set()
        await self._task
        await self._send({"type": "http.response.body", "body": b"", "more_body": False})

    async def abandon(self) -> None:
        if not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


class SseResponse(StreamingResponse):
    """``text/event-stream`` with coalesced writes (the body yields bytes)."""

    media_type = "text/event-stream"

    def __init__(
        self,
        content: ContentStream,
        *,
        headers: Mapping[str, str] | None = None,
        late_headers: Callable[[], Mapping[str, str]] | None = None,
    ) -> None:
        super().__init__(content, headers=headers)
        self.late_headers = late_headers

    def _start(self) -> Message:
        headers = self.raw_headers
        if self.late_headers is not None:
            late = self.late_headers().items()
            headers = [*headers, *((k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in late)]
        return {"type": "http.response.start", "status": self.status_code, "headers": headers}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """The body runs in the request's task; the client going away (``http.disconnect``)
        cancels it, and with it the upstream call. Starlette does the same with an anyio task
        group, whose cancel scope formats the task's repr each time: about a tenth of a
        millisecond of CPU per response here, and one more task hop before the first byte."""
        task = asyncio.current_task()
        assert task is not None
        streaming, by_client = True, False

        async def listen() -> None:
            nonlocal by_client
            while (await receive())["type"] != "http.disconnect":
                pass
            if streaming:
                by_client = True
                task.cancel()

        listener = asyncio.create_task(listen())
        try:
            await self.stream_response(send)
        except asyncio.CancelledError:
            if not by_client:
                raise
            by_client = False
            if task.uncancel() > 0:
                raise  # cancelled from elsewhere too (the server shutting down)
        finally:
            streaming = False
            listener.cancel()
            await asyncio.wait({listener})
        if self.background is not None:
            await self.background()

    async def stream_response(self, send: Send) -> None:
        writer = _Writer(send, self._start)
        try:
            async for chunk in self.body_iterator:
                if chunk:
                    writer.write(
                        chunk if isinstance(chunk, bytes | memoryview) else chunk.encode(self.charset)
                    )
                if chunk == FLUSH or writer.pending >= FLUSH_FRAMES:
                    await writer.flush()
            await writer.finish()
        finally:
            await writer.abandon()
