"""What the tests of the image fetcher share: a real HTTP server on 127.0.0.1 (``serving``; the
``base_url`` fixture starts one per test module) with a one-pixel PNG, redirects and the answers
the fetcher must refuse, the headers of every image request it received (``SEEN``), the fetch
settings of one test (the ``configure`` fixture) and ``fetch``, which runs one fetch to its end."""

from __future__ import annotations

import asyncio
import struct
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route
from support import threaded_server

from shared.adapters.image_fetcher import fetch_image
from shared.images import InlineImage
from shared.images.sniff import MAX_IMAGE_BYTES
from shared.settings import get_settings


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


PNG = (
    b"\x89PNG\r\n\x1a\n"
    + _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0))
    + _png_chunk(b"IDAT", zlib.compress(b"\x00\x00\x00\x00\x00"))
    + _png_chunk(b"IEND", b"")
)
SEEN: list[dict[str, str]] = []


async def image(request: Request) -> Response:
    SEEN.append(dict(request.headers))
    return Response(PNG, media_type=request.query_params.get("type", "image/png"))


async def hop(request: Request) -> Response:
    left = int(request.path_params["left"])
    return RedirectResponse(f"/hop/{left - 1}" if left else "/cat.png", status_code=302)


async def redirect(request: Request) -> Response:
    return RedirectResponse(request.query_params["to"], status_code=307)


async def endless(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        yield PNG
        while not await request.is_disconnected():  # endless until the client hangs up
            yield b"\x00" * 65536

    return StreamingResponse(chunks(), media_type="image/png")


async def declared_huge(request: Request) -> Response:
    return Response(b"\x00" * (MAX_IMAGE_BYTES + 1), media_type="image/png")


async def html(request: Request) -> Response:
    return Response("<!doctype html><title>not an image</title>", media_type="text/html")


async def slow(request: Request) -> Response:
    await asyncio.sleep(3)
    return Response(PNG, media_type="image/png")


async def drip(request: Request) -> Response:
    async def chunks() -> AsyncIterator[bytes]:
        for byte in PNG:
            yield bytes([byte])
            await asyncio.sleep(0.1)

    return StreamingResponse(chunks(), media_type="image/png")


async def missing(request: Request) -> Response:
    return Response("gone", status_code=404)


APP = Starlette(
    routes=[
        Route("/cat.png", image),
        Route("/hop/{left:int}", hop),
        Route("/redirect", redirect),
        Route("/endless", endless),
        Route("/declared-huge", declared_huge),
        Route("/page.html", html),
        Route("/slow", slow),
        Route("/drip", drip),
        Route("/missing", missing),
    ]
)


@contextmanager
def serving(certfile: str | None = None, keyfile: str | None = None) -> Iterator[int]:
    """Run APP with uvicorn on a free 127.0.0.1 port (optionally with TLS) and yield the port."""
    with threaded_server.serving(
        APP, "test image server", ssl_certfile=certfile, ssl_keyfile=keyfile
    ) as port:
        yield port


@pytest.fixture(scope="module", name="base_url")
def _base_url() -> Iterator[str]:
    """The test server's root URL, one server per test module (import as ``_base_url``; use as
    ``base_url``)."""
    with serving() as port:
        yield f"http://127.0.0.1:{port}"


Configure = Callable[..., None]


@pytest.fixture(name="configure")
def _configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """Set the fetch settings for one test; the environment and settings cache are restored after
    (import as ``_configure``; use as ``configure``)."""

    def apply(allowlist: str | None = "127.0.0.1/32", timeout: float = 2.0) -> None:
        if allowlist is None:
            monkeypatch.delenv("SLUICE_IMAGE_FETCH_ALLOWLIST", raising=False)
        else:
            monkeypatch.setenv("SLUICE_IMAGE_FETCH_ALLOWLIST", allowlist)
        monkeypatch.setenv("SLUICE_IMAGE_FETCH_TIMEOUT", str(timeout))
        get_settings.cache_clear()

    apply()
    SEEN.clear()
    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


def fetch(url: str, client: httpx.AsyncClient | None = None) -> InlineImage:
    return asyncio.run(fetch_image(url, client=client))
