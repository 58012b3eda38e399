"""Error bodies of the two wire formats, and which statuses the error hierarchy can answer."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Literal

from pydantic import BaseModel, ConfigDict

import shared
from shared.errors import SluiceError
from shared.http.error_render import ErrorFormat, format_for_path

INTERNAL_ERROR = 500  # never documented: a 500 is a bug, and the fuzz suite fails on one


class OpenAIErrorDetail(BaseModel):
    model_config = ConfigDict(title="OpenAIErrorDetail")

    message: str
    type: str
    code: str | None
    param: str | None


class OpenAIError(BaseModel):
    """``{"error": {"message", "type", "code", "param"}}``: every non-Anthropic route."""

    model_config = ConfigDict(title="OpenAIError")

    error: OpenAIErrorDetail


class AnthropicErrorDetail(BaseModel):
    model_config = ConfigDict(title="AnthropicErrorDetail")

    type: str
    message: str


class AnthropicError(BaseModel):
    """``{"type": "error", "error": {"type", "message"}}``: the Anthropic Messages routes."""

    model_config = ConfigDict(title="AnthropicError")

    type: Literal["error"]
    error: AnthropicErrorDetail


def error_model(path: str) -> type[BaseModel]:
    """The error body a path answers with, as ``shared.http.error_render`` renders it."""
    return AnthropicError if format_for_path(path) is ErrorFormat.ANTHROPIC else OpenAIError


def _subclasses(cls: type[SluiceError]) -> list[type[SluiceError]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_subclasses(sub))
    return found


def _load_shared() -> None:
    """Import every module of ``shared``, so that each ``SluiceError`` subclass is known whatever
    the caller imported before (the served document must equal the committed one)."""
    for module in pkgutil.walk_packages(shared.__path__, prefix="shared."):
        importlib.import_module(module.name)


def error_statuses() -> dict[int, list[str]]:
    """Each status some ``SluiceError`` of ``shared`` answers with, and its error codes, sorted."""
    _load_shared()
    statuses: dict[int, set[str]] = {}
    for cls in _subclasses(SluiceError):
        if cls.status != INTERNAL_ERROR:
            statuses.setdefault(cls.status, set()).add(cls.code)
    return {status: sorted(codes) for status, codes in sorted(statuses.items())}
