"""Recognise images by their magic bytes, decode data URLs strictly, and enforce the size caps.

Declared types (a data URL's media type, a Content-Type header) are never trusted: when they
disagree with the bytes, the bytes win. They only sharpen the error for video.
"""

from __future__ import annotations

import base64
import binascii

from shared.errors import ImageTooLarge, InvalidRequest
from shared.images.model import InlineImage

MAX_IMAGE_BYTES = 6 * 1024 * 1024
MAX_ENCODED_BYTES = 8 * 1024 * 1024
SUPPORTED_MEDIA_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")

_UNSUPPORTED = "unsupported image type; send a PNG, JPEG, WEBP or GIF image"
_VIDEO = "video is not supported; send a PNG, JPEG, WEBP or GIF image"
_IMAGE_PREFIXES = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_VIDEO_PREFIXES = (
    b"\x1a\x45\xdf\xa3",  # Matroska / WebM
    b"FLV\x01",
    b"\x00\x00\x01\xba",  # MPEG program stream
    b"\x00\x00\x01\xb3",  # MPEG-1/2 video
    b"\x30\x26\xb2\x75\x8e\x66\xcf\x11",  # ASF / WMV
)
# ISO base media files ("....ftyp<brand>") are video unless the brand is a still-image or audio one.
_NON_VIDEO_BRANDS = frozenset(
    {b"avif", b"avis", b"heic", b"heix", b"heim", b"heis", b"mif1", b"msf1", b"M4A "}
)


def sniff_media_type(data: bytes, *, declared: str | None = None) -> str:
    """The image type ``data`` really is (one of ``SUPPORTED_MEDIA_TYPES``), else ``InvalidRequest``."""
    for prefix, media_type in _IMAGE_PREFIXES:
        if data.startswith(prefix):
            return media_type
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    if _looks_like_video(data) or (declared or "").strip().lower().startswith("video/"):
        raise InvalidRequest(_VIDEO)
    raise InvalidRequest(_UNSUPPORTED)


def _looks_like_video(data: bytes) -> bool:
    if data.startswith(_VIDEO_PREFIXES):
        return True
    if data[:4] == b"RIFF" and data[8:12] == b"AVI ":
        return True
    if data[4:8] == b"ftyp":
        return data[8:12] not in _NON_VIDEO_BRANDS
    return len(data) > 188 and data[0] == data[188] == 0x47  # MPEG transport stream sync bytes


def image_from_bytes(data: bytes, *, declared: str | None = None) -> InlineImage:
    """Validate raw image bytes (size caps, magic bytes) and encode them as base64."""
    if len(data) > MAX_IMAGE_BYTES:
        raise ImageTooLarge(f"image is larger than {MAX_IMAGE_BYTES // (1024 * 1024)} MB")
    if not data:
        raise InvalidRequest("image is empty")
    media_type = sniff_media_type(data, declared=declared)
    encoded = base64.b64encode(data).decode("ascii")
    if len(encoded) > MAX_ENCODED_BYTES:
        raise ImageTooLarge(f"encoded image is larger than {MAX_ENCODED_BYTES // (1024 * 1024)} MB")
    return InlineImage(media_type=media_type, data_b64=encoded)


def parse_data_url(url: str) -> InlineImage:
    """Decode a base64 ``data:`` URL into a validated image (strict base64, caps checked first)."""
    if url[:5].lower() != "data:":
        raise InvalidRequest("image data URL must start with 'data:'")
    header, comma, payload = url[5:].partition(",")
    if not comma:
        raise InvalidRequest("image data URL has no data")
    declared, *params = header.split(";")
    if not params or params[-1].strip().lower() != "base64":
        raise InvalidRequest("image data URL must be base64-encoded")
    if len(payload) > MAX_ENCODED_BYTES:
        raise ImageTooLarge(f"encoded image is larger than {MAX_ENCODED_BYTES // (1024 * 1024)} MB")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequest("image data URL is not valid base64") from exc
    return image_from_bytes(data, declared=declared)
