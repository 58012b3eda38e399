"""`make dev`'s stack, from the outside: the official OpenAI SDK lists the default catalog."""

from __future__ import annotations

import httpx
import openai
import pytest

from shared.catalog.loader import load_catalog_file


def test_openai_sdk_lists_the_default_catalog(local_stack) -> None:
    client = openai.OpenAI(base_url=f"{local_stack.base_url}/v1", api_key=local_stack.api_key)

    models = client.models.list()

    assert [m.id for m in models.data] == [m.id for m in load_catalog_file().models]
    assert all(m.object == "model" for m in models.data)


def test_api_v1_base_url_works_too(local_stack) -> None:
    client = openai.OpenAI(base_url=f"{local_stack.base_url}/api/v1", api_key=local_stack.api_key)
    assert client.models.retrieve("kimi-k2.6").id == "kimi-k2.6"


def test_unknown_route_is_404_json_and_wrong_method_405_json(local_stack) -> None:
    missing = httpx.get(f"{local_stack.base_url}/v1/nothing-here")
    wrong = httpx.delete(f"{local_stack.base_url}/v1/models")

    assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
    assert wrong.status_code == 405 and wrong.json()["error"]["code"] == "method_not_allowed"
    assert "GET" in wrong.headers["allow"]
    assert missing.headers["x-request-id"] and wrong.headers["x-request-id"]


def test_garbage_bodies_never_produce_a_500(local_stack) -> None:
    url = f"{local_stack.base_url}/v1/chat/completions"
    headers = {"Authorization": f"Bearer {local_stack.api_key}"}
    bodies = [b"", b"{", b"[]", b"\xff\xfe\x00", b'{"model": 5}', b"null", b'{"messages": "x"}', b"9" * 5000]
    statuses = [httpx.post(url, content=body, headers=headers).status_code for body in bodies]
    assert all(400 <= s < 500 for s in statuses), statuses


def test_cors_preflight_is_answered(local_stack) -> None:
    response = httpx.options(
        f"{local_stack.base_url}/v1/chat/completions",
        headers={
            "Origin": "https://app.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] in ("*", "https://app.example")


@pytest.mark.parametrize("path", ["/api/tools/proxy/chat", "/api/agents/runs", "/api/keys"])
def test_cors_preflight_of_a_user_token_route_needs_no_token(local_stack, path: str) -> None:
    """A browser's preflight carries no token; API Gateway answers the OPTIONS methods that the
    template's Cors setting adds without the route's Cognito authorizer (locally they were a 401)."""
    preflight = {"Origin": "https://app.example", "Access-Control-Request-Method": "POST"}

    response = httpx.options(f"{local_stack.base_url}{path}", headers=preflight)
    unauthenticated = httpx.post(f"{local_stack.base_url}{path}", json={})

    assert response.status_code == 200 and response.headers["access-control-allow-origin"]
    assert unauthenticated.status_code == 401, "the route itself still needs its token"
