"""JSON on the request path, by pydantic-core's parser and serializer (Rust), with the standard
library's behaviour kept where the two differ.

Measured on this project's machine (a chunk of an upstream stream, about 230 bytes): parsing
2.1 µs against ``json.loads``' 6.8, writing 1.2 µs against ``json.dumps``' 7.2.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from pydantic_core import PydanticSerializationError, from_json, to_json


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads``. pydantic-core refuses a lone surrogate escape (``"\\ud800"``), which
    ``json`` accepts: such text goes to ``json.loads``, as does any text it refuses, so the
    errors are ``json``'s (``ValueError``)."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


# A number a double cannot hold (``1e999``, ``1`` and 400 zeros, 250 digits ``e60``) parses as an
# infinity: only text with a positive exponent or a long run of digits is walked to look for one.
_HUGE_NUMBER = re.compile(rb"\d[eE]\+?\d|\d{300,}")


def loads_strict(text: bytes) -> Any:
    """``loads`` for what clients send: JSON whose every number is a finite double and every
    string is text. ``NaN``, ``Infinity``, numbers beyond a double (``1e999``) and lone
    surrogate escapes (``"\\ud800"``), all of which ``json`` reads, are a ``ValueError``: passed
    on to an upstream, they would make its request body invalid JSON or unencodable."""
    value = from_json(text, allow_inf_nan=False)
    if _HUGE_NUMBER.search(text) and not _all_finite(value):
        raise ValueError("a number is too large for a double")
    return value


def _all_finite(value: Any) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, float):
            if not math.isfinite(item):
                return False
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return True


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON: what ``json.dumps(ensure_ascii=False, separators=(",", ":"))`` writes
    (some float exponents are spelled shorter: ``1e-8``), except where that would not be JSON or
    not UTF-8: a non-finite float is written ``null`` (``json`` writes ``NaN``), and a lone
    surrogate, which an upstream's answer may hold (``"\\ud83d"``), is written ``?``."""
    try:
        return to_json(value, inf_nan_mode="null")
    except PydanticSerializationError:
        return to_json(_utf8_only(value), inf_nan_mode="null")


def _utf8_only(value: Any) -> Any:
    if isinstance(value, str):
        return value.encode("utf-8", "replace").decode("utf-8")
    if isinstance(value, dict):
        return {_utf8_only(k): _utf8_only(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_utf8_only(item) for item in value]
    return value
