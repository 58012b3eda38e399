"""What a handler may know about the caller: source IP and request id, from API Gateway only.

Under Mangum the API Gateway event is in the ASGI scope (``aws.event``); under the Lambda Web
Adapter it arrives as the ``x-amzn-request-context`` header, which the adapter (and the local
stack) sets itself, replacing any client-supplied value. Client headers such as
``X-Forwarded-For`` are never trusted.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.types import Scope

_PARSED = "sluice.request_context"


def _request_context(scope: Scope) -> dict[str, Any]:
    """Parsed once per request (the header is a kilobyte or two of JSON, read by several steps)."""
    ctx = scope.get(_PARSED)
    if ctx is None:
        ctx = scope[_PARSED] = _parse_request_context(scope)
    return ctx


def _parse_request_context(scope: Scope) -> dict[str, Any]:
    event = scope.get("aws.event")
    if isinstance(event, dict):
        ctx = event.get("requestContext")
        return ctx if isinstance(ctx, dict) else {}
    for name, value in scope.get("headers", ()):
        if name == b"x-amzn-request-context":
            try:
                ctx = json.loads(value)
            except ValueError:
                return {}
            return ctx if isinstance(ctx, dict) else {}
    return {}


def source_ip(scope: Scope) -> str:
    """The caller's IP as API Gateway saw it."""
    identity = _request_context(scope).get("identity") or {}
    ip = identity.get("sourceIp") if isinstance(identity, dict) else None
    if isinstance(ip, str) and ip:
        return ip
    client = scope.get("client")
    return client[0] if client else "0.0.0.0"  # noqa: S104 - a label, not a bind address


def gateway_request_id(scope: Scope) -> str | None:
    rid = _request_context(scope).get("requestId")
    return rid if isinstance(rid, str) and rid else None


def authorizer_claims(scope: Scope) -> dict[str, Any] | None:
    """Cognito claims that the API Gateway authorizer attached, if any."""
    authorizer = _request_context(scope).get("authorizer") or {}
    claims = authorizer.get("claims") if isinstance(authorizer, dict) else None
    return claims if isinstance(claims, dict) else None
