"""The ledger table: balance item, lots and idempotency markers (docs/CREDITS.md).

Reservations, the table's third kind of item, are in shared/adapters/reservation_store.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.credits.models import Lot
from shared.settings import get_settings

BALANCE_SK = "BALANCE"
LOT_PREFIX = "LOT#"
RES_PREFIX = "RES#"
EXPIRING_SHARD = "LOT"  # sparse index `expiring`: set only on lots with an expiry, not yet expired
RESERVATION_SHARDS = 8  # sparse index `open_reservations`: set only while a reservation is open


def table_name() -> str:
    """The ledger table's name."""
    return get_settings().ledger_table


def item_key(account_id: str, sk: str) -> dict[str, Any]:
    """The ledger table's key of one item."""
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
    table = table_name()
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
        "exp_shard": EXPIRING_SHARD if expires_at else None,
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
                "Key": item_key(account_id, BALANCE_SK),
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
    """Credits available now (consistent read)."""
    return balance_counters(account_id)["balance"]


def balance_change(account_id: str, *, at_least: int | None = None, **counters: int) -> dict[str, Any]:
    """A TransactItem ADDing ``counters`` (balance, consumed, expired) to the BALANCE item.

    With ``at_least``, only if the balance is at least that much beforehand.
    """
    names = {f"#c{i}": name for i, name in enumerate(counters)}
    values = {f":c{i}": value for i, value in enumerate(counters.values())}
    update: dict[str, Any] = {
        "TableName": table_name(),
        "Key": item_key(account_id, BALANCE_SK),
        "UpdateExpression": "ADD " + ", ".join(f"{name} {name.replace('#', ':')}" for name in names),
    }
    if at_least is not None:
        names["#bal"], values[":at_least"] = "balance", at_least
        update["ConditionExpression"] = "#bal >= :at_least"
    update["ExpressionAttributeNames"] = names
    update["ExpressionAttributeValues"] = to_item(values)
    return {"Update": update}


def _lot(item: dict[str, Any]) -> Lot:
    data = from_item(item)
    return Lot(
        sk=data["sk"],
        lot_id=data["lot_id"],
        amount=int(data["amount"]),
        remaining=int(data["remaining"]),
        source=str(data.get("source", "")),
        created_at=str(data.get("created_at", "")),
        expiry=data.get("expiry"),
        expired_at=data.get("expired_at"),
        reference=data.get("reference"),
    )


def iter_lots(account_id: str, *, live_only: bool = False) -> Iterator[Lot]:
    """The account's lots in sort-key order (soonest-expiring first), read consistently, page by page."""
    kwargs: dict[str, Any] = {
        "TableName": table_name(),
        "KeyConditionExpression": "account_id = :a AND begins_with(sk, :p)",
        "ExpressionAttributeValues": {":a": {"S": account_id}, ":p": {"S": LOT_PREFIX}},
        "ConsistentRead": True,
    }
    if live_only:
        kwargs["FilterExpression"] = "remaining > :z AND attribute_not_exists(expired_at)"
        kwargs["ExpressionAttributeValues"][":z"] = {"N": "0"}
    while True:
        page = dynamodb().query(**kwargs)
        yield from (_lot(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def balance_counters(account_id: str) -> dict[str, int]:
    """The BALANCE item's counters: balance, consumed, expired (0 when absent)."""
    item = (
        dynamodb()
        .get_item(TableName=table_name(), Key=item_key(account_id, BALANCE_SK), ConsistentRead=True)
        .get("Item")
    )
    data = from_item(item) if item else {}
    return {name: int(data.get(name, 0)) for name in ("balance", "consumed", "expired")}
