"""The embedded AWS's TransactWriteItems (sluice/local/moto_transactions.py): its rollback copy
holds only the items a transaction names, and a failed transaction still changes nothing."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest


@pytest.fixture
def table(moto_server) -> Iterator[str]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    name = f"tx{uuid.uuid4().hex[:10]}"
    client.create_table(
        TableName=name,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}],
        AttributeDefinitions=[
            {"AttributeName": "pk", "AttributeType": "S"},
            {"AttributeName": "sk", "AttributeType": "S"},
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    for sk in ("a", "b", "c", *(f"other{i}" for i in range(50))):
        client.put_item(TableName=name, Item={"pk": {"S": "p"}, "sk": {"S": sk}, "n": {"N": "1"}})
    yield name
    client.delete_table(TableName=name)


def items(name: str) -> dict[str, dict[str, Any]]:
    scanned = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=name)["Items"]
    return {i["sk"]["S"]: i for i in scanned}


def ops(name: str, *, check_c: str) -> list[dict[str, Any]]:
    """Change a, delete b, add d; then check c, which fails unless ``check_c`` is its value."""
    key = lambda sk: {"pk": {"S": "p"}, "sk": {"S": sk}}  # noqa: E731
    return [
        {"Update": {"TableName": name, "Key": key("a"), "UpdateExpression": "ADD n :one",
                    "ExpressionAttributeValues": {":one": {"N": "1"}}}},
        {"Delete": {"TableName": name, "Key": key("b")}},
        {"Put": {"TableName": name, "Item": {**key("d"), "n": {"N": "7"}}}},
        {"ConditionCheck": {"TableName": name, "Key": key("c"), "ConditionExpression": "n = :v",
                            "ExpressionAttributeValues": {":v": {"N": check_c}}}},
    ]  # fmt: skip


def test_a_failed_transaction_puts_back_every_item_it_had_changed(table) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    before = items(table)

    with pytest.raises(client.exceptions.TransactionCanceledException):
        client.transact_write_items(TransactItems=ops(table, check_c="2"))

    assert items(table) == before, "a's update, b's delete and d's put were all undone"
    client.put_item(TableName=table, Item={"pk": {"S": "p"}, "sk": {"S": "e"}, "n": {"N": "1"}})
    assert set(items(table)) == {*before, "e"}, "the table that took the copy's place works on"


def test_a_transaction_that_holds_applies_every_item(table) -> None:
    client = boto3.client("dynamodb", region_name="us-east-1")
    before = items(table)

    client.transact_write_items(TransactItems=ops(table, check_c="1"))

    after = items(table)
    assert after["a"]["n"] == {"N": "2"} and "b" not in after and after["d"]["n"] == {"N": "7"}
    assert {k: v for k, v in after.items() if k not in "abd"} == {
        k: v for k, v in before.items() if k not in "abd"
    }


def test_a_copy_deep_copies_the_named_items_only() -> None:
    """In process, on moto's own Table: untouched items are shared, named ones copied."""
    import copy

    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    from sluice.local import moto_transactions

    schema = [{"AttributeName": "pk", "KeyType": "HASH"}, {"AttributeName": "sk", "KeyType": "RANGE"}]
    attrs = [{"AttributeName": "pk", "AttributeType": "S"}, {"AttributeName": "sk", "AttributeType": "S"}]
    # moto marks CloudFormationModel methods @abstractmethod without ABCMeta; moto builds Tables so too
    live = Table("t", account_id="123456789012", region="us-east-1", schema=schema, attr=attrs)  # type: ignore[abstract]
    for sk in ("a", "b"):
        live.put_item({"pk": {"S": "p"}, "sk": {"S": sk}, "n": {"N": "1"}})
    p, a, b = DynamoType({"S": "p"}), DynamoType({"S": "a"}), DynamoType({"S": "b"})

    moto_transactions._in_flight.keys = {"t": {(p, a)}}
    try:
        copied = moto_transactions.snapshot(live, {})
    finally:
        moto_transactions._in_flight.keys = None
    whole = moto_transactions.snapshot(live, {})

    assert copied.items[p][a] is not live.items[p][a] and copied.items[p][b] is live.items[p][b]
    assert copied.items[p] is not live.items[p], "the map is the copy's own: a put or delete stays live"
    assert all(whole.items[p][k] is not live.items[p][k] for k in (a, b)), "outside a transaction: all"
    assert copy.copy(live).items is live.items, "a shallow copy is still shallow"
