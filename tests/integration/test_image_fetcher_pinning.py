"""The image fetcher's connections pinned to the address it checked, against a real HTTP server on
127.0.0.1 reachable only via the allow-list: a name is resolved, checked and connected to by
address with the original Host header and no credentials, every redirect is checked and pinned
again (up to the limit; private addresses, names resolving privately, other schemes and loopback
spellings refused), and HTTPS verifies the certificate for the name, not the pinned address.
Blocked addresses are never connected to, so the server only ever sees the requests that should
reach it. Name resolution for made-up names is faked by patching the event loop's getaddrinfo."""

from __future__ import annotations

import asyncio
import datetime
import socket
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from image_fetcher_support import (
    PNG,
    SEEN,
    Configure,
    _base_url,  # noqa: F401 - the `base_url` fixture
    _configure,  # noqa: F401 - the `configure` fixture
    fetch,
    serving,
)

from shared.adapters.image_fetcher import MAX_REDIRECTS
from shared.errors import InvalidRequest


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
