"""After admission: bucket counts (for X-RateLimit-*) and the balance (for X-Credits-Remaining)
in one strongly consistent BatchGetItem across the limits and ledger tables, on the event loop."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws_json import AwsError, async_dynamodb
from shared.settings import get_settings

UNPROCESSED_ROUNDS = 3  # DynamoDB may leave keys unprocessed under load; ask again for those


async def counts_and_balance(bucket_pks: list[str], account_id: str | None) -> tuple[list[int], int | None]:
    settings = get_settings()
    request: dict[str, Any] = {}
    if bucket_pks:
        request[settings.limits_table] = {
            "Keys": [{"pk": {"S": pk}} for pk in bucket_pks],
            "ConsistentRead": True,
        }
    if account_id:
        key = {"account_id": {"S": account_id}, "sk": {"S": "BALANCE"}}
        request[settings.ledger_table] = {"Keys": [key], "ConsistentRead": True}
    if not request:
        return [], None
    found: dict[str, list[dict[str, Any]]] = {}
    for _ in range(UNPROCESSED_ROUNDS):
        answer = await async_dynamodb().call("BatchGetItem", {"RequestItems": request})
        for table, items in answer.get("Responses", {}).items():
            found.setdefault(table, []).extend(items)
        request = answer.get("UnprocessedKeys") or {}
        if not request:
            break
    else:
        raise AwsError("BatchGetItem", 0, "UnprocessedKeys", "keys left unprocessed", {})
    counts = {
        i["pk"]["S"]: int(i.get("count", {}).get("N", "0")) for i in found.get(settings.limits_table, [])
    }
    balance_items = found.get(settings.ledger_table, [])
    balance = (
        int(balance_items[0].get("balance", {}).get("N", "0"))
        if balance_items
        else (0 if account_id else None)
    )
    return [counts.get(pk, 0) for pk in bucket_pks], balance
