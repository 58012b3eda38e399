"""Rate-limit counters in DynamoDB: conditional increments, alone or in one transaction.

Real DynamoDB cancels concurrent transactions touching the same item with reason
``TransactionConflict``; those are retried here with jittered backoff (moto never produces them,
so the tests inject them).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass
from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.aws_json import AwsError, async_dynamodb
from shared.settings import get_settings

CONFLICT_RETRIES = 4
TTL_GRACE_SECONDS = 120


@dataclass(frozen=True)
class CounterUpdate:
    pk: str
    limit: int
    expires_at: int  # window end + grace: TTL removes the counter after its window


class AdmissionDenied(Exception):
    """Item ``index`` of the admission failed its condition; ``item`` is its current state."""

    def __init__(self, index: int, item: dict[str, Any] | None) -> None:
        super().__init__(f"admission item {index} refused")
        self.index = index
        self.item = item or {}


def _table() -> str:
    return get_settings().limits_table


def _update(counter: CounterUpdate, stated: int | None = None) -> dict[str, Any]:
    """The counter's ``ADD``: on condition that it is under its limit or, with ``stated``, that it
    holds exactly that count now (0: no count yet; shared/limits/known.py)."""
    if stated is None:
        condition, value = "attribute_not_exists(#c) OR #c < :limit", {":limit": {"N": str(counter.limit)}}
    elif stated:
        condition, value = "#c = :count", {":count": {"N": str(stated)}}
    else:
        condition, value = "attribute_not_exists(#c)", {}
    return {
        "TableName": _table(),
        "Key": {"pk": {"S": counter.pk}},
        "UpdateExpression": "ADD #c :one SET expires_at = :ttl",
        "ConditionExpression": condition,
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":ttl": {"N": str(counter.expires_at + TTL_GRACE_SECONDS)},
            **value,
        },
    }


def increment(counter: CounterUpdate) -> int:
    """One counter, one UpdateItem: the new count, or ``AdmissionDenied(0, current item)``."""
    client = dynamodb()
    try:
        result = client.update_item(
            **_update(counter), ReturnValues="UPDATED_NEW", ReturnValuesOnConditionCheckFailure="ALL_OLD"
        )
    except client.exceptions.ConditionalCheckFailedException as exc:
        raise AdmissionDenied(0, exc.response.get("Item")) from exc
    return int(result["Attributes"]["count"]["N"])


def _items(counters: list[CounterUpdate], extra_items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    items = [{"Update": {**_update(c), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for c in counters]
    items.extend(extra_items)
    return items


def _check_cancellation(reasons: list[dict[str, Any]], attempt: int) -> float | None:
    """A cancelled transaction: ``AdmissionDenied`` if a condition failed, else the backoff before
    retrying a ``TransactionConflict``; None when it must not be retried (the caller re-raises)."""
    failed = next((i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"), None)
    if failed is not None:
        raise AdmissionDenied(failed, reasons[failed].get("Item"))
    conflict = any(r.get("Code") == "TransactionConflict" for r in reasons)
    if not conflict or attempt == CONFLICT_RETRIES:
        return None
    return random.uniform(0.005, 0.02) * (2**attempt)


def transact(counters: list[CounterUpdate], extra_items: list[dict[str, Any]]) -> None:
    """All counters and ``extra_items`` (e.g. a credit reservation) in one all-or-nothing transaction."""
    items = _items(counters, extra_items)
    client = dynamodb()
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            client.transact_write_items(TransactItems=items)
            return
        except client.exceptions.TransactionCanceledException as exc:
            delay = _check_cancellation(exc.response.get("CancellationReasons", []), attempt)
            if delay is None:
                raise
            time.sleep(delay)


async def transact_async(counters: list[CounterUpdate], extra_items: list[dict[str, Any]]) -> None:
    """``transact`` on the event loop (shared/adapters/aws_json.py), for the chat hot path.

    Each attempt has its own ``ClientRequestToken``: a transport retry of a transaction whose
    answer was lost is then a no-op at DynamoDB instead of a second count and reservation.
    """
    params: dict[str, Any] = {"TransactItems": _items(counters, extra_items)}
    for attempt in range(CONFLICT_RETRIES + 1):
        params["ClientRequestToken"] = uuid.uuid4().hex
        try:
            await async_dynamodb().call("TransactWriteItems", params)
            return
        except AwsError as error:
            if error.code != "TransactionCanceledException":
                raise
            delay = _check_cancellation(error.body.get("CancellationReasons", []), attempt)
            if delay is None:
                raise
            await asyncio.sleep(delay)


async def transact_stated_async(
    counters: list[CounterUpdate], counts: list[int], extra_items: list[dict[str, Any]]
) -> bool:
    """One transaction conditioned on each counter holding exactly ``counts[i]`` (the caller checks
    them against the limits) and on ``extra_items``' own conditions; False when it was cancelled,
    for any reason: nothing was written, and the caller admits the ordinary way
    (shared/limits/known.py)."""
    params: dict[str, Any] = {
        "TransactItems": [
            {"Update": _update(c, n)} for c, n in zip(counters, counts, strict=True)
        ] + extra_items,
        "ClientRequestToken": uuid.uuid4().hex,
    }  # fmt: skip
    try:
        await async_dynamodb().call("TransactWriteItems", params)
    except AwsError as error:
        if error.code == "TransactionCanceledException":
            return False
        raise
    return True


async def increment_async(counter: CounterUpdate) -> int:
    """``increment`` on the event loop."""
    params = {
        **_update(counter),
        "ReturnValues": "UPDATED_NEW",
        "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
    }
    try:
        result = await async_dynamodb().call("UpdateItem", params)
    except AwsError as error:
        if error.code == "ConditionalCheckFailedException":
            raise AdmissionDenied(0, error.body.get("Item")) from error
        raise
    return int(result["Attributes"]["count"]["N"])


def read_counts(pks: list[str]) -> list[int]:
    """Current counts (strongly consistent), in the order asked."""
    client = dynamodb()
    response = client.batch_get_item(
        RequestItems={_table(): {"Keys": [{"pk": {"S": pk}} for pk in pks], "ConsistentRead": True}}
    )
    found = {
        i["pk"]["S"]: int(i.get("count", {}).get("N", "0")) for i in response["Responses"].get(_table(), [])
    }
    return [found.get(pk, 0) for pk in pks]


def item_count(item: dict[str, Any]) -> int:
    return int(item.get("count", {}).get("N", "0"))
