"""The ledger table: balance item, lots, reservations and idempotency markers (docs/CREDITS.md)."""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Iterator
from typing import Any, Literal

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.adapters.transactions import transact
from shared.credits.models import Lot, Reservation, Take
from shared.settings import get_settings

BALANCE_SK = "BALANCE"
LOT_PREFIX = "LOT#"
RES_PREFIX = "RES#"
EXPIRING_SHARD = "LOT"  # sparse index `expiring`: set only on lots with an expiry, not yet expired
RESERVATION_SHARDS = 8  # sparse index `open_reservations`: set only while a reservation is open
RESERVATION_TTL = dt.timedelta(days=35)  # settled/released reservations outlive SQS retention (14 d)
_CCF = "ConditionalCheckFailed"


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


def reservation_shard(request_id: str) -> str:
    """Spreads open reservations over a few index partitions (the sweep queries each)."""
    return str(zlib.crc32(request_id.encode()) % RESERVATION_SHARDS)


def reservation_items(
    account_id: str, request_id: str, cost: int, key_id: str, now_iso: str
) -> list[dict[str, Any]]:
    """The two TransactItems of a credit reservation, for admission's one TransactWriteItems.

    Item 0 takes ``cost`` from the balance only if the balance covers it (its
    ``ConditionalCheckFailed`` means insufficient credits); item 1 records the reservation once
    per request id (its ``ConditionalCheckFailed`` means the request id was already used).
    ``now_iso``: ``datetime.now(UTC).isoformat(timespec="milliseconds")``.
    """
    if cost < 1:
        raise ValueError("a reservation is for at least one credit")
    expires = dt.datetime.fromisoformat(now_iso) + RESERVATION_TTL
    reservation = {
        "account_id": account_id,
        "sk": RES_PREFIX + request_id,
        "cost": cost,
        "state": "open",
        "created_at": now_iso,
        "key_id": key_id,
        "res_shard": reservation_shard(request_id),
        "expires_at": int(expires.timestamp()),
    }
    take = {
        "Update": {
            "TableName": table_name(),
            "Key": item_key(account_id, BALANCE_SK),
            "UpdateExpression": "ADD balance :minus_cost",
            "ConditionExpression": "balance >= :cost",
            "ExpressionAttributeValues": {":minus_cost": {"N": str(-cost)}, ":cost": {"N": str(cost)}},
        }
    }
    put = {
        "Put": {
            "TableName": table_name(),
            "Item": to_item(reservation),
            "ConditionExpression": "attribute_not_exists(sk)",
        }
    }
    return [take, put]


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
