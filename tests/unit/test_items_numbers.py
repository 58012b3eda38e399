"""shared/adapters/items.py: floats become numbers DynamoDB accepts, so a validated value never
fails as a write (a random fuzz run sent a tool temperature of 2.2250738585e-313, within 0-2,
and the write failed with a 500)."""

from __future__ import annotations

import math
from decimal import Decimal

import pytest
from boto3.dynamodb.types import DYNAMODB_CONTEXT

from shared.adapters.items import from_item, to_item


@pytest.mark.parametrize("tiny", [2.2250738585e-313, 5e-324, -1e-200, 1e-131])
def test_a_float_too_small_for_dynamodb_is_stored_as_zero(tiny: float) -> None:
    item = to_item({"temperature": tiny})

    assert item == {"temperature": {"N": "0"}}
    assert from_item(item) == {"temperature": 0}


@pytest.mark.parametrize("value", [0.7, 2.0, 1e-130, -3.25, 1.5e125, 0.1 + 0.2])
def test_floats_in_range_keep_their_shortest_spelling(value: float) -> None:
    item = to_item({"v": value})

    assert Decimal(item["v"]["N"]) == Decimal(repr(value))
    assert float(from_item(item)["v"]) == value  # an integral one comes back an int
    DYNAMODB_CONTEXT.create_decimal(item["v"]["N"])  # what boto3 would raise on, DynamoDB's limits


@pytest.mark.parametrize("huge", [1e126, -1e300, math.inf, math.nan])
def test_a_float_dynamodb_cannot_hold_is_refused_by_name(huge: float) -> None:
    with pytest.raises(ValueError, match="out of DynamoDB's number range"):
        to_item({"v": huge})


def test_nested_floats_are_converted_too() -> None:
    item = to_item({"doc": {"a": [1e-300, 0.5]}})

    assert item == {"doc": {"M": {"a": {"L": [{"N": "0"}, {"N": "0.5"}]}}}}
