"""The one way every HTTP function builds its ASGI app.

- ``X-Request-Id`` on every response (API Gateway's request id when there is one), and on
  Anthropic Messages routes ``request-id`` too, the header Anthropic's SDKs read;
- every error, expected or not, rendered in the endpoint's wire format, never a stack trace;
- unknown routes 404 and wrong methods 405 as JSON;
- CORS for browser clients.
"""

from __future__ import annotations

import sys
import uuid
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.errors import MethodNotAllowed, NotFound, ServiceUnavailable, SluiceError
from shared.http.context import gateway_request_id
from shared.http.error_render import ErrorFormat, error_body, format_for_path
from shared.http.limits import limit_headers
from shared.observability import get_logger

ErrorHeaders = Callable[[Request], Awaitable[dict[str, str]]]

EXPOSED_HEADERS = [
    "X-Request-Id",
    "Request-Id",
    "X-RateLimit-Limit",
    "X-RateLimit-Remaining",
    "X-RateLimit-Reset",
    "Retry-After",
    "X-Credits-Remaining",
    "X-Sluice-Model",
    "X-Sluice-Max-Tokens-Clamped",
    "Deprecation",
    "Sunset",
    "Content-Disposition",  # the playground export's file name
    "Idempotent-Replayed",  # a contact form answer that repeats an earlier one
]


def request_id(request: Request) -> str:
    return str(request.scope.get("state", {}).get("request_id", ""))


def error_response(
    error: SluiceError, path: str, rid: str, extra_headers: dict[str, str] | None = None
) -> JSONResponse:
    headers = {"X-Request-Id": rid, **(extra_headers or {}), **error.headers()}
    body = error_body(error, format_for_path(path), rid)
    return JSONResponse(body, status_code=error.status, headers=headers)


class RequestIdMiddleware:
    """Assigns the request id and turns any unhandled exception into a well-formed 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = gateway_request_id(scope) or uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = rid
        started = False
        ids = [(b"x-request-id", rid.encode())]
        if format_for_path(scope.get("path", "")) is ErrorFormat.ANTHROPIC:
            ids.append((b"request-id", ids[0][1]))

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                headers += [(name, value) for name, value in ids if name not in present]
                message = {**message, "headers": headers}
            await send(message)

        # A context variable: each request's task (and the threads it starts) logs its own id.
        get_logger().thread_safe_append_keys(request_id=rid)
        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            get_logger().exception("unhandled error", extra={"request_id": rid, "path": scope.get("path")})
            if not started:
                error = _unexpected(exc, rid)
                await error_response(error, scope.get("path", ""), rid)(scope, receive, send_with_id)


def _is_aws_failure(exc: Exception) -> bool:
    botocore = sys.modules.get("botocore.exceptions")
    if botocore is not None and isinstance(exc, botocore.BotoCoreError | botocore.ClientError):
        return True
    aws_json = sys.modules.get("shared.adapters.aws_json")
    return aws_json is not None and isinstance(exc, aws_json.AwsError)


def _unexpected(exc: Exception, rid: str) -> SluiceError:
    """A 503 when a dependency (DynamoDB, SQS) failed, a 500 otherwise; never the exception text."""
    if _is_aws_failure(exc):
        return ServiceUnavailable(f"A storage dependency is unavailable; retry shortly. Request id: {rid}")
    return SluiceError("Internal error. Quote this request id to the operator: " + rid)


async def _sluice_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SluiceError)
    if exc.status >= 500:
        get_logger().error(
            "request failed",
            extra={"request_id": request_id(request), "code": exc.code, "status": exc.status},
        )
    admission = getattr(request.state, "admission", None)
    extra = await limit_headers(admission) if admission is not None else {}
    hook: ErrorHeaders | None = getattr(request.app.state, "error_headers", None)
    if hook is not None:
        try:
            extra.update(await hook(request))
        except Exception:  # headers are a courtesy: never turn an error response into a 500
            get_logger().exception("error headers failed", extra={"request_id": request_id(request)})
    return error_response(exc, request.scope.get("path", ""), request_id(request), extra)


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    error: SluiceError
    if exc.status_code == 405:
        error = MethodNotAllowed(
            f"Method {request.method} is not allowed on {request.scope.get('path', '')}."
        )
    elif exc.status_code == 404:
        error = NotFound(f"No route for {request.method} {request.scope.get('path', '')}.")
    else:
        error = SluiceError(str(exc.detail))
        error.status = exc.status_code
    return error_response(error, request.scope.get("path", ""), request_id(request))


def create_app(
    routes: Sequence[BaseRoute],
    *,
    cors: bool = True,
    error_headers: ErrorHeaders | None = None,
    **kwargs: Any,
) -> Starlette:
    """Build a function's ASGI app around its routes; ``error_headers`` adds headers to error responses."""
    middleware = [Middleware(RequestIdMiddleware)]
    if cors:
        middleware.append(
            Middleware(
                CORSMiddleware,
                allow_origins=["*"],
                allow_methods=["*"],
                allow_headers=["*"],
                expose_headers=EXPOSED_HEADERS,
                max_age=600,
            )
        )
    app = Starlette(
        routes=list(routes),
        middleware=middleware,
        exception_handlers={SluiceError: _sluice_error, HTTPException: _http_error},
        **kwargs,
    )
    app.state.error_headers = error_headers
    return app
