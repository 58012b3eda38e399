"""API key records in the keys table, keyed by sha256 of the raw key."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.keys.models import ApiKeyRecord
from shared.settings import get_settings


def _table() -> str:
    return get_settings().keys_table


def put_key(record: ApiKeyRecord) -> None:
    dynamodb().put_item(
        TableName=_table(),
        Item=to_item(record.model_dump()),
        ConditionExpression="attribute_not_exists(key_hash)",
    )


def get_key_by_hash(digest: str) -> ApiKeyRecord | None:
    item = dynamodb().get_item(TableName=_table(), Key={"key_hash": {"S": digest}}).get("Item")
    return ApiKeyRecord.model_validate(from_item(item)) if item else None


def list_account_keys(account_id: str) -> list[ApiKeyRecord]:
    records: list[ApiKeyRecord] = []
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "IndexName": "by_account",
        "KeyConditionExpression": "account_id = :a",
        "ExpressionAttributeValues": {":a": {"S": account_id}},
    }
    while True:
        page = dynamodb().query(**kwargs)
        records.extend(ApiKeyRecord.model_validate(from_item(i)) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return records
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def set_key_status(digest: str, status: str, at: str) -> None:
    dynamodb().update_item(
        TableName=_table(),
        Key={"key_hash": {"S": digest}},
        UpdateExpression="SET #s = :s, revoked_at = :t",
        ConditionExpression="attribute_exists(key_hash)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}, ":t": {"S": at}},
    )


def set_key_plan(digest: str, plan: str) -> None:
    dynamodb().update_item(
        TableName=_table(),
        Key={"key_hash": {"S": digest}},
        UpdateExpression="SET #p = :p",
        ConditionExpression="attribute_exists(key_hash)",
        ExpressionAttributeNames={"#p": "plan"},
        ExpressionAttributeValues={":p": {"S": plan}},
    )


def touch_last_used(digest: str, at: str, not_after: str) -> None:
    """Record use at most once a minute a key: the condition skips writes newer than ``not_after``."""
    try:
        dynamodb().update_item(
            TableName=_table(),
            Key={"key_hash": {"S": digest}},
            UpdateExpression="SET last_used_at = :t",
            ConditionExpression="attribute_exists(key_hash) AND "
            "(attribute_not_exists(last_used_at) OR last_used_at < :cut)",
            ExpressionAttributeValues={":t": {"S": at}, ":cut": {"S": not_after}},
        )
    except dynamodb().exceptions.ConditionalCheckFailedException:
        pass
