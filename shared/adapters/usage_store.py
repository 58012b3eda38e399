"""The usage table: per-request records, aggregates, and the outbox of unsent usage events."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.adapters.transactions import transact
from shared.settings import get_settings
from shared.usage.aggregates import Counter

OUTBOX_PK = "OUTBOX"


def _table() -> str:
    return get_settings().usage_table


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


def _counter_update(table: str, counter: Counter) -> dict[str, Any]:
    """ADD the counter's values, SET its labels (and TTL); placeholders are indexed (#n0, :v0)."""
    fields = [*counter.values.items(), *counter.labels.items()]
    names = {f"#n{i}": name for i, (name, _) in enumerate(fields)}
    values: dict[str, Any] = {f":v{i}": value for i, (_, value) in enumerate(fields)}
    adds = [f"#n{i} :v{i}" for i in range(len(counter.values))]
    sets = [f"#n{i} = :v{i}" for i in range(len(counter.values), len(fields))]
    if counter.expires_at is not None:
        sets.append("expires_at = :ttl")
        values[":ttl"] = counter.expires_at
    expression = "ADD " + ", ".join(adds) + (" SET " + ", ".join(sets) if sets else "")
    return {
        "Update": {
            "TableName": table,
            "Key": _key(counter.pk, counter.sk),
            "UpdateExpression": expression,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": to_item(values),
        }
    }


def record_once(
    seen: tuple[str, str], seen_ttl: int, record: dict[str, Any], counters: list[Counter]
) -> bool:
    """Write the marker, the record and every counter in one transaction; False if already seen."""
    table = _table()
    marker = {"pk": seen[0], "sk": seen[1], "expires_at": seen_ttl}
    once = {"TableName": table, "Item": to_item(marker), "ConditionExpression": "attribute_not_exists(pk)"}
    items = [
        {"Put": once},
        {"Put": {"TableName": table, "Item": to_item(record)}},
        *(_counter_update(table, counter) for counter in counters),
    ]
    return transact(items) is None


def query_range(pk: str, low: str, high: str) -> list[dict[str, Any]]:
    """Items of ``pk`` with ``low <= sk <= high``, in order."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND sk BETWEEN :lo AND :hi",
        "ExpressionAttributeValues": to_item({":pk": pk, ":lo": low, ":hi": high}),
    }
    items: list[dict[str, Any]] = []
    while True:
        page = dynamodb().query(**kwargs)
        items.extend(from_item(item) for item in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return items
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def get(pk: str, sk: str) -> dict[str, Any] | None:
    """One item of the usage table, or None."""
    item = dynamodb().get_item(TableName=_table(), Key=_key(pk, sk)).get("Item")
    return from_item(item) if item else None


def put_outbox(request_id: str, body: str) -> None:
    """Keep an event that could not be sent; the scheduled job sends it later."""
    item = {
        "pk": OUTBOX_PK,
        "sk": request_id,
        "body": body,
        "created_at": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds"),
    }
    dynamodb().put_item(TableName=_table(), Item=to_item(item))


def list_outbox(limit: int) -> list[tuple[str, str]]:
    """``(request_id, body)`` of pending events, at most ``limit``."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": OUTBOX_PK}},
        "ConsistentRead": True,
    }
    found: list[tuple[str, str]] = []
    while len(found) < limit:
        page = dynamodb().query(**kwargs)
        found.extend((i["sk"]["S"], i["body"]["S"]) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return found[:limit]


def delete_outbox(request_id: str) -> None:
    """Forget an outbox event once it was sent."""
    dynamodb().delete_item(TableName=_table(), Key=_key(OUTBOX_PK, request_id))
