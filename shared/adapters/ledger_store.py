"""The ledger table: balance item, lots and idempotency markers."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import to_item
from shared.settings import get_settings

BALANCE_SK = "BALANCE"


def _table() -> str:
    return get_settings().ledger_table


def _key(account_id: str, sk: str) -> dict[str, Any]:
    return {"account_id": {"S": account_id}, "sk": {"S": sk}}


def add_lot(
    *,
    account_id: str,
    sort_key: str,
    lot_id: str,
    amount: int,
    source: str,
    reference: str,
    created_at: str,
    expires_at: str | None,
) -> bool:
    """Write the lot, its grant marker and the balance in one transaction; False if already granted."""
    table = _table()
    lot = {
        "account_id": account_id,
        "sk": sort_key,
        "lot_id": lot_id,
        "amount": amount,
        "remaining": amount,
        "source": source,
        "reference": reference,
        "created_at": created_at,
        "expiry": expires_at,
    }
    items = [
        {
            "Put": {
                "TableName": table,
                "Item": to_item({"account_id": account_id, "sk": f"GRANT#{reference}", "lot_id": lot_id}),
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        },
        {
            "Put": {
                "TableName": table,
                "Item": to_item(lot),
                "ConditionExpression": "attribute_not_exists(sk)",
            }
        },
        {
            "Update": {
                "TableName": table,
                "Key": _key(account_id, BALANCE_SK),
                "UpdateExpression": "ADD balance :a",
                "ExpressionAttributeValues": {":a": {"N": str(amount)}},
            }
        },
    ]
    client = dynamodb()
    try:
        client.transact_write_items(TransactItems=items)
    except client.exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons", [])
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True


def get_balance(account_id: str) -> int:
    item = (
        dynamodb()
        .get_item(TableName=_table(), Key=_key(account_id, BALANCE_SK), ConsistentRead=True)
        .get("Item")
    )
    return int(item["balance"]["N"]) if item and "balance" in item else 0
