"""API Gateway, locally: routes of template.yaml dispatched to the same function code Lambda runs.

- Buffered functions get an API Gateway REST proxy event and run through their Mangum handler.
- Streaming functions (Lambda Web Adapter, ``ResponseTransferMode: RESPONSE_STREAM``) are ASGI
  apps served directly, as the adapter does, with the request context in
  ``x-amzn-request-context``; responses stream chunk by chunk.
- Unknown paths answer 404 and wrong methods 405, as JSON in the endpoint's error format.
- ``GET /openapi.json`` answers the generated OpenAPI document (``sluice.openapi``).
- ``/__local/...`` are the local stack's own control routes (``sluice.local.control``: run a
  schedule on demand), never part of template.yaml's API.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Receive, Scope, Send

from sluice.local.control import PREFIX as CONTROL_PREFIX
from sluice.local.lambda_runtime import InstancePool, load_attribute
from sluice.local.template import ApiRoute, LocalTemplate

MAX_BODY = 10 * 1024 * 1024  # API Gateway REST payload limit
OPENAPI_PATH = "/openapi.json"  # local only: deployed, docs/openapi.json is published instead
Authorizer = Callable[[dict[str, str]], Awaitable[dict[str, Any] | None]]


@dataclass
class _Match:
    route: ApiRoute
    path_params: dict[str, str]


# Anthropic's error type for each status the gateway answers itself (405: a bad request there).
_ANTHROPIC_TYPES = {401: "authentication_error", 404: "not_found_error", 413: "request_too_large"}


def _error(status: int, code: str, message: str, path: str) -> tuple[int, bytes]:
    bare = path.removeprefix("/api")
    if bare.startswith("/v1/messages"):
        kind = _ANTHROPIC_TYPES.get(status, "invalid_request_error")
        body: dict[str, Any] = {"type": "error", "error": {"type": kind, "message": message}}
    else:
        body = {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}}
    return status, json.dumps(body).encode()


class LocalGateway:
    def __init__(
        self,
        template: LocalTemplate,
        stage: str = "local",
        authorizer: Authorizer | None = None,
        control: ASGIApp | None = None,
    ) -> None:
        self.template = template
        self.stage = stage
        self.authorizer = authorizer
        self.control = control
        # API Gateway's order among the resources that match one path, computed once (stable:
        # a resource's methods keep the template's order)
        ordered = sorted(template.routes, key=lambda route: route.precedence())
        self._routes = [(route.pattern(), route) for route in ordered]
        self._pools: dict[str, InstancePool] = {}
        self._asgi_apps: dict[str, ASGIApp] = {}
        self._openapi: bytes | None = None
        self._error_headers = _gateway_response_headers(template)

    def _match(self, path: str, method: str) -> tuple[_Match | None, list[str]]:
        """The route for ``path`` and ``method``, and the methods of its resource. As API Gateway
        does, the resource comes first (a literal segment before a path parameter at the same
        level): a method the literal resource lacks is a 405 with its own methods, never a call
        to the parameter route (``POST /api/tools/starter`` is not ``/api/tools/{tool_id}``)."""
        resource, hit = None, None
        allowed: list[str] = []
        matched: _Match | None = None
        for pattern, route in self._routes:  # the most specific resource first
            if resource is None:
                hit = pattern.match(path)
                if hit is None:
                    continue
                resource = route.path
            elif route.path != resource:
                continue
            allowed.append(route.method)
            if matched is None and hit is not None and route.method in (method, "ANY"):
                matched = _Match(route, hit.groupdict())
        return matched, allowed

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path, method = scope["path"], scope["method"]
        if path == OPENAPI_PATH and method == "GET":
            await self._send_openapi(send)
            return
        if path.startswith(CONTROL_PREFIX) and self.control is not None:
            await self.control(scope, receive, send)
            return
        match, allowed = self._match(path, method)
        preflight = match is None and method == "OPTIONS" and bool(allowed)
        if preflight:
            match, _ = self._match(path, allowed[0])  # CORS preflight: the function's app answers it
        if match is None:
            if allowed:
                status, body = _error(
                    405, "method_not_allowed", f"Method {method} is not allowed on {path}.", path
                )
                headers = [(b"allow", ", ".join(sorted(set(allowed))).encode())]
            else:
                status, body = _error(404, "not_found", f"No route for {method} {path}.", path)
                headers = []
            await self._send_plain(send, status, body, headers)
            return
        # A preflight carries no token: API Gateway answers the OPTIONS methods that the template's
        # Cors setting adds without the route's authorizer.
        claims = None if preflight else await self._authorize(match.route, scope)
        if claims is False:
            status, body = _error(401, "unauthenticated", "Missing or invalid user token.", path)
            await self._send_plain(send, status, body, [])
            return
        context = self._request_context(scope, match, claims if isinstance(claims, dict) else None)
        if self.template.functions[match.route.function].streaming:
            await self._call_asgi(match, context, scope, receive, send)
        else:
            await self._call_lambda(match, context, scope, receive, send)

    async def _authorize(self, route: ApiRoute, scope: Scope) -> dict[str, Any] | bool | None:
        if not route.authorized or self.authorizer is None:
            return None
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        claims = await self.authorizer(headers)
        return claims if claims is not None else False

    def _request_context(self, scope: Scope, match: _Match, claims: dict[str, Any] | None) -> dict[str, Any]:
        client = scope.get("client") or ("127.0.0.1", 0)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        context: dict[str, Any] = {
            "resourcePath": match.route.path,
            "httpMethod": scope["method"],
            "path": f"/{self.stage}{scope['path']}",
            "stage": self.stage,
            "requestId": str(uuid.uuid4()),
            "requestTimeEpoch": int(time.time() * 1000),
            "identity": {"sourceIp": client[0], "userAgent": headers.get("user-agent", "")},
        }
        if claims is not None:
            context["authorizer"] = {"claims": claims}
        return context

    async def _call_asgi(
        self, match: _Match, context: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> None:
        name = match.route.function
        if name not in self._asgi_apps:
            self._asgi_apps[name] = load_attribute(self.template.functions[name])
        headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"x-amzn-request-context"]
        headers.append((b"x-amzn-request-context", json.dumps(context).encode()))
        await self._asgi_apps[name]({**scope, "headers": headers}, receive, send)

    async def _call_lambda(
        self, match: _Match, context: dict[str, Any], scope: Scope, receive: Receive, send: Send
    ) -> None:
        body = await self._read_body(receive)
        if body is None:
            status, payload = _error(413, "request_too_large", "Request body exceeds 10 MB.", scope["path"])
            await self._send_plain(send, status, payload, [])
            return
        event = self._event(match, context, scope, body)
        pool = self._pools.get(match.route.function)
        if pool is None:
            pool = self._pools[match.route.function] = InstancePool(
                self.template.functions[match.route.function]
            )
        result = await pool.invoke(event)
        await self._send_result(send, result)

    @staticmethod
    async def _read_body(receive: Receive) -> bytes | None:
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BODY:
                return None
            chunks.append(chunk)
            if not message.get("more_body"):
                return b"".join(chunks)

    def _event(self, match: _Match, context: dict[str, Any], scope: Scope, body: bytes) -> dict[str, Any]:
        multi_headers: dict[str, list[str]] = {}
        for key, value in scope["headers"]:
            multi_headers.setdefault(key.decode("latin-1"), []).append(value.decode("latin-1"))
        multi_query: dict[str, list[str]] = {}
        for key, value in parse_qsl(scope.get("query_string", b"").decode("latin-1"), keep_blank_values=True):
            multi_query.setdefault(key, []).append(value)
        try:
            text, is_b64 = body.decode("utf-8"), False
        except UnicodeDecodeError:
            text, is_b64 = base64.b64encode(body).decode(), True
        return {
            "resource": match.route.path,
            "path": scope["path"],
            "httpMethod": scope["method"],
            "headers": {k: v[-1] for k, v in multi_headers.items()},
            "multiValueHeaders": multi_headers,
            "queryStringParameters": {k: v[-1] for k, v in multi_query.items()} or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": match.path_params or None,
            "stageVariables": None,
            "requestContext": context,
            "body": text if body else None,
            "isBase64Encoded": is_b64,
        }

    @staticmethod
    async def _send_result(send: Send, result: dict[str, Any]) -> None:
        headers: list[tuple[bytes, bytes]] = []
        for key, values in (result.get("multiValueHeaders") or {}).items():
            headers.extend((key.lower().encode(), str(v).encode()) for v in values)
        seen = {k for k, _ in headers}
        for key, value in (result.get("headers") or {}).items():
            if key.lower().encode() not in seen:
                headers.append((key.lower().encode(), str(value).encode()))
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") else raw.encode()
        await send(
            {"type": "http.response.start", "status": int(result.get("statusCode", 200)), "headers": headers}
        )
        await send({"type": "http.response.body", "body": body})

    async def _send_plain(
        self, send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]
    ) -> None:
        """An answer of the gateway itself, with the headers the template's GatewayResponses add."""
        all_headers = [
            (b"content-type", b"application/json"),
            (b"x-request-id", uuid.uuid4().hex.encode()),
            *headers,
            *self._error_headers.get(status // 100, []),
        ]
        await send({"type": "http.response.start", "status": status, "headers": all_headers})
        await send({"type": "http.response.body", "body": body})

    async def _send_openapi(self, send: Send) -> None:
        """The generated OpenAPI document (docs/openapi.json), built on first request."""
        if self._openapi is None:
            from sluice.openapi import render_document

            self._openapi = (await asyncio.to_thread(render_document)).encode()
        await self._send_plain(send, 200, self._openapi, [])

    @staticmethod
    async def _lifespan(receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    def shutdown(self) -> None:
        for pool in self._pools.values():
            pool.shutdown()


def _gateway_response_headers(template: LocalTemplate) -> dict[int, list[tuple[bytes, bytes]]]:
    """The headers the API's DEFAULT_4XX and DEFAULT_5XX gateway responses add, by status class
    (template values are quoted literals: ``"'*'"``)."""
    out: dict[int, list[tuple[bytes, bytes]]] = {}
    for api in template.resources("AWS::Serverless::Api").values():
        responses = api.get("GatewayResponses", {})
        for kind, digit in (("DEFAULT_4XX", 4), ("DEFAULT_5XX", 5)):
            headers = responses.get(kind, {}).get("ResponseParameters", {}).get("Headers", {})
            out[digit] = [
                (name.lower().encode(), str(value).strip("'").encode()) for name, value in headers.items()
            ]
    return out
