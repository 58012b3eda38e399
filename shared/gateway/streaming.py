"""Streaming a chat call: wait for the upstream (sending keep-alives), relay, account.

The HTTP status is decided by ``start_stream``: if every upstream fails within
``FIRST_WAIT_S``, the client gets a normal JSON error with the right status; otherwise the
response starts (200) and anything that fails later is an error event at the end of the stream.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from shared.chat import events as ev
from shared.chat.canonical import ChatRequest
from shared.chat.sse import FLUSH
from shared.errors import SluiceError, UpstreamError
from shared.gateway.accounting import Outcome, finish
from shared.gateway.call import ChatCall
from shared.gateway.passthrough import canonical_events
from shared.gateway.router import FirstRequest, OpenedStream, ProviderFor, open_stream
from shared.gateway.sse_render import SseRenderer
from shared.providers.registry import provider_for

FIRST_WAIT_S = 1.0
KEEPALIVE_S = 5.0
_OUTPUT = (ev.TextDelta, ev.RefusalDelta, ev.ReasoningDelta, ev.ToolCallStart, ev.ToolCallArgsDelta)


async def start_stream(
    call: ChatCall,
    request: ChatRequest,
    providers: ProviderFor = provider_for,
    ahead: FirstRequest | None = None,
) -> asyncio.Task[OpenedStream]:
    """Open the upstream stream; raises the client's error if it fails fast.

    The task starts eagerly: the upstream request goes out now, from this loop turn, rather than
    after whatever else is ready to run (it was built while the admission was in flight)."""
    opening = open_stream(request, call.models, providers, ahead)
    task = asyncio.eager_task_factory(asyncio.get_running_loop(), opening)
    if not task.done():
        await asyncio.wait({task}, timeout=FIRST_WAIT_S)
    if task.done():
        task.result()  # raises the SluiceError of a fast failure
    return task


def _track(outcome: Outcome, raw: ev.StreamEvent) -> None:
    for event in canonical_events(raw):
        _track_one(outcome, event)


def _track_one(outcome: Outcome, event: ev.StreamEvent) -> None:
    if isinstance(event, _OUTPUT):
        outcome.output_started = True
    elif isinstance(event, ev.UsageReport | ev.Start) and event.usage is not None:
        outcome.usage = event.usage
    elif isinstance(event, ev.Finish):
        outcome.completed = True
    elif isinstance(event, ev.Error):
        outcome.completed = False
        outcome.error = UpstreamError(event.message)


async def _wait_with_keepalives(
    task: asyncio.Task[OpenedStream], keepalive: Callable[[], bytes]
) -> AsyncIterator[bytes]:
    while not task.done():
        done, _ = await asyncio.wait({task}, timeout=KEEPALIVE_S)
        if not done:
            yield keepalive()


def routed_model(call: ChatCall, task: asyncio.Task[OpenedStream]) -> str:
    """The model the stream was routed to once the upstream committed (for ``auto``, maybe a later
    candidate than the first); the first candidate before that."""
    if task.done() and not task.cancelled() and task.exception() is None:
        return task.result().target.entry.id
    return call.models[0].id


async def relay(
    call: ChatCall,
    task: asyncio.Task[OpenedStream],
    renderer_for: Callable[[str], SseRenderer],
    on_target: Callable[[OpenedStream], None] | None = None,
) -> AsyncIterator[bytes]:
    """The response body: keep-alives, the translated events, the closing frames; then accounting.

    The renderer is made for the model the stream was routed to, once the upstream has committed
    (for ``auto``, a later candidate when the first failed); until then, keep-alives."""
    outcome = Outcome()
    try:
        async for ping in _wait_with_keepalives(task, lambda: renderer_for(call.models[0].id).keepalive()):
            yield ping
        try:
            opened = task.result()
        except SluiceError as error:
            outcome.error = error
            for frame in renderer_for(call.models[0].id).feed(ev.Error(error.message)):
                yield frame
            return
        outcome.target = opened.target
        if on_target is not None:
            on_target(opened)
        renderer = renderer_for(opened.target.entry.id)
        first_content = True
        async for event in opened.events():
            _track(outcome, event)
            for frame in renderer.feed(event):
                yield frame
            if first_content and outcome.output_started:
                first_content = False
                yield FLUSH  # the first token leaves now, not with the rest of its burst
        for frame in renderer.close():
            yield frame
    except (asyncio.CancelledError, GeneratorExit):
        outcome.client_closed = True
        task.cancel()
        raise
    finally:
        with contextlib.suppress(asyncio.CancelledError):
            await finish(call, outcome)
