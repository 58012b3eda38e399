"""The tool-run log in the usage table: ``TOOLRUN#<account>#<tool>`` / ``<created_ms>#<request_id>``."""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.settings import get_settings


def _table() -> str:
    return get_settings().usage_table


def put_run(record: dict[str, Any]) -> bool:
    """Write the run once; False if it is already there (a redelivered or re-sent usage event)."""
    client = dynamodb()
    try:
        client.put_item(
            TableName=_table(), Item=to_item(record), ConditionExpression="attribute_not_exists(pk)"
        )
    except client.exceptions.ConditionalCheckFailedException:
        return False
    return True


def query_runs(pk: str, limit: int, after_sk: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """Newest first; returns the items and the sort key to continue after, if there are more."""
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk",
        "ExpressionAttributeValues": {":pk": {"S": pk}},
        "ScanIndexForward": False,
        "Limit": limit,
    }
    if after_sk is not None:
        kwargs["ExclusiveStartKey"] = {"pk": {"S": pk}, "sk": {"S": after_sk}}
    page = dynamodb().query(**kwargs)
    last = page.get("LastEvaluatedKey")
    return [from_item(i) for i in page.get("Items", [])], last["sk"]["S"] if last else None
