"""Rate-limit counters in DynamoDB: conditional increments, alone or in one transaction.

Real DynamoDB cancels concurrent transactions touching the same item with reason
``TransactionConflict``; those are retried here with jittered backoff (moto never produces them,
so the tests inject them).
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any

from shared.adapters.aws import dynamodb
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


def _update(counter: CounterUpdate) -> dict[str, Any]:
    return {
        "TableName": _table(),
        "Key": {"pk": {"S": counter.pk}},
        "UpdateExpression": "ADD #c :one SET expires_at = :ttl",
        "ConditionExpression": "attribute_not_exists(#c) OR #c < :limit",
        "ExpressionAttributeNames": {"#c": "count"},
        "ExpressionAttributeValues": {
            ":one": {"N": "1"},
            ":limit": {"N": str(counter.limit)},
            ":ttl": {"N": str(counter.expires_at + TTL_GRACE_SECONDS)},
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


def transact(counters: list[CounterUpdate], extra_items: list[dict[str, Any]]) -> None:
    """All counters and ``extra_items`` (e.g. a credit reservation) in one all-or-nothing transaction."""
    items = [{"Update": {**_update(c), "ReturnValuesOnConditionCheckFailure": "ALL_OLD"}} for c in counters]
    items.extend(extra_items)
    client = dynamodb()
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            client.transact_write_items(TransactItems=items)
            return
        except client.exceptions.TransactionCanceledException as exc:
            reasons = exc.response.get("CancellationReasons", [])
            failed = next(
                (i for i, r in enumerate(reasons) if r.get("Code") == "ConditionalCheckFailed"), None
            )
            if failed is not None:
                raise AdmissionDenied(failed, reasons[failed].get("Item")) from exc
            conflict = any(r.get("Code") == "TransactionConflict" for r in reasons)
            if not conflict or attempt == CONFLICT_RETRIES:
                raise
            time.sleep(random.uniform(0.005, 0.02) * (2**attempt))


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
