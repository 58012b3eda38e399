"""Calling upstreams with retries and fallbacks, only before anything reached the client.

Each route of each candidate model is tried in order; a retryable failure (connect error,
timeout, 408/429/5xx) is retried on the same route with exponential backoff and jitter, then the
next route. A route whose provider refuses the request before calling (``InvalidRequest``: what
its protocol or model cannot carry, such as ``n > 1`` on Claude or ``top_k`` on Llama) is left
for the next one at once; if no route answers, the client gets the last upstream failure, or the
first refusal when every route refused. For streams, a route is committed once it produced its
first content event: after that, a failure becomes an ``Error`` event in the stream, never a
silent cut.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from typing import Any

from shared.catalog.models import ModelEntry, UpstreamRoute
from shared.chat import events as ev
from shared.chat.canonical import ChatRequest, ChatResponse, Text
from shared.errors import InvalidRequest, SluiceError, UpstreamTimeout, UpstreamUnavailable
from shared.gateway.passthrough import canonical_events, carries_content
from shared.observability import get_logger
from shared.providers.base import Provider, UpstreamCallFailed

ATTEMPTS_PER_ROUTE = 2
BACKOFF_BASE_S = 0.2
BACKOFF_CAP_S = 2.0


@dataclass(frozen=True)
class Target:
    """One upstream to try: the public catalog entry and one of its routes."""

    entry: ModelEntry
    route: UpstreamRoute


def targets(models: list[ModelEntry]) -> list[Target]:
    return [Target(entry, route) for entry in models for route in entry.routes]


def upstream_request(request: ChatRequest, target: Target) -> ChatRequest:
    """The request as this upstream gets it: its model id, the model's persona first in the system."""
    system = request.system
    if target.entry.persona:
        system = (Text(target.entry.persona), *system)
    reasoning = request.reasoning if target.entry.capabilities.thinking else None
    return replace(request, model=target.route.model, system=system, reasoning=reasoning)


def backoff(attempt: int, retry_after: float | None) -> float:
    """Exponential backoff with full jitter, honouring a short Retry-After."""
    if retry_after is not None and retry_after <= BACKOFF_CAP_S:
        return retry_after
    return random.uniform(0, min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2**attempt))


ProviderFor = Callable[[UpstreamRoute], Provider]


class FirstRequest:
    """The first target's upstream HTTP request, built ahead: ``build`` runs as an event loop
    callback scheduled just before the admission, so it runs while the admission's round trip is
    in flight, and the upstream call that follows only sends. Providers that cannot build ahead
    (no ``prepare``: Bedrock, the Anthropic passthrough) and requests whose images are still to
    be fetched are left alone. A build that fails is dropped: the call builds its request again
    and fails where it always has."""

    def __init__(self, request: ChatRequest, models: list[ModelEntry], provider_for: ProviderFor) -> None:
        self._request = request
        self._provider_for = provider_for
        self._target = next(iter(targets(models)), None)
        self._built: tuple[ChatRequest, Any] | None = None
        self._done = False

    def build(self) -> None:
        if self._done or self._target is None:
            return
        self._done = True
        target = self._target
        prepare = getattr(self._provider_for(target.route), "prepare", None)
        if prepare is None:
            return
        sent = upstream_request(self._request, target)
        try:
            self._built = sent, prepare(sent, target.route, stream=self._request.stream)
        except Exception:  # built again, and reported, by the call itself
            self._built = None

    def take(self, request: ChatRequest, target: Target) -> tuple[ChatRequest, Any] | None:
        """What was built for this request's first attempt on ``target`` (once); later, nothing
        is built any more."""
        self._done = True
        built, self._built = self._built, None
        if built is None or request is not self._request or target != self._target:
            return None
        return built


def _first_attempt(
    request: ChatRequest, target: Target, attempt: int, ahead: FirstRequest | None
) -> tuple[ChatRequest, dict[str, Any]]:
    """The request for this attempt, and the keyword that hands over one built ahead."""
    built = ahead.take(request, target) if ahead is not None and attempt == 0 else None
    if built is None:
        return upstream_request(request, target), {}
    return built[0], {"prepared": built[1]}


