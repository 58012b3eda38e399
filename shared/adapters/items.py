"""Plain dicts <-> DynamoDB attribute-value maps (for the low-level client, which is faster)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


# DynamoDB's numbers: 38 significant digits (a float's shortest spelling has at most 17), and a
# magnitude from 1E-130 to under 1E+126.
SMALLEST = Decimal("1E-130")
LARGEST = Decimal("1E+126")


def _number(value: float) -> Decimal:
    """A float as DynamoDB can hold it: one smaller in magnitude than DynamoDB's smallest number
    (a validated 0-2 temperature of 2.2e-313 is one) is stored as 0, as a float that small rounds
    to 0 anywhere; one too large has no such rounding, and is refused (no validated field allows
    it)."""
    number = Decimal(str(value))
    if number.is_finite() and abs(number) < SMALLEST:
        return Decimal(0)
    if not number.is_finite() or abs(number) >= LARGEST:
        raise ValueError(f"{value!r} is out of DynamoDB's number range")
    return number


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return _number(value)
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    return value


def to_item(data: dict[str, Any]) -> dict[str, Any]:
    """None values are left out (DynamoDB has no use for them)."""
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in data.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in item.items()}
