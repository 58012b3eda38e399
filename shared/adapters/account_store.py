"""Account records."""

from __future__ import annotations

from typing import Any

from shared.accounts.models import Account
from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.settings import get_settings


def _table() -> str:
    return get_settings().accounts_table


def create_account(account: Account) -> bool:
    """Create the account once; False if it already existed."""
    try:
        dynamodb().put_item(
            TableName=_table(),
            Item=to_item(account.model_dump(mode="json")),
            ConditionExpression="attribute_not_exists(account_id)",
        )
    except dynamodb().exceptions.ConditionalCheckFailedException:
        return False
    return True


def get_account(account_id: str) -> Account | None:
    item = (
        dynamodb()
        .get_item(TableName=_table(), Key={"account_id": {"S": account_id}}, ConsistentRead=True)
        .get("Item")
    )
    return Account.model_validate(from_item(item)) if item else None


def update_account(account_id: str, **fields: Any) -> None:
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = to_item({f":v{i}": value for i, value in enumerate(fields.values())})
    dynamodb().update_item(
        TableName=_table(),
        Key={"account_id": {"S": account_id}},
        UpdateExpression="SET " + ", ".join(f"#f{i} = :v{i}" for i in range(len(fields))),
        ConditionExpression="attribute_exists(account_id)",
        ExpressionAttributeNames=names,
        ExpressionAttributeValues=values,
    )


def replace_default_key(account_id: str, old_key_id: str, new_key_id: str | None) -> bool:
    """Point the default key elsewhere (or nowhere) only if it is still ``old_key_id``."""
    values: dict[str, Any] = {":old": {"S": old_key_id}}
    if new_key_id is None:
        expression = "REMOVE default_key_id"
    else:
        expression = "SET default_key_id = :new"
        values[":new"] = {"S": new_key_id}
    try:
        dynamodb().update_item(
            TableName=_table(),
            Key={"account_id": {"S": account_id}},
            UpdateExpression=expression,
            ConditionExpression="default_key_id = :old",
            ExpressionAttributeValues=values,
        )
    except dynamodb().exceptions.ConditionalCheckFailedException:
        return False
    return True
