"""Amazon Bedrock upstreams through the Converse API (boto3 ``bedrock-runtime``).

boto3 is synchronous, so nothing of it runs on the event loop: ``converse`` runs in a worker
thread, and a ``converse_stream`` is opened and iterated in a thread of its own that hands each
event to the loop through an ``asyncio.Queue``. When the consumer stops early, the EventStream is
closed and the worker ends. Clients are built on first use, one per region, and kept for the life
of the instance; botocore does not retry (the router owns retries and fallbacks).
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, replace
from functools import partial
from typing import Any, NoReturn, cast

from shared.catalog.models import UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse
from shared.errors import UpstreamError
from shared.providers.base import UpstreamCallFailed
from shared.providers.bedrock_errors import upstream_failure
from shared.providers.bedrock_request import request_to_converse
from shared.providers.bedrock_response import ConverseStreamParser, response_from_converse
from shared.settings import get_settings

type ClientFactory = Callable[[str], Any]


def bedrock_client(region: str) -> Any:
    """A ``bedrock-runtime`` client with the gateway's upstream timeouts and no botocore retries."""
    import boto3
    from botocore.config import Config

    settings = get_settings()
    config = Config(
        connect_timeout=settings.upstream_connect_timeout,
        read_timeout=settings.upstream_read_timeout,
        retries={"mode": "standard", "total_max_attempts": 1},
        tcp_keepalive=True,
        max_pool_connections=64,
    )
    return boto3.session.Session().client("bedrock-runtime", region_name=region, config=config)


class BedrockProvider:
    """Converse and ConverseStream; ``client_factory`` (region -> client) is for tests."""

    def __init__(self, client_factory: ClientFactory | None = None) -> None:
        self._factory = client_factory or bedrock_client
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _client(self, route: UpstreamRoute) -> Any:
        """The route's regional client, built on first use (called from worker threads)."""
        region = route.region or get_settings().region
        with self._lock:
            client = self._clients.get(region)
            if client is None:
                client = self._clients[region] = self._factory(region)
            return client

    def _converse(self, route: UpstreamRoute, kwargs: Mapping[str, Any]) -> Any:
        return self._client(route).converse(**kwargs)

    def _converse_stream(self, route: UpstreamRoute, kwargs: Mapping[str, Any]) -> Any:
        return self._client(route).converse_stream(**kwargs)["stream"]

    async def complete(self, request: ChatRequest, route: UpstreamRoute) -> ChatResponse:
        """One whole answer from ``converse``, called in a worker thread."""
        kwargs = request_to_converse(
            replace(request, model=route.model, stream=False),
            thinking_style=route.thinking_style,
            family=route.family,
        )
        try:
            body = await asyncio.to_thread(self._converse, route, kwargs)
        except Exception as exc:
            _raise_classified(exc)
        try:
            return response_from_converse(body, model=route.model)
        except UpstreamError as exc:
            raise UpstreamCallFailed(exc.message, retryable=True) from exc

    async def stream(self, request: ChatRequest, route: UpstreamRoute) -> AsyncIterator[ev.StreamEvent]:
        """Canonical events of a ``converse_stream``, read in a worker thread."""
        kwargs = request_to_converse(
            replace(request, model=route.model, stream=True),
            thinking_style=route.thinking_style,
            family=route.family,
        )
        parser = ConverseStreamParser(model=route.model)
        pump = _EventPump(partial(self._converse_stream, route, kwargs))
        finished = False
        try:
            async for raw in pump.events():
                for event in _feed(parser, raw):
                    finished = finished or isinstance(event, ev.Finish)
                    yield event
        finally:
            pump.close()  # at once when the consumer stops, not when the inner generator is collected
        if not finished:
            raise UpstreamCallFailed("upstream stream ended before messageStop", retryable=True)


def _feed(parser: ConverseStreamParser, raw: Mapping[str, Any]) -> list[ev.StreamEvent]:
    try:
        return parser.feed(raw)
    except UpstreamCallFailed:
        raise
    except UpstreamError as exc:
        raise UpstreamCallFailed(exc.message, retryable=True) from exc


def _raise_classified(exc: Exception) -> NoReturn:
    """Raise a boto3/network failure as a classified ``UpstreamCallFailed``; anything else as is."""
    failure = upstream_failure(exc)
    if failure is None or failure is exc:
        raise exc
    raise failure from exc


@dataclass(frozen=True, slots=True)
class _Raised:
    error: Exception


_END = object()


class _EventPump:
    """Iterates a blocking EventStream in a daemon thread; the loop awaits its events on a queue.

    ``open_stream`` (the ``converse_stream`` call) also runs in the thread. ``close()`` marks the
    pump closed and closes the EventStream's HTTP response, so the worker stops at its next read.
    """

    def __init__(self, open_stream: Callable[[], Any]) -> None:
        self._open = open_stream
        self._queue: asyncio.Queue[object] = asyncio.Queue()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._lock = threading.Lock()
        self._stream: Any = None
        self._closed = False

    async def events(self) -> AsyncIterator[Mapping[str, Any]]:
        """The stream's events, as botocore yields them; a failure raises, classified."""
        self._loop = asyncio.get_running_loop()
        threading.Thread(target=self._run, name="bedrock-converse-stream", daemon=True).start()
        try:
            while True:
                item = await self._queue.get()
                if item is _END:
                    return
                if isinstance(item, _Raised):
                    _raise_classified(item.error)
                yield cast(Mapping[str, Any], item)
        finally:
            self.close()

    def close(self) -> None:
        """Stop the worker: close the EventStream now, or as soon as it is opened."""
        with self._lock:
            self._closed = True
            stream, self._stream = self._stream, None
        _close_quietly(stream)

    def _run(self) -> None:
        try:
            stream = self._open()
            with self._lock:
                adopted = not self._closed
                self._stream = stream if adopted else None
            if not adopted:
                _close_quietly(stream)
                return
            for event in stream:
                if self._closed:
                    return
                self._put(event)
        except Exception as exc:
            if not self._closed:
                self._put(_Raised(exc))
        finally:
            self._put(_END)

    def _put(self, item: object) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            self._closed = True
            return
        try:
            loop.call_soon_threadsafe(self._queue.put_nowait, item)
        except RuntimeError:  # the loop closed in between: nobody is listening any more
            self._closed = True


def _close_quietly(stream: Any) -> None:
    close = getattr(stream, "close", None)
    if close is None:
        return
    with contextlib.suppress(Exception):  # closing a dead connection may fail: it is abandoned anyway
        close()