async def complete(
    request: ChatRequest,
    models: list[ModelEntry],
    provider_for: ProviderFor,
    ahead: FirstRequest | None = None,
) -> tuple[Target, ChatResponse]:
    """A whole answer from the first target that gives one."""
    last: UpstreamCallFailed | None = None
    refused: InvalidRequest | None = None
    for target in targets(models):
        for attempt in range(ATTEMPTS_PER_ROUTE):
            sent, prepared = _first_attempt(request, target, attempt, ahead)
            try:
                answer = await provider_for(target.route).complete(sent, target.route, **prepared)
                return target, answer
            except UpstreamCallFailed as failure:
                last = failure
                _log_failure(target, attempt, failure)
                if not failure.retryable:
                    raise failure.client_error from failure
                if attempt + 1 < ATTEMPTS_PER_ROUTE:
                    await asyncio.sleep(backoff(attempt, failure.retry_after))
            except InvalidRequest as refusal:  # this route cannot carry the request; the next may
                refused = refused or refusal
                _log_refusal(target, refusal)
                break
    raise _exhausted(last, refused)


@dataclass
class OpenedStream:
    """A committed upstream stream: the events read so far and the rest."""

    target: Target
    head: list[ev.StreamEvent]
    rest: AsyncIterator[ev.StreamEvent]

    async def events(self) -> AsyncIterator[ev.StreamEvent]:
        for event in self.head:
            yield event
        try:
            async for event in self.rest:
                yield event
        except UpstreamCallFailed as failure:
            _log_failure(self.target, -1, failure)
            yield ev.Error(failure.client_error.message, _kind(failure.client_error))
        except SluiceError as error:
            yield ev.Error(error.message, _kind(error))


async def open_stream(
    request: ChatRequest,
    models: list[ModelEntry],
    provider_for: ProviderFor,
    ahead: FirstRequest | None = None,
) -> OpenedStream:
    """The first target whose stream produces content; failures before that are retried or fall back."""
    last: UpstreamCallFailed | None = None
    refused: InvalidRequest | None = None
    for target in targets(models):
        for attempt in range(ATTEMPTS_PER_ROUTE):
            sent, prepared = _first_attempt(request, target, attempt, ahead)
            stream = provider_for(target.route).stream(sent, target.route, **prepared)
            try:
                head = await _read_head(stream)
                return OpenedStream(target, head, stream)
            except UpstreamCallFailed as failure:
                await _close(stream)
                last = failure
                _log_failure(target, attempt, failure)
                if not failure.retryable:
                    raise failure.client_error from failure
                if attempt + 1 < ATTEMPTS_PER_ROUTE:
                    await asyncio.sleep(backoff(attempt, failure.retry_after))
            except InvalidRequest as refusal:  # this route cannot carry the request; the next may
                await _close(stream)
                refused = refused or refusal
                _log_refusal(target, refusal)
                break
    raise _exhausted(last, refused)


async def _read_head(stream: AsyncIterator[ev.StreamEvent]) -> list[ev.StreamEvent]:
    """Events up to and including the first one that carries content (or the end)."""
    head: list[ev.StreamEvent] = []
    async for event in stream:
        for meaning in canonical_events(event):
            if isinstance(meaning, ev.Error):
                raise UpstreamCallFailed(meaning.message, retryable=True)
        head.append(event)
        if carries_content(event):
            break
    return head


async def _close(stream: AsyncIterator[ev.StreamEvent]) -> None:
    aclose = getattr(stream, "aclose", None)
    if aclose is not None:
        await aclose()


def _kind(error: SluiceError) -> ev.ErrorKind:
    if isinstance(error, UpstreamUnavailable):
        return ev.ErrorKind.OVERLOADED
    if isinstance(error, UpstreamTimeout):
        return ev.ErrorKind.TIMEOUT
    if isinstance(error, InvalidRequest):
        return ev.ErrorKind.INVALID_REQUEST
    return ev.ErrorKind.API_ERROR


def _exhausted(last: UpstreamCallFailed | None, refused: InvalidRequest | None) -> SluiceError:
    """The last upstream failure (a route could have answered); else the first refusal."""
    if last is not None:
        return last.client_error
    if refused is not None:
        return refused
    return UpstreamUnavailable("The model has no upstream route configured.")


def _log_refusal(target: Target, refusal: InvalidRequest) -> None:
    get_logger().info(
        "upstream route refused the request",
        extra={
            "model": target.entry.id,
            "provider": target.route.provider,
            "param": refusal.param,
            "reason": refusal.message,
        },
    )


def _log_failure(target: Target, attempt: int, failure: UpstreamCallFailed) -> None:
    get_logger().warning(
        "upstream attempt failed",
        extra={
            "model": target.entry.id,
            "provider": target.route.provider,
            "attempt": attempt,
            "retryable": failure.retryable,
            "reason": failure.message,
        },
    )
