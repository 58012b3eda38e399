"""The provider interface and its typed failures.

An adapter turns a canonical request into its protocol, calls the upstream and turns the answer
back into canonical form. It raises ``UpstreamCallFailed`` (never an HTTP exception): the router
decides from ``retryable`` whether to retry or fall back, and the wire layer renders the error.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Protocol

from shared.catalog.models import UpstreamRoute
from shared.chat.canonical import ChatRequest, ChatResponse
from shared.chat.events import StreamEvent
from shared.errors import (
    ContextLengthExceeded,
    InvalidRequest,
    SluiceError,
    UpstreamError,
    UpstreamTimeout,
    UpstreamUnavailable,
)


class UpstreamCallFailed(UpstreamError):
    """An upstream call failed. ``client_error`` is what the client should see if no route succeeds."""

    def __init__(
        self,
        message: str,
        *,
        retryable: bool,
        client_error: SluiceError | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.client_error = client_error or UpstreamError(message)
        self.retry_after = retry_after


def failed_status(
    status: int, *, code: str | None = None, message: str = "", retry_after: float | None = None
) -> UpstreamCallFailed:
    """Classify an upstream HTTP status: 408/429/5xx retry; other 4xx are the request's fault.

    The upstream's error ``code`` (not its message text) decides the client's error code.
    """
    if status in (408, 429) or status >= 500:
        unavailable = UpstreamUnavailable("The model's upstream is overloaded or unavailable; retry shortly.")
        return UpstreamCallFailed(
            f"upstream status {status}", retryable=True, client_error=unavailable, retry_after=retry_after
        )
    if status in (401, 403, 404):
        # The gateway's credentials or route are wrong: the operator's problem, not the caller's.
        refused = UpstreamError(
            "The model's upstream refused the gateway's request; the operator has been notified."
        )
        return UpstreamCallFailed(f"upstream status {status}", retryable=True, client_error=refused)
    detail = message[:500] or f"status {status}"
    client: SluiceError = (
        ContextLengthExceeded(f"Upstream: {detail}", param="messages")
        if code == "context_length_exceeded"
        else InvalidRequest(f"The model's upstream rejected the request: {detail}")
    )
    return UpstreamCallFailed(f"upstream status {status}", retryable=False, client_error=client)


def failed_connect(exc: Exception) -> UpstreamCallFailed:
    return UpstreamCallFailed(
        f"upstream connection failed: {type(exc).__name__}",
        retryable=True,
        client_error=UpstreamUnavailable("The model's upstream could not be reached; retry shortly."),
    )


def failed_timeout(exc: Exception) -> UpstreamCallFailed:
    return UpstreamCallFailed(
        f"upstream timed out: {type(exc).__name__}",
        retryable=True,
        client_error=UpstreamTimeout("The model's upstream did not answer in time."),
    )


class Provider(Protocol):
    """What every upstream adapter offers. ``request.model`` is already the upstream's model id."""

    async def complete(self, request: ChatRequest, route: UpstreamRoute) -> ChatResponse: ...

    def stream(self, request: ChatRequest, route: UpstreamRoute) -> AsyncIterator[StreamEvent]: ...
