"""Numbers as JSON numbers in the wire models: pydantic alone reads ``"2"`` and ``true`` as
numbers, which the OpenAI and Anthropic APIs both refuse. Booleans use pydantic's ``StrictBool``."""

from __future__ import annotations

from typing import Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError


def _a_number(value: Any) -> Any:
    if isinstance(value, str | bool):
        raise PydanticCustomError("number_type", "Input should be a JSON number")
    return value


Number = BeforeValidator(_a_number)
