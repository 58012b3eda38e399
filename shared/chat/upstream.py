"""Validation of upstream payloads: a payload that does not match is the upstream's fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import ValidationError

from shared.errors import UpstreamError


def validate_upstream[T](validate: Callable[[Any], T], body: Any, what: str) -> T:
    """Validate an upstream payload; a mismatch is an UpstreamError (502), never the client's 400."""
    try:
        return validate(body)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first.get("loc", ()))
        raise UpstreamError(f"Upstream sent a malformed {what} ({where}: {first.get('msg')}).") from exc
