"""API key records in the keys table, keyed by sha256 of the raw key.

The account's count of active keys is the attribute ``active_keys`` of its item in the accounts
table. Creating and revoking a key change it in the same transaction as the key; reissuing one
(a new key and the old one revoked, in one transaction) needs it but leaves it unchanged
(docs/AUTH.md).
"""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.adapters.transactions import transact
from shared.keys.models import ApiKeyRecord
from shared.settings import get_settings


def _table() -> str:
    return get_settings().keys_table


def _account(account_id: str) -> dict[str, Any]:
    return {"account_id": {"S": account_id}}


def _put_new(record: ApiKeyRecord) -> dict[str, Any]:
    """A transaction item writing a new key (its hash is not stored yet)."""
    item = to_item(record.model_dump())
    return {
        "Put": {"TableName": _table(), "Item": item, "ConditionExpression": "attribute_not_exists(key_hash)"}
    }


def put_key_counted(record: ApiKeyRecord, cap: int) -> list[str] | None:
    """Write a new active key and add one to its account's ``active_keys``, only while that is
    below ``cap``: None when committed, else the transaction's codes (key, counter). The counter's
    condition fails when it is at the cap, and also when it is missing (not initialised yet)."""
    return transact(
        [
            _put_new(record),
            {
                "Update": {
                    "TableName": get_settings().accounts_table,
                    "Key": _account(record.account_id),
                    "UpdateExpression": "SET active_keys = active_keys + :one",
                    "ConditionExpression": "active_keys < :cap",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":cap": {"N": str(cap)}},
                }
            },
        ]
    )


def _revoke_active(record: ApiKeyRecord, at: str) -> dict[str, Any]:
    """A transaction item revoking the key on condition it is still active."""
    return {
        "Update": {
            "TableName": _table(),
            "Key": {"key_hash": {"S": record.key_hash}},
            "UpdateExpression": "SET #s = :revoked, revoked_at = :t",
            "ConditionExpression": "attribute_exists(key_hash) AND #s = :active",
            "ExpressionAttributeNames": {"#s": "status"},
            "ExpressionAttributeValues": {
                ":revoked": {"S": "revoked"},
                ":active": {"S": "active"},
                ":t": {"S": at},
            },
        }
    }


def revoke_key_counted(record: ApiKeyRecord, at: str) -> list[str] | None:
    """Revoke a key that is still active and take one from its account's ``active_keys``, in one
    transaction: None when committed, else the codes (key: already revoked or gone; counter:
    missing). A key that was already revoked frees nothing."""
    return transact(
        [
            _revoke_active(record, at),
            {
                "Update": {
                    "TableName": get_settings().accounts_table,
                    "Key": _account(record.account_id),
                    "UpdateExpression": "SET active_keys = active_keys - :one",
                    "ConditionExpression": "attribute_exists(active_keys)",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )


def reissue_key_counted(
    old: ApiKeyRecord, new: ApiKeyRecord, at: str, *, moves_default: bool
) -> list[str] | None:
    """Write ``new`` and revoke ``old`` (still active) in one transaction, leaving ``active_keys``
    as it is but requiring it to exist, and, when ``moves_default``, pointing the account's default
    from ``old`` to ``new`` (on condition it is still ``old``). None when committed, else the codes
    (new key: hash taken; old key: revoked or gone; account: no counter, or the default moved)."""
    account: dict[str, Any] = {
        "TableName": get_settings().accounts_table,
        "Key": _account(old.account_id),
        "ConditionExpression": "attribute_exists(active_keys)",
    }
    if moves_default:
        account["UpdateExpression"] = "SET default_key_id = :new"
        account["ConditionExpression"] += " AND default_key_id = :old"
        account["ExpressionAttributeValues"] = {":new": {"S": new.key_id}, ":old": {"S": old.key_id}}
    return transact(
        [
            _put_new(new),
            _revoke_active(old, at),
            {"Update": account} if moves_default else {"ConditionCheck": account},
        ]
    )


def active_key_count(account_id: str) -> int | None:
    """The account's ``active_keys`` (a consistent read); None when it has none yet."""
    item = (
        dynamodb()
        .get_item(
            TableName=get_settings().accounts_table,
            Key=_account(account_id),
            ConsistentRead=True,
            ProjectionExpression="account_id, active_keys",
        )
        .get("Item")
    )
    return int(item["active_keys"]["N"]) if item and "active_keys" in item else None


def initialise_active_keys(account_id: str, count: int) -> bool:
    """Set ``active_keys`` to ``count`` unless it is set already (of two initialisations, one
    wins). True when the account now has the counter, False when the account does not exist."""
    try:
        dynamodb().update_item(
            TableName=get_settings().accounts_table,
            Key=_account(account_id),
            UpdateExpression="SET active_keys = :n",
            ConditionExpression="attribute_exists(account_id) AND attribute_not_exists(active_keys)",
            ExpressionAttributeValues={":n": {"N": str(count)}},
        )
    except dynamodb().exceptions.ConditionalCheckFailedException:
        return active_key_count(account_id) is not None
    return True


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
