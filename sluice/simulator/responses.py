"""HTTP plumbing shared by the simulator's routes: OpenAI error bodies and the simulator header."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from sluice.simulator.faults import HttpFault

SIMULATOR_HEADER = (b"x-sluice-simulator", b"1")


def error_response(
    status: int,
    message: str,
    error_type: str,
    *,
    code: str | None = None,
    param: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """An error in OpenAI's format: ``{"error": {"message", "type", "param", "code"}}``."""
    body: dict[str, Any] = {"error": {"message": message, "type": error_type, "param": param, "code": code}}
    return JSONResponse(body, status_code=status, headers=headers)


def fault_response(fault: HttpFault) -> JSONResponse:
    """The error response of an injected HTTP fault."""
    headers = {"retry-after": str(fault.retry_after)} if fault.retry_after is not None else None
    return error_response(fault.status, fault.message, fault.error_type, code=fault.code, headers=headers)


def validation_error_response(error: ValidationError) -> JSONResponse:
    """400 for a request body that does not match the chat-completions schema."""
    first = error.errors()[0]
    param = ".".join(str(part) for part in first["loc"]) or None
    message = f"{param}: {first['msg']}" if param else first["msg"]
    return error_response(400, message, "invalid_request_error", param=param)


async def http_error(_request: Request, exc: Exception) -> Response:
    """Starlette's 404/405 and friends, in OpenAI's error format."""
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    detail = exc.detail if isinstance(exc, HTTPException) else "internal error"
    error_type = "invalid_request_error" if status < 500 else "server_error"
    return error_response(status, str(detail), error_type)


class SimulatorHeaderMiddleware:
    """Adds ``x-sluice-simulator: 1`` to every response, so nobody mistakes it for a real model."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_marked(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), SIMULATOR_HEADER]}
            await send(message)

        await self.app(scope, receive, send_marked)
