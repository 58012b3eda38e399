"""The ledger's scheduled work, found through sparse indexes instead of table scans.

- ``expiring`` (``exp_shard``, ``expiry``): lots that have an expiry and still hold credits.
- ``open_reservations`` (``res_shard``, ``created_at``): reservations not yet settled or released.
Each attribute is set only while the item needs the job, so the indexes stay small.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import to_item
from shared.adapters.ledger_store import (
    EXPIRING_SHARD,
    RES_PREFIX,
    RESERVATION_SHARDS,
    balance_change,
    item_key,
    table_name,
)
from shared.adapters.transactions import transact
from shared.credits.models import Lot, Take

EXPIRING_INDEX = "expiring"
OPEN_RESERVATIONS_INDEX = "open_reservations"
EXP_PREFIX = "EXP#"


def _query(kwargs: dict[str, Any], limit: int) -> Iterator[dict[str, Any]]:
    seen = 0
    while True:
        page = dynamodb().query(**kwargs)
        for item in page.get("Items", []):
            yield item
            seen += 1
            if seen >= limit:
                return
        if "LastEvaluatedKey" not in page:
            return
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def accounts_with_due_lots(now_iso: str, limit: int) -> list[str]:
    """Accounts holding a lot whose expiry is at or before ``now_iso`` (soonest first, distinct)."""
    kwargs = {
        "TableName": table_name(),
        "IndexName": EXPIRING_INDEX,
        "KeyConditionExpression": "exp_shard = :s AND expiry <= :now",
        "ExpressionAttributeValues": {":s": {"S": EXPIRING_SHARD}, ":now": {"S": now_iso}},
    }
    accounts: dict[str, None] = {}
    for item in _query(kwargs, limit):
        accounts[item["account_id"]["S"]] = None
    return list(accounts)


def stale_reservations(cutoff_iso: str, limit: int) -> list[tuple[str, str]]:
    """``(account_id, request_id)`` of reservations still open and created before ``cutoff_iso``."""
    found: list[tuple[str, str]] = []
    for shard in range(RESERVATION_SHARDS):
        kwargs = {
            "TableName": table_name(),
            "IndexName": OPEN_RESERVATIONS_INDEX,
            "KeyConditionExpression": "res_shard = :s AND created_at < :cut",
            "ExpressionAttributeValues": {":s": {"S": str(shard)}, ":cut": {"S": cutoff_iso}},
        }
        for item in _query(kwargs, limit - len(found)):
            found.append((item["account_id"]["S"], item["sk"]["S"].removeprefix(RES_PREFIX)))
        if len(found) >= limit:
            break
    return found


def _expire_lot(account_id: str, take: Take, at: str) -> dict[str, Any]:
    """Take what expires out of the lot; a lot expired to zero leaves the expiring index."""
    done = take.new_remaining == 0
    expression = "SET remaining = :new" + (", expired_at = :at REMOVE exp_shard" if done else "")
    values: dict[str, Any] = {":new": take.new_remaining, ":seen": take.lot.remaining}
    if done:
        values[":at"] = at
    return {
        "Update": {
            "TableName": table_name(),
            "Key": item_key(account_id, take.lot.sk),
            "UpdateExpression": expression,
            "ConditionExpression": "remaining = :seen AND attribute_not_exists(expired_at)",
            "ExpressionAttributeValues": to_item(values),
        }
    }


def _expiry_entry(account_id: str, take: Take, at: str) -> dict[str, Any]:
    """``EXP#<lot_id>``: the ledger entry of what expired (ADD: a partial expiry adds to it)."""
    return {
        "Update": {
            "TableName": table_name(),
            "Key": item_key(account_id, EXP_PREFIX + take.lot.lot_id),
            "UpdateExpression": "ADD #amt :e SET lot_sk = :sk, lot_source = :src, lot_expiry = :exp, "
            "expired_at = :at",
            "ExpressionAttributeNames": {"#amt": "amount"},
            "ExpressionAttributeValues": to_item(
                {
                    ":e": take.amount,
                    ":sk": take.lot.sk,
                    ":src": take.lot.source,
                    ":exp": take.lot.expiry,
                    ":at": at,
                }
            ),
        }
    }


def expire(account_id: str, plan: list[Take], at: str) -> bool:
    """Expire the planned amounts and lower the balance by their total, all or nothing.

    Each lot is conditioned on the ``remaining`` that was read, so a second (or concurrent) run
    changes nothing; the balance is conditioned never to go below zero. False when a condition
    failed (read again and re-plan).
    """
    total = sum(take.amount for take in plan)
    items: list[dict[str, Any]] = []
    for take in plan:
        items.append(_expire_lot(account_id, take, at))
        items.append(_expiry_entry(account_id, take, at))
    items.append(balance_change(account_id, at_least=total, balance=-total, expired=total))
    return transact(items) is None


def unindex(account_id: str, lot: Lot) -> None:
    """Drop a used-up lot from the expiring index (only if it is still used up)."""
    client = dynamodb()
    with contextlib.suppress(client.exceptions.ConditionalCheckFailedException):
        client.update_item(
            TableName=table_name(),
            Key=item_key(account_id, lot.sk),
            UpdateExpression="REMOVE exp_shard",
            ConditionExpression="remaining <= :z",
            ExpressionAttributeValues={":z": {"N": "0"}},
        )
