"""The image fetcher against a real HTTP server on 127.0.0.1, reachable only via the allow-list:
what the allow-list lets through (a PNG whatever its declared content type; by network or by exact
host and port) and what it refuses, the answers it turns into clear errors (bodies over six
megabytes, non-images, error statuses, slow servers, a refused connection), and ``inline_image``
dispatching data URLs and fetches and naming the parameter. Blocked addresses are never connected
to, so the server only ever sees the requests that should reach it."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from image_fetcher_support import (
    SEEN,
    Configure,
    _base_url,  # noqa: F401 - the `base_url` fixture
    _configure,  # noqa: F401 - the `configure` fixture
    fetch,
)

from shared.errors import ImageTooLarge, InvalidRequest
from shared.images.resolve import inline_image


def test_fetches_a_png_through_the_allowlist_whatever_its_content_type(
    base_url: str, configure: Configure
) -> None:
    image = fetch(f"{base_url}/cat.png")
    assert image.media_type == "image/png"
    assert image.as_data_url().startswith("data:image/png;base64,iVBORw0KGgo")
    assert fetch(f"{base_url}/cat.png?type=image/jpeg").media_type == "image/png"


def test_without_the_allowlist_loopback_is_refused_and_never_contacted(
    base_url: str, configure: Configure
) -> None:
    configure(allowlist=None)
    with pytest.raises(InvalidRequest, match="not allowed: it points to a loopback address") as caught:
        fetch(f"{base_url}/cat.png")
    assert "127.0.0.1" not in caught.value.message
    assert SEEN == []


def test_allowlist_endpoint_entry_matches_host_and_port_exactly(base_url: str, configure: Configure) -> None:
    port = int(base_url.rsplit(":", 1)[1])
    configure(allowlist=f"127.0.0.1:{port}")
    assert fetch(f"{base_url}/cat.png").media_type == "image/png"
    configure(allowlist=f"127.0.0.1:{port + 1 if port < 65535 else port - 1}")
    with pytest.raises(InvalidRequest, match="not allowed"):
        fetch(f"{base_url}/cat.png")


@pytest.mark.parametrize("path", ["/endless", "/declared-huge"])
def test_bodies_over_six_megabytes_are_cut_off(base_url: str, configure: Configure, path: str) -> None:
    # /endless never ends: only the streaming cap can stop it; /declared-huge is refused by its length.
    with pytest.raises(ImageTooLarge) as caught:
        fetch(f"{base_url}{path}")
    assert caught.value.code == "encoded_image_too_large"


@pytest.mark.parametrize(
    ("path", "message"),
    [("/page.html", "unsupported image type"), ("/missing", "the server answered HTTP 404")],
)
def test_non_images_and_error_statuses_are_invalid_requests(
    base_url: str, configure: Configure, path: str, message: str
) -> None:
    with pytest.raises(InvalidRequest, match=message):
        fetch(f"{base_url}{path}")


@pytest.mark.parametrize("path", ["/slow", "/drip"])
def test_slow_servers_hit_the_timeout(base_url: str, configure: Configure, path: str) -> None:
    # /drip sends a byte every 0.1 s, well within the read timeout: only the wall-clock cap stops it.
    configure(timeout=0.5)
    started = time.monotonic()
    with pytest.raises(InvalidRequest, match=r"no answer within 0.5 s"):
        fetch(f"{base_url}{path}")
    assert time.monotonic() - started < 2


def test_a_refused_connection_is_a_clear_invalid_request(configure: Configure) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    with pytest.raises(InvalidRequest, match="the connection failed"):
        fetch(f"http://127.0.0.1:{closed_port}/cat.png")


def test_inline_image_dispatches_and_names_the_param(base_url: str, configure: Configure) -> None:
    assert asyncio.run(inline_image(f"{base_url}/cat.png")).media_type == "image/png"
    data_url = fetch(f"{base_url}/cat.png").as_data_url()
    assert asyncio.run(inline_image(data_url)) == fetch(f"{base_url}/cat.png")
    with pytest.raises(InvalidRequest) as caught:
        asyncio.run(inline_image("ftp://example.com/a.png", param="messages[0].content[1].image_url.url"))
    assert caught.value.param == "messages[0].content[1].image_url.url"
    configure(allowlist=None)
    with pytest.raises(InvalidRequest, match="not allowed") as blocked:
        asyncio.run(inline_image(f"{base_url}/cat.png", param="image_url"))
    assert blocked.value.param == "image_url"
