"""Parse request bodies into wire models, turning every failure into a typed 400/413."""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ValidationError
from starlette.requests import Request

from shared.errors import InvalidRequest, RequestTooLarge


def validation_error(exc: ValidationError) -> InvalidRequest:
    """The first problem, with its field path as ``param``."""
    first = exc.errors(include_url=False)[0]
    param = ".".join(str(p) for p in first.get("loc", ())) or None
    message = first.get("msg", "Invalid request.")
    return InvalidRequest(f"{param}: {message}" if param else message, param=param)


async def read_json(request: Request, max_bytes: int) -> Any:
    """The body as JSON, refusing more than ``max_bytes`` before parsing it."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > max_bytes:
        raise RequestTooLarge(f"Request body exceeds the {max_bytes // 1024} KB limit.")
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > max_bytes:
            raise RequestTooLarge(f"Request body exceeds the {max_bytes // 1024} KB limit.")
    if not raw:
        raise InvalidRequest("Request body is empty; expected a JSON object.")
    try:
        return json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InvalidRequest("Request body is not valid JSON.") from exc


def parse_model[M: BaseModel](model: type[M], data: Any) -> M:
    if not isinstance(data, dict):
        raise InvalidRequest("Request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise validation_error(exc) from exc
