"""Render a SluiceError in the wire format of the endpoint that raised it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from shared.errors import SluiceError


class ErrorFormat(StrEnum):
    OPENAI = "openai"
    ANTHROPIC = "anthropic"


_ANTHROPIC_PATHS = ("/v1/messages", "/v1/messages/count_tokens")


def format_for_path(path: str) -> ErrorFormat:
    """Anthropic Messages routes answer in Anthropic's error shape; everything else in OpenAI's."""
    bare = path.removeprefix("/api")
    return ErrorFormat.ANTHROPIC if bare in _ANTHROPIC_PATHS else ErrorFormat.OPENAI


def error_body(error: SluiceError, fmt: ErrorFormat, rid: str | None = None) -> dict[str, Any]:
    """The error's JSON; Anthropic's carries the request id at the top level too, as Anthropic's
    own API does (its SDKs read it there and in the ``request-id`` header)."""
    if fmt is ErrorFormat.ANTHROPIC:
        body: dict[str, Any] = {
            "type": "error",
            "error": {"type": error.anthropic_type, "message": error.message},
        }
        if rid:
            body["request_id"] = rid
        return body
    return {
        "error": {
            "message": error.message,
            "type": error.openai_type,
            "code": error.code,
            "param": error.param,
        }
    }
