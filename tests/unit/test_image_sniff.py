"""Magic-byte sniffing, strict data URL decoding and the size caps at their exact boundaries."""

from __future__ import annotations

import base64
import struct
import zlib

import pytest

from shared.errors import ImageTooLarge, InvalidRequest
from shared.images import InlineImage
from shared.images.sniff import (
    MAX_ENCODED_BYTES,
    MAX_IMAGE_BYTES,
    image_from_bytes,
    parse_data_url,
    sniff_media_type,
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def tiny_png() -> bytes:
    """A valid 1x1 RGBA PNG."""
    header = struct.pack(">IIBBBBB", 1, 1, 8, 6, 0, 0, 0)
    pixels = zlib.compress(b"\x00\x00\x00\x00\x00")
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", pixels)
        + _png_chunk(b"IEND", b"")
    )


TINY_GIF = (
    b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
    b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
)
TINY_JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
TINY_WEBP = (
    b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"
)


def data_url(media_type: str, payload: bytes) -> str:
    return f"data:{media_type};base64,{base64.b64encode(payload).decode()}"


@pytest.mark.parametrize(
    ("data", "media_type"),
    [
        (tiny_png(), "image/png"),
        (TINY_JPEG, "image/jpeg"),
        (TINY_GIF, "image/gif"),
        (b"GIF87a" + b"\x00" * 10, "image/gif"),
        (TINY_WEBP, "image/webp"),
    ],
)
def test_supported_images_are_recognised_by_magic_bytes(data: bytes, media_type: str) -> None:
    assert sniff_media_type(data) == media_type
    assert parse_data_url(data_url(media_type, data)) == InlineImage(
        media_type, base64.b64encode(data).decode()
    )


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x00\x20ftypisom\x00\x00\x02\x00isomiso2avc1mp41",  # MP4
        b"\x00\x00\x00\x14ftypqt  \x00\x00\x00\x00qt  ",  # QuickTime
        b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01webm",  # WebM
        b"RIFF\x00\x00\x00\x00AVI LIST",  # AVI
        b"FLV\x01\x05\x00\x00\x00\x09",
        b"\x00\x00\x01\xba\x44\x00\x04\x00",  # MPEG-PS
        b"\x47" + b"\x00" * 187 + b"\x47" + b"\x00" * 10,  # MPEG-TS
    ],
)
def test_video_is_rejected_clearly(data: bytes) -> None:
    with pytest.raises(InvalidRequest, match="video is not supported"):
        sniff_media_type(data)
    with pytest.raises(InvalidRequest, match="video is not supported"):
        parse_data_url(data_url("image/png", data))


def test_declared_video_with_unknown_bytes_says_video() -> None:
    with pytest.raises(InvalidRequest, match="video is not supported"):
        parse_data_url(data_url("video/mp4", b"not really anything"))


@pytest.mark.parametrize(
    "data",
    [
        b"<!doctype html><html></html>",
        b"%PDF-1.7",
        b"BM\x00\x00",  # BMP
        b"\x00\x00\x00\x18ftypavif\x00\x00\x00\x00avifmif1",  # AVIF: an image, but not a supported one
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"\x89PNG",  # truncated signature
    ],
)
def test_other_content_is_an_unsupported_image(data: bytes) -> None:
    with pytest.raises(InvalidRequest, match="unsupported image type"):
        sniff_media_type(data)


def test_sniffed_type_wins_over_declared_type() -> None:
    png = tiny_png()
    assert parse_data_url(data_url("image/jpeg", png)).media_type == "image/png"
    assert parse_data_url(data_url("text/plain", png)).media_type == "image/png"
    assert parse_data_url(f"data:;base64,{base64.b64encode(TINY_GIF).decode()}").media_type == "image/gif"
    assert image_from_bytes(TINY_JPEG, declared="image/webp").media_type == "image/jpeg"


def test_data_url_scheme_and_base64_marker_are_case_insensitive() -> None:
    payload = base64.b64encode(TINY_JPEG).decode()
    assert parse_data_url(f"DATA:image/jpeg;charset=x;BASE64,{payload}").media_type == "image/jpeg"


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("data:image/png,rawbytes", "must be base64"),
        ("data:image/png;base64", "has no data"),
        ("data:image/png;base64;foo,AAAA", "must be base64"),
        ("http://example.com/a.png", "must start with 'data:'"),
        ("data:image/png;base64,", "image is empty"),
        ("data:image/png;base64,iVBORw0KGgo", "not valid base64"),  # missing padding
        ("data:image/png;base64,iVBO Rw0KGgo=", "not valid base64"),  # whitespace
        ("data:image/png;base64,iVBO\nRw0KGgo=", "not valid base64"),
        ("data:image/png;base64,iVBO-w0KGgo=", "not valid base64"),  # URL-safe alphabet
        ("data:image/png;base64,iVBORw0K%3D%3D", "not valid base64"),  # percent-encoded
        ("data:image/png;base64,iVBORw0KGgo=AAAA", "not valid base64"),  # data after padding
        ("data:image/png;base64,=iVBORw0KGgo", "not valid base64"),
        ("data:image/png;base64,iVBORw0KGgoé", "not valid base64"),
    ],
)
def test_malformed_data_urls_are_rejected(url: str, message: str) -> None:
    with pytest.raises(InvalidRequest, match=message) as caught:
        parse_data_url(url)
    assert not isinstance(caught.value, ImageTooLarge)


def _png_of_size(size: int) -> bytes:
    png = tiny_png()
    return png + b"\x00" * (size - len(png))


def test_raw_cap_is_exactly_six_megabytes() -> None:
    assert MAX_IMAGE_BYTES == 6 * 1024 * 1024
    image = image_from_bytes(_png_of_size(MAX_IMAGE_BYTES))
    assert len(image.data_b64) == MAX_ENCODED_BYTES
    with pytest.raises(ImageTooLarge) as caught:
        image_from_bytes(_png_of_size(MAX_IMAGE_BYTES + 1))
    assert caught.value.code == "encoded_image_too_large"
    assert caught.value.status == 400


def test_encoded_cap_is_exactly_eight_megabytes() -> None:
    at_cap = data_url("image/png", _png_of_size(MAX_IMAGE_BYTES))
    assert len(at_cap.partition(",")[2]) == MAX_ENCODED_BYTES
    assert parse_data_url(at_cap).media_type == "image/png"

    over_cap = data_url("image/png", _png_of_size(MAX_IMAGE_BYTES + 1))
    assert len(over_cap.partition(",")[2]) == MAX_ENCODED_BYTES + 4
    with pytest.raises(ImageTooLarge, match="larger than 8 MB") as caught:
        parse_data_url(over_cap)
    assert caught.value.code == "encoded_image_too_large"


def test_oversized_payload_is_refused_before_decoding() -> None:
    # Not even valid base64: the size check must come first, so the error is the size.
    with pytest.raises(ImageTooLarge):
        parse_data_url("data:image/png;base64," + "!" * (MAX_ENCODED_BYTES + 1))


def test_inline_image_is_frozen_and_renders_a_data_url() -> None:
    image = InlineImage("image/gif", "R0lGODlh")
    assert image.as_data_url() == "data:image/gif;base64,R0lGODlh"
    with pytest.raises(AttributeError):
        image.media_type = "image/png"  # type: ignore[misc]
