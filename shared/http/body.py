"""Parse request bodies into wire models, turning every failure into a typed 400/413."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import ClientDisconnect, Request

from shared import json_codec
from shared.errors import InvalidRequest, RequestTooLarge
from shared.numbers import ascii_int

_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def validation_error(exc: ValidationError, data: Any = None) -> InvalidRequest:
    """The first problem, with its field path in ``data`` as ``param``."""
    first = exc.errors(include_url=False)[0]
    param = field_path(first.get("loc", ()), data) or None
    message = first.get("msg", "Invalid request.")
    return InvalidRequest(f"{param}: {message}" if param else message, param=param)


def field_path(loc: tuple[int | str, ...], data: Any) -> str:
    """``loc`` as the client's field path: pydantic adds the member of a union it tried (a
    discriminator's tag such as ``text``, ``literal['none','auto']``, a model's class name),
    which the client never wrote. Each step is kept where it is a key or an index of ``data``,
    and a last step that names a field of an object (one the client left out)."""
    path: list[str] = []
    node = data
    for position, step in enumerate(loc):
        if _holds(node, step):
            node = node[step]
        elif position < len(loc) - 1 or not isinstance(node, dict) or not _FIELD_NAME.fullmatch(str(step)):
            continue  # a union member pydantic tried
        path.append(str(step))
    return ".".join(path)


def _holds(node: Any, step: int | str) -> bool:
    if isinstance(node, dict):
        return step in node
    return isinstance(node, list) and isinstance(step, int) and 0 <= step < len(node)


async def read_limited(request: Request, max_bytes: int, too_large: str) -> bytes:
    """The raw body, refused (413, ``too_large``) as soon as it is known to exceed ``max_bytes``:
    from its Content-Length, or while it arrives, before it is all read."""
    declared = request.headers.get("content-length", "")
    length = ascii_int(declared)
    if length is not None and length > max_bytes:
        raise RequestTooLarge(too_large)
    chunks: list[bytes] = []
    size = 0
    stream = request.stream()
    try:
        async for chunk in stream:
            size += len(chunk)
            if size > max_bytes:
                raise RequestTooLarge(too_large)
            chunks.append(chunk)
    except ClientDisconnect as gone:  # nobody reads the answer; a 400, not an unhandled error's 500
        raise InvalidRequest("The client closed the connection before the body was complete.") from gone
    finally:
        await stream.aclose()  # a refused body leaves the generator unfinished: close it here
    return b"".join(chunks)


async def read_json(request: Request, max_bytes: int, *, empty_is_object: bool = False) -> Any:
    """The body as JSON, refusing more than ``max_bytes`` before parsing it. An empty body is a
    400, or ``{}`` with ``empty_is_object`` (a route whose every field is optional)."""
    raw = await read_limited(request, max_bytes, f"Request body exceeds the {max_bytes // 1024} KB limit.")
    if not raw and empty_is_object:
        return {}
    if not raw:
        raise InvalidRequest("Request body is empty; expected a JSON object.")
    try:
        return json_codec.loads_strict(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest(f"Request body is not valid JSON: {exc}.") from exc


def parse_model[M: BaseModel](model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc, data) from exc
