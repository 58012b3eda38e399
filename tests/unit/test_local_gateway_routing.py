"""The local gateway routes as API Gateway does: the resource first, a literal path segment before a
path parameter at the same level; a method the resource lacks is a 405 with that resource's own
methods, in the endpoint's error format (Anthropic's ``invalid_request_error`` on /v1/messages)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest

from sluice.local.gateway import LocalGateway
from sluice.local.template import parse_template


class Recorder:
    """Stands in for a streaming function's ASGI app: answers 200 naming the resource it got."""

    def __init__(self) -> None:
        self.resources: list[str] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        context = json.loads(dict(scope["headers"])[b"x-amzn-request-context"])
        self.resources.append(context["resourcePath"])
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"{}"})


def call(method: str, path: str, recorder: Recorder | None = None) -> httpx.Response:
    gateway = LocalGateway(parse_template())
    if recorder is not None:
        gateway._asgi_apps = {"ToolsFunction": recorder, "ChatFunction": recorder}

    async def go() -> httpx.Response:
        transport = httpx.ASGITransport(app=gateway)
        async with httpx.AsyncClient(transport=transport, base_url="http://local") as client:
            return await client.request(method, path)

    return asyncio.run(go())


@pytest.mark.parametrize("method", ["POST", "PATCH", "DELETE"])
def test_a_literal_resource_without_the_method_is_405_with_its_own_methods(method: str) -> None:
    recorder = Recorder()

    response = call(method, "/api/tools/starter", recorder)

    assert response.status_code == 405 and response.headers["allow"] == "GET"
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert recorder.resources == [], "the {tool_id} route is not called"


def test_the_literal_resource_wins_and_a_parameter_route_still_takes_other_values() -> None:
    recorder = Recorder()

    assert call("GET", "/api/tools/starter", recorder).status_code == 200
    assert call("PATCH", "/api/tools/tool_0123456789abcdef", recorder).status_code == 200
    assert call("GET", "/api/tools/tool_0123456789abcdef/runs", recorder).status_code == 200

    assert recorder.resources == ["/api/tools/starter", "/api/tools/{tool_id}", "/api/tools/{tool_id}/runs"]


def test_a_parameter_resource_lists_its_methods() -> None:
    response = call("POST", "/api/tools/tool_0123456789abcdef")

    assert response.status_code == 405 and response.headers["allow"] == "DELETE, GET, PATCH"


def test_the_precedence_is_literal_then_parameter_then_greedy_level_by_level() -> None:
    routes = {route.path: route for route in parse_template().routes}

    assert routes["/api/tools/starter"].precedence() < routes["/api/tools/{tool_id}"].precedence()
    assert routes["/api/tools/proxy/chat"].precedence() < routes["/api/tools/{tool_id}/runs"].precedence()


@pytest.mark.parametrize("path", ["/v1/messages", "/api/v1/messages", "/v1/messages/count_tokens"])
def test_a_wrong_method_on_an_anthropic_route_is_an_invalid_request_error(path: str) -> None:
    response = call("GET", path)

    assert response.status_code == 405 and response.headers["allow"] == "POST"
    body = response.json()
    assert body["type"] == "error" and body["error"]["type"] == "invalid_request_error"
    assert body["error"]["message"] == f"Method GET is not allowed on {path}."


def test_an_unknown_anthropic_path_is_still_not_found_error() -> None:
    response = call("POST", "/v1/messages/nope")

    assert response.status_code == 404 and response.json()["error"]["type"] == "not_found_error"


def test_a_wrong_method_on_an_openai_route_keeps_the_openai_format() -> None:
    response = call("GET", "/v1/chat/completions")

    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert response.json()["error"] == {
        "message": "Method GET is not allowed on /v1/chat/completions.",
        "type": "invalid_request_error",
        "code": "method_not_allowed",
        "param": None,
    }
