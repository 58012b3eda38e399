"""Deterministic placeholder values for a JSON schema.

Used for tool-call arguments and ``json_schema`` replies: required properties are filled with
simple typed values (string "sample", number 1, boolean true, the first enum value, nested
objects recursively), so the result validates against the schema for the usual cases.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

Schema = Mapping[str, Any]
MAX_DEPTH = 16
_STRING_FORMATS = {
    "date": "2025-01-01",
    "date-time": "2025-01-01T00:00:00Z",
    "time": "00:00:00Z",
    "email": "sample@example.com",
    "uri": "https://example.com/sample",
    "uuid": "00000000-0000-4000-8000-000000000000",
}


def placeholder_value(schema: Schema) -> Any:
    """A value valid against ``schema`` (local ``$ref`` pointers are resolved against it).

    Raises ``ValueError`` for a schema it cannot satisfy or read (a remote ``$ref``, an unknown
    type, a keyword of the wrong shape): schemas come from clients, so they may be anything.
    """
    try:
        return _value(schema, schema, 0)
    except (TypeError, AttributeError, KeyError, IndexError) as error:
        raise ValueError(f"malformed JSON schema ({type(error).__name__}: {error})") from error


def _value(schema: Schema, root: Schema, depth: int) -> Any:
    if depth > MAX_DEPTH:
        return None
    if (chosen := _subschema(schema, root)) is not None:
        return _value(chosen, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    kind = _type_of(schema)
    if kind not in _BUILDERS:
        raise ValueError(f"unsupported JSON schema type {kind!r}")
    return _BUILDERS[kind](schema, root, depth)


def _subschema(schema: Schema, root: Schema) -> Schema | None:
    """The schema to satisfy instead: a ``$ref`` target, the first alternative, or merged ``allOf``."""
    if "$ref" in schema:
        return _resolve(root, schema["$ref"])
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return schema[key][0]
    return _merge(schema) if schema.get("allOf") else None


def _resolve(root: Schema, ref: str) -> Schema:
    if not ref.startswith("#"):
        raise ValueError(f"only local $ref pointers are supported, got {ref!r}")
    node: Any = root
    for segment in filter(None, ref[1:].split("/")):
        key = segment.replace("~1", "/").replace("~0", "~")
        if not isinstance(node, Mapping) or key not in node:
            raise ValueError(f"unresolvable $ref {ref!r}")
        node = node[key]
    return node


def _merge(schema: Schema) -> Schema:
    merged: dict[str, Any] = {key: value for key, value in schema.items() if key != "allOf"}
    for part in schema["allOf"]:
        merged.setdefault("properties", {}).update(part.get("properties", {}))
        merged["required"] = [*merged.get("required", []), *part.get("required", [])]
        merged.update({key: value for key, value in part.items() if key not in {"properties", "required"}})
    return merged


def _type_of(schema: Schema) -> str:
    declared = schema.get("type")
    if isinstance(declared, list):
        declared = next((name for name in declared if name != "null"), "null")
    if isinstance(declared, str):
        return declared
    if "properties" in schema:
        return "object"
    if "items" in schema:
        return "array"
    return "string"


def _object(schema: Schema, root: Schema, depth: int) -> dict[str, Any]:
    properties = schema.get("properties", {})
    return {name: _value(properties.get(name, {}), root, depth + 1) for name in schema.get("required", [])}


def _array(schema: Schema, root: Schema, depth: int) -> list[Any]:
    count = max(int(schema.get("minItems", 1)), 0)
    if schema.get("maxItems") == 0:
        count = 0
    item = _value(schema.get("items", {}), root, depth + 1)
    return [item] * count


def _string(schema: Schema, _root: Schema, _depth: int) -> str:
    text = _STRING_FORMATS.get(schema.get("format", ""), "sample")
    minimum = int(schema.get("minLength", 0))
    text = text.ljust(minimum, "x")
    return text[: schema["maxLength"]] if "maxLength" in schema else text


def _number(schema: Schema, _root: Schema, _depth: int) -> int | float:
    value: int | float = 1
    if "minimum" in schema:
        value = max(value, schema["minimum"])
    if "exclusiveMinimum" in schema and value <= schema["exclusiveMinimum"]:
        value = schema["exclusiveMinimum"] + 1
    if "maximum" in schema:
        value = min(value, schema["maximum"])
    if "exclusiveMaximum" in schema and value >= schema["exclusiveMaximum"]:
        value = schema["exclusiveMaximum"] - 1
    return value


def _integer(schema: Schema, root: Schema, depth: int) -> int:
    return int(_number(schema, root, depth))


_BUILDERS: dict[str, Callable[[Schema, Schema, int], Any]] = {
    "object": _object,
    "array": _array,
    "string": _string,
    "number": _number,
    "integer": _integer,
    "boolean": lambda _schema, _root, _depth: True,
    "null": lambda _schema, _root, _depth: None,
}
