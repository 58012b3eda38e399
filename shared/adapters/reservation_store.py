"""Credit reservations in the ledger table: taken with admission, then settled or released.

Each is an item ``RES#<request id>`` beside the account's balance (shared/adapters/ledger_store.py);
docs/CREDITS.md has the life of one.
"""

from __future__ import annotations

import datetime as dt
import zlib
from typing import Any, Literal

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.adapters.ledger_store import (
    BALANCE_SK,
    RES_PREFIX,
    RESERVATION_SHARDS,
    balance_change,
    item_key,
    table_name,
)
from shared.adapters.transactions import transact
from shared.credits.models import Reservation, Take

RESERVATION_TTL = dt.timedelta(days=35)  # settled/released reservations outlive SQS retention (14 d)
_CCF = "ConditionalCheckFailed"


def reservation_shard(request_id: str) -> str:
    """Spreads open reservations over a few index partitions (the sweep queries each)."""
    return str(zlib.crc32(request_id.encode()) % RESERVATION_SHARDS)


def reservation_items(
    account_id: str, request_id: str, cost: int, key_id: str, now_iso: str, *, balance: int | None = None
) -> list[dict[str, Any]]:
    """The two TransactItems of a credit reservation, for admission's one TransactWriteItems.

    Item 0 takes ``cost`` from the balance only if the balance covers it (its
    ``ConditionalCheckFailed`` means insufficient credits); item 1 records the reservation once
    per request id (its ``ConditionalCheckFailed`` means the request id was already used).
    ``now_iso``: ``datetime.now(UTC).isoformat(timespec="milliseconds")``. ``balance`` (at least
    ``cost``): take only if the balance is exactly that (shared/limits/known.py).
    """
    if cost < 1:
        raise ValueError("a reservation is for at least one credit")
    if balance is not None and balance < cost:
        raise ValueError("a stated balance must cover the cost")
    expires_at = int((dt.datetime.fromisoformat(now_iso) + RESERVATION_TTL).timestamp())
    take = {
        "Update": {
            "TableName": table_name(),
            "Key": item_key(account_id, BALANCE_SK),
            "UpdateExpression": "ADD balance :minus_cost",
            "ConditionExpression": "balance >= :cost" if balance is None else "balance = :balance",
            "ExpressionAttributeValues": {
                ":minus_cost": {"N": str(-cost)},
                **({":cost": {"N": str(cost)}} if balance is None else {":balance": {"N": str(balance)}}),
            },
        }
    }
    put = {
        "Put": {
            "TableName": table_name(),
            "Item": _open_reservation(
                account_id, request_id, cost=cost, key_id=key_id, now_iso=now_iso, expires_at=expires_at
            ),
            "ConditionExpression": "attribute_not_exists(sk)",
        }
    }
    return [take, put]


def _open_reservation(
    account_id: str, request_id: str, *, cost: int, key_id: str, now_iso: str, expires_at: int
) -> dict[str, Any]:
    """The reservation item as DynamoDB attribute values, written out: it is built before every
    admission, where boto3's generic serializer took a few times as long (``to_item`` of the same
    fields gives the same item: tests/unit/test_reservation_items.py)."""
    return {
        "account_id": {"S": account_id},
        "sk": {"S": RES_PREFIX + request_id},
        "cost": {"N": str(cost)},
        "state": {"S": "open"},
        "created_at": {"S": now_iso},
        "res_shard": {"S": reservation_shard(request_id)},
        "expires_at": {"N": str(expires_at)},
        "key_id": {"S": key_id},
    }


def get_reservation(account_id: str, request_id: str) -> Reservation | None:
    """The reservation of a request (consistent read), or None."""
    item = (
        dynamodb()
        .get_item(
            TableName=table_name(), Key=item_key(account_id, RES_PREFIX + request_id), ConsistentRead=True
        )
        .get("Item")
    )
    if not item:
        return None
    data = from_item(item)
    return Reservation(
        account_id=account_id,
        request_id=request_id,
        cost=int(data["cost"]),
        state=data["state"],
        created_at=str(data.get("created_at", "")),
        key_id=data.get("key_id"),
    )


def _close(res: Reservation, state: str, at: str, **details: Any) -> dict[str, Any]:
    """The Update flipping an open reservation to ``state``; it also leaves the sweep's index."""
    sets = "".join(f", {name} = :{name}" for name, value in details.items() if value is not None)
    values = {":open": "open", ":state": state, ":at": at, ":cost": res.cost}
    values.update({f":{name}": value for name, value in details.items() if value is not None})
    return {
        "Update": {
            "TableName": table_name(),
            "Key": item_key(res.account_id, RES_PREFIX + res.request_id),
            "UpdateExpression": f"SET #s = :state, closed_at = :at{sets} REMOVE res_shard",
            "ConditionExpression": "#s = :open AND #c = :cost",
            "ExpressionAttributeNames": {"#s": "state", "#c": "cost"},
            "ExpressionAttributeValues": to_item(values),
        }
    }


def release_reservation(res: Reservation, at: str, reason: str) -> bool:
    """Give an open reservation's credits back; False if it was already settled or released."""
    items = [
        _close(res, "released", at, release_reason=reason),
        balance_change(res.account_id, balance=res.cost),
    ]
    return transact(items) is None


def _take_from_lot(account_id: str, take: Take) -> dict[str, Any]:
    """Decrement a live lot. A partial take only needs the credits to still be there, so concurrent
    settlements against one lot do not invalidate each other; emptying it needs the exact amount
    read (and the lot leaves the expiring index)."""
    if take.new_remaining == 0:
        expression, condition = "SET remaining = :z REMOVE exp_shard", "remaining = :n"
    else:
        expression, condition = "ADD remaining :minus", "remaining >= :n"
    values = (
        {":n": take.amount, ":minus": -take.amount} if take.new_remaining else {":n": take.amount, ":z": 0}
    )
    return {
        "Update": {
            "TableName": table_name(),
            "Key": item_key(account_id, take.lot.sk),
            "UpdateExpression": expression,
            "ConditionExpression": condition + " AND attribute_not_exists(expired_at)",
            "ExpressionAttributeValues": to_item(values),
        }
    }


SettleResult = Literal["settled", "closed", "lots_changed"]


def settle_reservation(
    res: Reservation, charge: int, takes: list[Take], uncovered: int, at: str
) -> SettleResult:
    """Close the reservation as settled, take ``charge`` from the lots and give back the rest of
    the reserved cost, in one transaction.

    "closed": it was already settled or released (nothing changed); "lots_changed": a lot moved
    since it was read (nothing changed; read again and retry).
    """
    allocations = {take.lot.lot_id: take.amount for take in takes}
    details = {"charged": charge, "allocations": allocations or None, "uncovered": uncovered or None}
    refund = {"balance": res.cost - charge} if charge < res.cost else {}
    items = [
        _close(res, "settled", at, **details),
        balance_change(res.account_id, consumed=charge, **refund),
        *(_take_from_lot(res.account_id, take) for take in takes),
    ]
    codes = transact(items)
    if codes is None:
        return "settled"
    return "closed" if codes[0] == _CCF else "lots_changed"
