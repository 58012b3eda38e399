"""Shared by the tests of admission stating the values an instance knows (shared/limits/known.py).

One chat request's body and its POST, the two headers a stated admission must get right, the
hot path's AWS calls counted by operation (the ``calls`` fixture), and what the tables hold
afterwards: the limits table's counters and an account's reservations in the ledger.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import boto3
import httpx
import pytest

from shared.adapters.aws_json import AwsJsonClient

BODY = {"model": "qwen3", "messages": [{"role": "user", "content": "state what you know"}]}


@pytest.fixture(name="calls")
def _calls(chat_world, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """The hot path's AWS calls, by operation, as the gateway sends them (import as ``_calls``;
    use as ``calls``)."""
    seen: Counter[str] = Counter()
    real_send = AwsJsonClient._send

    async def counted(client: AwsJsonClient, operation: str, body: bytes) -> dict[str, Any]:
        seen[f"{client.service.name}:{operation}"] += 1
        return await real_send(client, operation, body)

    monkeypatch.setattr(AwsJsonClient, "_send", counted)
    yield seen


def limit_counts(table: str) -> list[int]:
    """Every counter in the limits table (one test: the IP bucket and the key bucket)."""
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    return sorted(int(i["count"]["N"]) for i in items)


def reservations(table: str, account_id: str) -> int:
    items = boto3.client("dynamodb", region_name="us-east-1").query(
        TableName=table,
        KeyConditionExpression="account_id = :a AND begins_with(sk, :r)",
        ExpressionAttributeValues={":a": {"S": account_id}, ":r": {"S": "RES#"}},
    )["Items"]
    return len(items)


async def post(http: httpx.AsyncClient, key: str) -> httpx.Response:
    return await http.post("/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {key}"})


def remaining(response: httpx.Response) -> tuple[int, int]:
    return int(response.headers["X-RateLimit-Remaining"]), int(response.headers["X-Credits-Remaining"])
