"""Turn any image reference in a chat request into an ``InlineImage``: data URL or remote URL."""

from __future__ import annotations

from shared.adapters.image_fetcher import fetch_image
from shared.errors import InvalidRequest
from shared.images.model import InlineImage
from shared.images.sniff import parse_data_url


async def inline_image(url: str, *, param: str | None = None) -> InlineImage:
    """Decode a ``data:`` URL or fetch an http(s) URL, validated and base64-encoded.

    Raises ``InvalidRequest`` (or its subclass ``ImageTooLarge``) for anything else; ``param``
    names the request field holding the URL and is attached to the error when given.
    """
    try:
        return await _dispatch(url)
    except InvalidRequest as exc:
        exc.param = exc.param or param
        raise


async def _dispatch(url: str) -> InlineImage:
    scheme = url.partition(":")[0].lower() if ":" in url else ""
    if scheme == "data":
        return parse_data_url(url)
    if scheme in ("http", "https"):
        return await fetch_image(url)
    raise InvalidRequest("image URL is not allowed: use a data URL or an http(s) URL")
