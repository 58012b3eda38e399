"""Fault injection: which failures exist, and the fail-the-first-N-requests counter.

Faults are chosen per request (see ``controls``):

- ``http_500``, ``http_503``, ``http_429`` (with ``Retry-After: 1``), ``http_400``: an OpenAI
  error body with that status, before anything else.
- ``hang``: nothing is sent for the hang time (default 3600 s), then the normal answer.
- ``hang_after_first``: the status line and the first stream chunk are sent, then the hang.
- ``reset_mid_stream``: a few chunks, then the connection is dropped with no terminating chunk.
- ``malformed_sse``: a ``data: {not json`` event after the first chunk (non-streaming: as
  ``invalid_json``).
- ``invalid_json``: status 200 with a body that is not JSON.
- ``lone_surrogate``: a normal answer whose text starts with half of an emoji, a lone surrogate
  escape (``"\\ud83d"``), as a detokenizer that split a character may send it. It is valid JSON
  to Python's parser but not text: it cannot be written as UTF-8.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from enum import StrEnum


class FaultName(StrEnum):
    HTTP_500 = "http_500"
    HTTP_503 = "http_503"
    HTTP_429 = "http_429"
    HTTP_400 = "http_400"
    HANG = "hang"
    HANG_AFTER_FIRST = "hang_after_first"
    RESET_MID_STREAM = "reset_mid_stream"
    MALFORMED_SSE = "malformed_sse"
    INVALID_JSON = "invalid_json"
    LONE_SURROGATE = "lone_surrogate"


@dataclass(frozen=True)
class HttpFault:
    """An error response standing in for a failing upstream."""

    status: int
    error_type: str
    code: str | None
    message: str
    retry_after: int | None = None


HTTP_FAULTS = {
    FaultName.HTTP_500: HttpFault(500, "server_error", None, "Simulated upstream failure (http_500)."),
    FaultName.HTTP_503: HttpFault(503, "server_error", None, "Simulated upstream overload (http_503)."),
    FaultName.HTTP_429: HttpFault(
        429, "requests", "rate_limit_exceeded", "Simulated upstream rate limit (http_429).", retry_after=1
    ),
    FaultName.HTTP_400: HttpFault(400, "invalid_request_error", None, "Simulated bad request (http_400)."),
}
DEFAULT_FAIL_ONCE_FAULT = FaultName.HTTP_503
RESET_AFTER_STEPS = 3
NOT_JSON_BODY = b'{"id": "chatcmpl-simulated", this is not JSON'


def with_half_emoji(encoded: bytes) -> bytes:
    """``lone_surrogate``: the first text content of an encoded answer or chunk starts with it."""
    for marker in (b'"content": "', b'"content":"'):
        if marker in encoded:
            return encoded.replace(marker, marker + b"\\ud83d", 1)
    return encoded


class FailureCounter:
    """Counts requests per fail key, so that the first N requests with a key fail."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}
        self._lock = threading.Lock()

    def should_fail(self, key: str, times: int) -> bool:
        """Record one request with ``key``; true while it is among the first ``times``."""
        with self._lock:
            seen = self._seen.get(key, 0)
            self._seen[key] = seen + 1
        return seen < times
