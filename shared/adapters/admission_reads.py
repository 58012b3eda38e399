"""After admission: bucket counts (for X-RateLimit-*) and the balance (for X-Credits-Remaining)
in one BatchGetItem across the limits and ledger tables."""

from __future__ import annotations

from shared.adapters.aws import dynamodb
from shared.settings import get_settings


def counts_and_balance(bucket_pks: list[str], account_id: str | None) -> tuple[list[int], int | None]:
    settings = get_settings()
    request: dict = {}
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
    responses = dynamodb().batch_get_item(RequestItems=request)["Responses"]
    counts = {
        i["pk"]["S"]: int(i.get("count", {}).get("N", "0")) for i in responses.get(settings.limits_table, [])
    }
    balance_items = responses.get(settings.ledger_table, [])
    balance = (
        int(balance_items[0].get("balance", {}).get("N", "0"))
        if balance_items
        else (0 if account_id else None)
    )
    return [counts.get(pk, 0) for pk in bucket_pks], balance
