"""Remote images through POST /v1/chat/completions: SSRF refused before any fetch, allow-listed fetched.

An image server on 127.0.0.1 records every hit: a refused URL must never reach it. The upstream
(a recorder in front of the simulator) shows what the model got: base64 data, never a URL.
"""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from chat_support import (
    LoopbackServer,
    RecordingUpstream,
    chat_http,
    install_catalog,
    openai_route,
    queued_usage_events,
)
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from shared.settings import get_settings

PNG_1PX = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
)


class ImageServer:
    def __init__(self) -> None:
        self.hits: list[str] = []

        async def image(request: Request) -> Response:
            self.hits.append(request.url.path)
            return Response(PNG_1PX, media_type="image/png")

        async def to_metadata(request: Request) -> Response:
            self.hits.append(request.url.path)
            return RedirectResponse("http://169.254.169.254/latest/meta-data/", status_code=302)

        self.app = Starlette(routes=[Route("/cat.png", image), Route("/redirect", to_metadata)])


@pytest.fixture
def images() -> Iterator[tuple[ImageServer, int]]:
    server = ImageServer()
    with LoopbackServer(server.app) as running:
        yield server, int(running.url.rsplit(":", 1)[1])


@pytest.fixture
def upstream(chat_world) -> Iterator[RecordingUpstream]:
    recorder = RecordingUpstream()
    with LoopbackServer(recorder) as server:
        install_catalog(routes={"kimi-k2.5": [openai_route(f"{server.url}/v1", "kimi-k2.5")]})
        yield recorder


@pytest.fixture
def allow(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    def set_allowlist(value: str) -> None:
        monkeypatch.setenv("SLUICE_IMAGE_FETCH_ALLOWLIST", value)
        get_settings.cache_clear()

    yield set_allowlist
    get_settings.cache_clear()


def ask_about(key: str, url: str) -> httpx.Response:
    content = [
        {"type": "text", "text": "what is in this picture"},
        {"type": "image_url", "image_url": {"url": url}},
    ]

    async def go() -> httpx.Response:
        async with chat_http() as http:
            return await http.post(
                "/v1/chat/completions",
                json={"model": "kimi-k2.5", "messages": [{"role": "user", "content": content}]},
                headers={"Authorization": f"Bearer {key}"},
            )

    return asyncio.run(go())


HOSTILE = [
    "http://127.0.0.1:{port}/cat.png",
    "http://localhost:{port}/cat.png",
    "http://[::1]:{port}/cat.png",
    "http://[::ffff:127.0.0.1]:{port}/cat.png",
    "http://2130706433:{port}/cat.png",
    "http://0x7f.1:{port}/cat.png",
    "http://017700000001:{port}/cat.png",
    "http://169.254.169.254/latest/meta-data/",
    "http://10.0.0.1/cat.png",
    "file:///etc/passwd",
    "gopher://127.0.0.1:{port}/_cat",
]


def test_image_urls_to_private_addresses_are_refused_before_any_fetch(chat_world, images, upstream) -> None:
    server, port = images
    for hostile in (url.format(port=port) for url in HOSTILE):
        response = ask_about(chat_world.pro.key, hostile)

        assert response.status_code == 400, (hostile, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_request" and error["param"].startswith("messages.0.content.1"), (
            hostile
        )
        assert "not allowed" in error["message"] or "must be http(s)" in error["message"], hostile
        assert response.headers["x-credits-remaining"] == "1000", hostile
        # Non-http(s) schemes fail the request's validation, before admission: no usage event at all.
        assert [e["charged"] for e in queued_usage_events(chat_world.usage_queue)] in ([False], []), hostile
    assert server.hits == [], "the fetcher never connected"
    assert upstream.calls == [], "nothing went upstream"
    assert chat_world.pro.balance() == 1000, "nothing charged: every reservation was released"


def test_an_allow_listed_image_is_fetched_and_sent_upstream_as_base64(
    chat_world, images, upstream, allow
) -> None:
    server, port = images
    allow(f"127.0.0.1:{port}")

    response = ask_about(chat_world.pro.key, f"http://127.0.0.1:{port}/cat.png")

    assert response.status_code == 200, response.text
    assert server.hits == ["/cat.png"]
    [call] = upstream.calls
    part = call.body["messages"][-1]["content"][1]
    assert part["type"] == "image_url"
    assert part["image_url"]["url"] == "data:image/png;base64," + base64.b64encode(PNG_1PX).decode()
    assert response.json()["usage"]["prompt_tokens"] > 85, "the simulator counted the image part"
    assert chat_world.pro.balance() == 998, "kimi-k2.5 costs 2 credits"


def test_a_redirect_from_an_allowed_host_to_the_metadata_address_is_refused(
    chat_world, images, upstream, allow
) -> None:
    server, port = images
    allow(f"127.0.0.1:{port}")

    response = ask_about(chat_world.pro.key, f"http://127.0.0.1:{port}/redirect")

    assert response.status_code == 400 and "not allowed" in response.json()["error"]["message"]
    assert server.hits == ["/redirect"], "the redirect target was checked, not fetched"
    assert upstream.calls == []
    assert chat_world.pro.balance() == 1000
