"""The image fetcher against a real HTTP server on 127.0.0.1, reachable only via the allow-list.

Blocked addresses are never connected to, so the server only ever sees the requests that should
reach it. Name resolution for made-up names is faked by patching the event loop's getaddrinfo.
"""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
import struct
import threading
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import Route

from shared.adapters.image_fetcher import MAX_REDIRECTS, fetch_image
from shared.errors import ImageTooLarge, InvalidRequest
from shared.images import InlineImage
from shared.images.resolve import inline_image
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
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    config = uvicorn.Config(
        APP,
        log_level="warning",
        lifespan="off",
        timeout_graceful_shutdown=1,
        ssl_certfile=certfile,
        ssl_keyfile=keyfile,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started, "test image server did not start"
    try:
        yield sock.getsockname()[1]
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serving() as port:
        yield f"http://127.0.0.1:{port}"


Configure = Callable[..., None]


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Configure]:
    """Set the fetch settings for one test; the environment and settings cache are restored after."""

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


@pytest.fixture
def fake_dns(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Names the test may resolve (name -> IPv4 address); anything else does not exist."""
    table: dict[str, str] = {}

    async def getaddrinfo(self: object, host: str, port: int, **_: Any) -> list[tuple]:
        if host not in table:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (table[host], port))]

    monkeypatch.setattr(asyncio.BaseEventLoop, "getaddrinfo", getaddrinfo)
    return table


async def streamed(data: bytes) -> AsyncIterator[bytes]:
    """A body the fetcher must stream, as from the network (not pre-read like ``content=bytes``)."""
    yield data


def fetch(url: str, client: httpx.AsyncClient | None = None) -> InlineImage:
    return asyncio.run(fetch_image(url, client=client))


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


def test_connects_to_the_checked_address_with_the_original_host_and_no_credentials(
    base_url: str, configure: Configure, fake_dns: dict[str, str]
) -> None:
    # Given a name that resolves to the allowed server and a client carrying cookies and auth
    fake_dns["images.test"] = "127.0.0.1"
    port = base_url.rsplit(":", 1)[1]
    client = httpx.AsyncClient(cookies={"session": "secret"}, headers={"Authorization": "Bearer sk-x"})

    # When the image is fetched by name
    image = fetch(f"http://images.test:{port}/cat.png", client=client)

    # Then the server saw the original Host header and neither cookie nor credentials
    assert image.media_type == "image/png"
    assert SEEN[-1]["host"] == f"images.test:{port}"
    assert "cookie" not in SEEN[-1]
    assert "authorization" not in SEEN[-1]
    assert SEEN[-1]["accept-encoding"] == "identity"


def test_relative_redirects_are_followed_up_to_the_limit(base_url: str, configure: Configure) -> None:
    assert fetch(f"{base_url}/hop/{MAX_REDIRECTS - 1}").media_type == "image/png"
    with pytest.raises(InvalidRequest, match=f"more than {MAX_REDIRECTS} redirects"):
        fetch(f"{base_url}/hop/{MAX_REDIRECTS}")


def test_redirect_to_a_private_address_is_refused(base_url: str, configure: Configure) -> None:
    with pytest.raises(InvalidRequest, match="not allowed: it points to a private address") as caught:
        fetch(f"{base_url}/redirect?to=http://10.0.0.1/x.png")
    assert "10.0.0.1" not in caught.value.message


def test_redirect_to_a_name_resolving_privately_is_refused(
    base_url: str, configure: Configure, fake_dns: dict[str, str]
) -> None:
    fake_dns["internal.test"] = "10.1.2.3"
    with pytest.raises(InvalidRequest, match="not allowed: it points to a private address") as caught:
        fetch(f"{base_url}/redirect?to=http://internal.test/x.png")
    assert "10.1.2.3" not in caught.value.message


@pytest.mark.parametrize("target", ["file:///etc/passwd", "gopher://x/", "http://0x7f.1/", "http://[::1]/"])
def test_redirect_to_other_schemes_or_loopback_spellings_is_refused(
    base_url: str, configure: Configure, target: str
) -> None:
    configure(allowlist=f"127.0.0.1:{base_url.rsplit(':', 1)[1]}")
    with pytest.raises(InvalidRequest, match="not allowed"):
        fetch(f"{base_url}/redirect?to={target}")


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


def test_a_redirect_to_another_host_is_resolved_and_pinned_again(
    configure: Configure, fake_dns: dict[str, str]
) -> None:
    fake_dns.update({"a.example": "93.184.216.34", "b.example": "151.101.1.1", "c.example": "10.9.9.9"})
    sent: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        sent.append(request)
        if request.headers["host"] == "a.example":
            return httpx.Response(301, headers={"location": "https://b.example:8443/img"})
        if request.headers["host"] == "b.example:8443":
            return httpx.Response(302, headers={"location": "//c.example/img"})
        return httpx.Response(200, content=streamed(PNG))

    with pytest.raises(InvalidRequest, match="private address"):
        fetch("http://a.example/start", client=httpx.AsyncClient(transport=httpx.MockTransport(handler)))
    assert [str(r.url) for r in sent] == ["http://93.184.216.34/start", "https://151.101.1.1:8443/img"]
    assert sent[1].extensions["sni_hostname"] == "b.example"


def _self_signed(name: str, directory: Path) -> tuple[str, str, str]:
    """A throwaway certificate for ``name``: (cert file, key file, cert PEM)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(hours=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(name)]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    pem = cert.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (directory / "cert.pem").write_text(pem)
    (directory / "key.pem").write_bytes(key_pem)
    return str(directory / "cert.pem"), str(directory / "key.pem"), pem


def test_https_fetch_verifies_the_certificate_for_the_name_not_the_pinned_address(
    tmp_path: Path, configure: Configure, fake_dns: dict[str, str]
) -> None:
    # Given a TLS server whose certificate names only "images.test", trusted by the client
    pytest.importorskip("cryptography")
    certfile, keyfile, pem = _self_signed("images.test", tmp_path)
    trusted = ssl.create_default_context(cadata=pem)
    fake_dns.update({"images.test": "127.0.0.1", "other.test": "127.0.0.1"})

    with serving(certfile, keyfile) as port:
        # When it is fetched by that name, the pinned connection still verifies against the name
        image = fetch(f"https://images.test:{port}/cat.png", client=httpx.AsyncClient(verify=trusted))
        assert image.media_type == "image/png"
        assert SEEN[-1]["host"] == f"images.test:{port}"

        # And a name the certificate does not cover fails verification, as it must
        with pytest.raises(InvalidRequest, match="could not be fetched"):
            fetch(f"https://other.test:{port}/cat.png", client=httpx.AsyncClient(verify=trusted))
