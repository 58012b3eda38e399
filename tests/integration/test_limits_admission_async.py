"""The chat hot path's admission (``admit_async``, through shared/adapters/aws_json.py) against the
single-threaded moto server: the same answers as the boto3 path, exact under concurrency, and
transaction conflicts retried each with a fresh idempotency token."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from test_limits_admission import FACTS, NOW, _preload, clock

from shared.adapters import admission_reads, aws_json, limit_store
from shared.adapters.aws_json import AwsError, AwsJsonClient
from shared.errors import InsufficientCredits, RateLimited
from shared.limits.admission import admit_async
from shared.limits.buckets import Bucket, buckets_for
from shared.limits.policy import load_policy


def chat_buckets(plan: str = "pro") -> list[Bucket]:
    return buckets_for(load_policy().rules_for("chat.public"), plan, FACTS)


@pytest.mark.usefixtures("aws")
def test_admitted_requests_are_counted_in_every_bucket() -> None:
    ip, key = chat_buckets()

    async def three() -> None:
        for _ in range(3):
            await admit_async([ip, key], clock=clock)

    asyncio.run(three())
    assert limit_store.read_counts([ip.item_key(NOW), key.item_key(NOW)]) == [3, 3]


@pytest.mark.usefixtures("aws")
def test_a_refused_bucket_is_a_429_that_consumes_nothing() -> None:
    ip, key = chat_buckets()
    _preload(key, key.limit)
    with pytest.raises(RateLimited):
        asyncio.run(admit_async([ip, key], clock=clock))
    assert limit_store.read_counts([ip.item_key(NOW), key.item_key(NOW)]) == [0, key.limit]


@pytest.mark.usefixtures("aws")
def test_a_refused_extra_item_is_insufficient_credits() -> None:
    ip, key = chat_buckets()
    impossible = {
        "ConditionCheck": {
            "TableName": limit_store._table(),
            "Key": {"pk": {"S": "nothing-here"}},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    with pytest.raises(InsufficientCredits):
        asyncio.run(admit_async([ip, key], reservation=[impossible], clock=clock))
    assert limit_store.read_counts([ip.item_key(NOW), key.item_key(NOW)]) == [0, 0]


@pytest.mark.usefixtures("aws")
def test_one_bucket_alone_is_one_update_that_returns_the_count() -> None:
    [bucket] = buckets_for(load_policy().rules_for("contact"), "free", FACTS)

    async def all_of_them() -> list[int | None]:
        return [(await admit_async([bucket], clock=clock)).counts[0] for _ in range(bucket.limit)]  # type: ignore[index]

    assert asyncio.run(all_of_them()) == list(range(1, bucket.limit + 1))
    with pytest.raises(RateLimited):
        asyncio.run(admit_async([bucket], clock=clock))


@pytest.mark.usefixtures("aws")
def test_concurrent_admissions_never_exceed_the_limit() -> None:
    """40 requests at once against a key bucket with 5 left: exactly 5 admitted, counted once each."""
    ip, key = chat_buckets()
    _preload(key, key.limit - 5)

    async def race() -> list[bool]:
        async def one() -> bool:
            try:
                await admit_async([ip, key], clock=clock)
            except RateLimited:
                return False
            return True

        return await asyncio.gather(*(one() for _ in range(40)))

    results = asyncio.run(race())
    assert results.count(True) == 5
    assert limit_store.read_counts([ip.item_key(NOW), key.item_key(NOW)]) == [5, key.limit]


@pytest.mark.usefixtures("aws")
def test_conflicts_are_retried_each_with_a_fresh_token(monkeypatch: pytest.MonkeyPatch) -> None:
    """Real DynamoDB cancels racing transactions with ``TransactionConflict`` (moto never does):
    injected twice, then the real call; admitted once, and every attempt had its own token."""
    ip, key = chat_buckets()
    tokens: list[str] = []
    real_send = AwsJsonClient._send

    async def send(client: AwsJsonClient, operation: str, body: bytes) -> dict[str, Any]:
        if operation == "TransactWriteItems":
            tokens.append(json.loads(body)["ClientRequestToken"])
            if len(tokens) <= 2:
                reasons = [{"Code": "TransactionConflict"}, {"Code": "None"}]
                raise AwsError(
                    operation, 400, "TransactionCanceledException", "", {"CancellationReasons": reasons}
                )
        return await real_send(client, operation, body)

    monkeypatch.setattr(AwsJsonClient, "_send", send)
    monkeypatch.setattr(limit_store.random, "uniform", lambda a, b: 0.0)
    asyncio.run(admit_async([ip, key], clock=clock))

    assert len(tokens) == 3 and len(set(tokens)) == 3
    assert limit_store.read_counts([ip.item_key(NOW), key.item_key(NOW)]) == [1, 1]


@pytest.mark.usefixtures("aws")
def test_a_transport_retry_reuses_the_token_so_a_lost_answer_counts_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first attempt commits but its answer is lost (a reset after DynamoDB applied it): the
    client's retry carries the same ``ClientRequestToken``, so DynamoDB must not apply it twice.
    moto ignores the token, so this checks the contract the retry relies on: same body, same token."""
    ip, key = chat_buckets()
    bodies: list[bytes] = []
    real_send = AwsJsonClient._send

    async def send(client: AwsJsonClient, operation: str, body: bytes) -> dict[str, Any]:
        bodies.append(body)
        if len(bodies) == 1:
            raise ConnectionResetError("answer lost")
        return await real_send(client, operation, body)

    monkeypatch.setattr(AwsJsonClient, "_send", send)
    monkeypatch.setattr(aws_json, "BACKOFF_BASE_S", 0.0)
    asyncio.run(admit_async([ip, key], clock=clock))
    assert len(bodies) == 2 and bodies[0] == bodies[1]
    assert json.loads(bodies[0])["ClientRequestToken"]


@pytest.mark.usefixtures("aws")
def test_the_header_read_returns_counts_and_balance() -> None:
    ip, key = chat_buckets()
    _preload(ip, 7)
    counts, balance = asyncio.run(
        admission_reads.counts_and_balance([ip.item_key(NOW), key.item_key(NOW)], "acct_without_balance")
    )
    assert counts == [7, 0]
    assert balance == 0
