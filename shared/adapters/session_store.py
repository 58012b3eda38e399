"""Playground sessions and messages in the sessions table, partitioned by user.

- ``USER#<account_id>`` / ``SESSION#<session_id>``: the session (title, model, system prompt,
  message count); session ids sort by creation time;
- ``USER#<account_id>`` / ``MSG#<session_id>#<message_id>``: one message; message ids sort by time.

Every read names the user's partition, so another user's session is simply not there.
"""

from __future__ import annotations

from typing import Any

from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item, to_item
from shared.adapters.transactions import transact
from shared.playground.models import Session, StoredMessage
from shared.settings import get_settings

SESSION_PREFIX = "SESSION#"


def _table() -> str:
    return get_settings().sessions_table


def user_pk(account_id: str) -> str:
    return f"USER#{account_id}"


def messages_prefix(session_id: str) -> str:
    return f"MSG#{session_id}#"


def _key(account_id: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": user_pk(account_id)}, "sk": {"S": sk}}


def put_session(account_id: str, session: Session) -> None:
    item = {"pk": user_pk(account_id), "sk": SESSION_PREFIX + session.session_id, **session.model_dump()}
    dynamodb().put_item(
        TableName=_table(), Item=to_item(item), ConditionExpression="attribute_not_exists(sk)"
    )


def get_session(account_id: str, session_id: str) -> Session | None:
    key = _key(account_id, SESSION_PREFIX + session_id)
    item = dynamodb().get_item(TableName=_table(), Key=key, ConsistentRead=True).get("Item")
    return Session.model_validate(from_item(item)) if item else None


def _page(prefix: str, account_id: str, limit: int, after_sk: str | None, forward: bool) -> dict[str, Any]:
    kwargs: dict[str, Any] = {
        "TableName": _table(),
        "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
        "ExpressionAttributeValues": to_item({":pk": user_pk(account_id), ":prefix": prefix}),
        "ScanIndexForward": forward,
        "Limit": limit,
    }
    if after_sk is not None:
        kwargs["ExclusiveStartKey"] = _key(account_id, after_sk)
    return dict(dynamodb().query(**kwargs))


def _last_sk(page: dict[str, Any]) -> str | None:
    last = page.get("LastEvaluatedKey")
    return str(last["sk"]["S"]) if last else None


def list_sessions(account_id: str, limit: int, after_sk: str | None) -> tuple[list[Session], str | None]:
    """Newest first."""
    page = _page(SESSION_PREFIX, account_id, limit, after_sk, forward=False)
    return [Session.model_validate(from_item(i)) for i in page.get("Items", [])], _last_sk(page)


def list_messages(
    account_id: str, session_id: str, limit: int, after_sk: str | None, *, newest_first: bool = False
) -> tuple[list[StoredMessage], str | None]:
    page = _page(messages_prefix(session_id), account_id, limit, after_sk, forward=not newest_first)
    items = [StoredMessage.model_validate(from_item(i)) for i in page.get("Items", [])]
    return items, _last_sk(page)


def append_messages(
    account_id: str, session: Session, messages: list[StoredMessage], fields: dict[str, Any]
) -> bool:
    """Store messages and update the session (count, ``fields``) at once; False if the session is gone."""
    table = _table()
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = to_item({":n": len(messages), **{f":v{i}": v for i, v in enumerate(fields.values())}})
    sets = ", ".join(f"#f{i} = :v{i}" for i in range(len(fields)))
    update = {
        "TableName": table,
        "Key": _key(account_id, SESSION_PREFIX + session.session_id),
        "UpdateExpression": "ADD message_count :n" + (f" SET {sets}" if sets else ""),
        "ConditionExpression": "attribute_exists(sk)",
        "ExpressionAttributeValues": values,
        **({"ExpressionAttributeNames": names} if names else {}),
    }
    puts = [
        {
            "Put": {
                "TableName": table,
                "Item": to_item(
                    {
                        "pk": user_pk(account_id),
                        "sk": messages_prefix(session.session_id) + m.message_id,
                        **m.model_dump(),
                    }
                ),
            }
        }
        for m in messages
    ]
    return transact([{"Update": update}, *puts]) is None
