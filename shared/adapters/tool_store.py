"""Installed tools in the tools table: ``account_id`` (partition) / ``tool_id`` (sort)."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.settings import get_settings
from shared.tools.models import InstalledTool


def _table() -> str:
    return get_settings().tools_table


def _key(account_id: str, tool_id: str) -> dict[str, Any]:
    return {"account_id": {"S": account_id}, "tool_id": {"S": tool_id}}


def put_new_tool(tool: InstalledTool) -> None:
    dynamodb().put_item(
        TableName=_table(),
        Item=to_item(tool.model_dump(mode="json")),
        ConditionExpression="attribute_not_exists(tool_id)",
    )


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
    item = dynamodb().get_item(TableName=_table(), Key=_key(account_id, tool_id)).get("Item")
    return InstalledTool.model_validate(from_item(item)) if item else None


def list_tools(account_id: str) -> list[InstalledTool]:
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "account_id = :a",
        "ExpressionAttributeValues": {":a": {"S": account_id}},
    }
    tools: list[InstalledTool] = []
    while True:
        page = dynamodb().query(**kwargs)
        tools.extend(InstalledTool.model_validate(from_item(i)) for i in page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            return tools
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def delete_tool(account_id: str, tool_id: str) -> bool:
    """Delete a tool; False if there was none."""
    try:
        dynamodb().delete_item(
            TableName=_table(),
            Key=_key(account_id, tool_id),
            ConditionExpression="attribute_exists(tool_id)",
        )
    except dynamodb().exceptions.ConditionalCheckFailedException:
        return False
    return True
