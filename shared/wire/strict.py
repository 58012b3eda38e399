"""Numbers as JSON numbers in the wire models: pydantic alone reads ``"2"`` and ``true`` as
numbers, which the OpenAI and Anthropic APIs both refuse. Booleans use pydantic's ``StrictBool``.
And a text for a model to work on has something besides whitespace."""

from __future__ import annotations

from typing import Any

from pydantic import AfterValidator, BeforeValidator
from pydantic_core import PydanticCustomError


def _a_number(value: Any) -> Any:
    if isinstance(value, str | bool):
        raise PydanticCustomError("number_type", "Input should be a JSON number")
    return value


Number = BeforeValidator(_a_number)


def _has_text(text: str) -> str:
    """Only whitespace, the model would get no text to work on: refused like an empty text."""
    if not text.strip():
        raise PydanticCustomError(
            "string_blank", "String should have at least 1 character other than whitespace"
        )
    return text


HasText = AfterValidator(_has_text)  # the text itself is kept as sent, not stripped
