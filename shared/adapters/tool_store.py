"""Installed tools in the tools table: ``account_id`` (partition) / ``tool_id`` (sort).

Each account's partition also holds its counter item, ``tool_id`` = ``#count`` with ``tool_count``:
installing and uninstalling change it in the same transaction as the tool (docs/DASHBOARD.md).
Tool ids start with ``tool_``; reads and deletes of anything else find nothing.
"""

from __future__ import annotations

import re
from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.adapters.transactions import transact
from shared.settings import get_settings
from shared.tools.models import TOOL_ID_PATTERN, InstalledTool

COUNTER_ID = "#count"  # the sort key of the account's counter item
TOOL_PREFIX = "tool_"


def _table() -> str:
    return get_settings().tools_table


def _key(account_id: str, tool_id: str) -> dict[str, Any]:
    return {"account_id": {"S": account_id}, "tool_id": {"S": tool_id}}


def is_tool_id(tool_id: str) -> bool:
    return re.fullmatch(TOOL_ID_PATTERN, tool_id) is not None


def put_new_tool_counted(tool: InstalledTool, cap: int) -> list[str] | None:
    """Write a new tool and add one to the account's ``tool_count`` while it is below ``cap``:
    None when committed, else the codes (tool, counter). The counter's condition fails at the cap
    and also when the counter item is missing (not initialised yet)."""
    return transact(
        [
            {
                "Put": {
                    "TableName": _table(),
                    "Item": to_item(tool.model_dump(mode="json")),
                    "ConditionExpression": "attribute_not_exists(tool_id)",
                }
            },
            {
                "Update": {
                    "TableName": _table(),
                    "Key": _key(tool.account_id, COUNTER_ID),
                    "UpdateExpression": "SET tool_count = tool_count + :one",
                    "ConditionExpression": "tool_count < :cap",
                    "ExpressionAttributeValues": {":one": {"N": "1"}, ":cap": {"N": str(cap)}},
                }
            },
        ]
    )


def delete_tool_counted(account_id: str, tool_id: str) -> list[str] | None:
    """Delete a tool that exists and take one from ``tool_count``, in one transaction: None when
    committed, else the codes (tool: there is none; counter: missing)."""
    return transact(
        [
            {
                "Delete": {
                    "TableName": _table(),
                    "Key": _key(account_id, tool_id),
                    "ConditionExpression": "attribute_exists(tool_id)",
                }
            },
            {
                "Update": {
                    "TableName": _table(),
                    "Key": _key(account_id, COUNTER_ID),
                    "UpdateExpression": "SET tool_count = tool_count - :one",
                    "ConditionExpression": "attribute_exists(tool_count)",
                    "ExpressionAttributeValues": {":one": {"N": "1"}},
                }
            },
        ]
    )


def tool_count(account_id: str) -> int | None:
    """The account's ``tool_count`` (a consistent read); None when it has no counter yet."""
    item = (
        dynamodb()
        .get_item(TableName=_table(), Key=_key(account_id, COUNTER_ID), ConsistentRead=True)
        .get("Item")
    )
    return int(item["tool_count"]["N"]) if item and "tool_count" in item else None


def count_tools(account_id: str) -> int:
    """How many tools the account's partition holds (a consistent read, the counter left out)."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "account_id = :a AND begins_with(tool_id, :p)",
        "ExpressionAttributeValues": {":a": {"S": account_id}, ":p": {"S": TOOL_PREFIX}},
        "Select": "COUNT",
        "ConsistentRead": True,
    }
    total = 0
    while True:
        page = dynamodb().query(**kwargs)
        total += int(page.get("Count", 0))
        if "LastEvaluatedKey" not in page:
            return total
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def initialise_tool_count(account_id: str, count: int) -> None:
    """Create the counter item with ``count`` unless it exists (of two initialisations, one wins)."""
    try:
        dynamodb().put_item(
            TableName=_table(),
            Item={**_key(account_id, COUNTER_ID), "tool_count": {"N": str(count)}},
            ConditionExpression="attribute_not_exists(tool_id)",
        )
    except dynamodb().exceptions.ConditionalCheckFailedException:
        pass


def replace_tool(tool: InstalledTool) -> bool:
    """Overwrite an existing tool; False if it was uninstalled meanwhile."""
    try:
        dynamodb().put_item(
            TableName=_table(),
            Item=to_item(tool.model_dump(mode="json")),
            ConditionExpression="attribute_exists(tool_id)",
        )
    except dynamodb().exceptions.ConditionalCheckFailedException:
        return False
    return True


def get_tool(account_id: str, tool_id: str) -> InstalledTool | None:
    if not is_tool_id(tool_id):
        return None
    item = dynamodb().get_item(TableName=_table(), Key=_key(account_id, tool_id)).get("Item")
    return InstalledTool.model_validate(from_item(item)) if item else None


def list_tools(account_id: str) -> list[InstalledTool]:
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "account_id = :a AND begins_with(tool_id, :p)",
        "ExpressionAttributeValues": {":a": {"S": account_id}, ":p": {"S": TOOL_PREFIX}},
    }
    tools: list[InstalledTool] = []
    while True:
        page = dynamodb().query(**kwargs)
        tools.extend(InstalledTool.model_validate(from_item(i)) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return tools
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]
