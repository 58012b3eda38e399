"""Contact messages in the contact table (``contact_id``)."""

from __future__ import annotations

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.contact.models import ContactMessage
from shared.settings import get_settings


def _table() -> str:
    return get_settings().contact_table


def put_message(message: ContactMessage) -> None:
    dynamodb().put_item(
        TableName=_table(),
        Item=to_item(message.model_dump()),
        ConditionExpression="attribute_not_exists(contact_id)",
    )


def get_message(contact_id: str) -> ContactMessage | None:
    item = (
        dynamodb()
        .get_item(TableName=_table(), Key={"contact_id": {"S": contact_id}}, ConsistentRead=True)
        .get("Item")
    )
    return ContactMessage.model_validate(from_item(item)) if item else None


def set_status(contact_id: str, status: str, at: str) -> None:
    dynamodb().update_item(
        TableName=_table(),
        Key={"contact_id": {"S": contact_id}},
        UpdateExpression="SET #s = :s, notified_at = :t",
        ConditionExpression="attribute_exists(contact_id)",
        ExpressionAttributeNames={"#s": "status"},
        ExpressionAttributeValues={":s": {"S": status}, ":t": {"S": at}},
    )
