"""A client that hangs up while its body is still arriving gets a 400 (which nobody reads), not an
unhandled ``ClientDisconnect``: that was logged as an error with its traceback, and answered 500."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from starlette.requests import Request

from shared.errors import InvalidRequest
from shared.http.body import read_limited


def test_a_disconnect_mid_body_is_a_400() -> None:
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b'{"model": ', "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/messages",
        "headers": [(b"content-length", b"1000")],
    }

    with pytest.raises(InvalidRequest) as refused:
        asyncio.run(read_limited(Request(scope, receive), 64 * 1024, "too large"))

    assert "closed the connection" in refused.value.message
