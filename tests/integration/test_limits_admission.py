"""Admission against DynamoDB (the single-threaded moto server): limits, headers, atomicity."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from shared.adapters import limit_store
from shared.errors import InsufficientCredits, RateLimited
from shared.limits.admission import admit
from shared.limits.buckets import Bucket, LimitFacts, buckets_for
from shared.limits.policy import load_policy

NOW = 1_800_000_030.0  # 30 s into a minute window; the hour window started 30 s ago too
FACTS = LimitFacts(
    ip="198.51.100.7", key_id="key_a", account_key_id="key_d", tool_id="tool_1", user="u1", session_id="s1"
)


def clock() -> float:
    return NOW


def _preload(bucket: Bucket, count: int) -> None:
    boto3.client("dynamodb", region_name="us-east-1").put_item(
        TableName=limit_store._table(),
        Item={"pk": {"S": bucket.item_key(NOW)}, "count": {"N": str(count)}, "expires_at": {"N": "0"}},
    )


ROWS = [(r, plan) for r in load_policy().rules for plan in ("free", "pro")]


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize(("rule", "plan"), ROWS, ids=[f"{r.rule_id}-{p}" for r, p in ROWS])
def test_every_row_admits_up_to_its_limit_and_refuses_the_next(rule, plan) -> None:
    [bucket] = buckets_for([rule], plan, FACTS)
    limit = rule.window(plan).limit
    _preload(bucket, limit - 2)  # requests 1..L-2 already counted

    second_last = admit([bucket], clock=clock)
    last = admit([bucket], clock=clock)
    with pytest.raises(RateLimited) as refused:
        admit([bucket], clock=clock)

    reset = int(NOW) - int(NOW) % bucket.window_seconds + bucket.window_seconds
    assert second_last.headers() == {
        "X-RateLimit-Limit": str(limit),
        "X-RateLimit-Remaining": "1",
        "X-RateLimit-Reset": str(reset),
    }
    assert last.headers()["X-RateLimit-Remaining"] == "0"
    assert refused.value.status == 429 and refused.value.code == "rate_limit_exceeded"
    assert refused.value.headers()["Retry-After"] == str(reset - int(NOW))
    assert refused.value.headers()["X-RateLimit-Remaining"] == "0"


@pytest.mark.usefixtures("aws")
@pytest.mark.parametrize("endpoint", ["contact", "health", "playground.export"])
def test_small_limits_counted_request_by_request(endpoint: str) -> None:
    [bucket] = buckets_for(load_policy().rules_for(endpoint), "free", FACTS)
    remaining = [
        int(admit([bucket], clock=clock).headers()["X-RateLimit-Remaining"]) for _ in range(bucket.limit)
    ]
    assert remaining == list(range(bucket.limit - 1, -1, -1))
    with pytest.raises(RateLimited):
        admit([bucket], clock=clock)


@pytest.mark.usefixtures("aws")
def test_a_request_refused_by_one_bucket_consumes_no_other_bucket() -> None:
    ip, key = buckets_for(load_policy().rules_for("chat.public"), "pro", FACTS)
    _preload(key, key.limit)  # the key is exhausted, the IP is not

    with pytest.raises(RateLimited):
        admit([ip, key], clock=clock)

    assert limit_store.read_counts([ip.item_key(NOW), key.item_key(NOW)]) == [0, key.limit]


@pytest.mark.usefixtures("aws")
def test_multi_bucket_admission_reports_the_tightest_bucket() -> None:
    ip, key = buckets_for(load_policy().rules_for("chat.public"), "free", FACTS)
    _preload(ip, 10)
    _preload(key, 38)

    admission = admit([ip, key], clock=clock)

    assert admission.headers() == {
        "X-RateLimit-Limit": "40",
        "X-RateLimit-Remaining": "1",
        "X-RateLimit-Reset": str(1_800_003_600),
    }


@pytest.mark.usefixtures("aws")
def test_a_failed_extra_item_refuses_with_insufficient_credits_and_counts_nothing() -> None:
    ip, key = buckets_for(load_policy().rules_for("chat.public"), "pro", FACTS)
    impossible = {
        "ConditionCheck": {
            "TableName": limit_store._table(),
            "Key": {"pk": {"S": "no-such-item"}},
            "ConditionExpression": "attribute_exists(pk)",
        }
    }
    with pytest.raises(InsufficientCredits):
        admit([ip, key], reservation=[impossible], clock=clock)
    assert limit_store.read_counts([ip.item_key(NOW), key.item_key(NOW)]) == [0, 0]


def _conflict() -> ClientError:
    return limit_store.dynamodb().exceptions.TransactionCanceledException(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "Transaction cancelled"},
            "CancellationReasons": [{"Code": "TransactionConflict"}, {"Code": "None"}],
        },
        "TransactWriteItems",
    )


@pytest.mark.usefixtures("aws")
def test_transaction_conflicts_are_retried_then_admitted_once(monkeypatch: pytest.MonkeyPatch) -> None:
    ip, key = buckets_for(load_policy().rules_for("chat.public"), "pro", FACTS)
    client = limit_store.dynamodb()
    real = client.transact_write_items
    calls = {"n": 0}

    def flaky(**kwargs):
        calls["n"] += 1
        if calls["n"] <= 2:
            raise _conflict()
        return real(**kwargs)

    monkeypatch.setattr(client, "transact_write_items", flaky)
    monkeypatch.setattr(limit_store.time, "sleep", lambda s: None)

    admission = admit([ip, key], clock=clock)

    assert calls["n"] == 3
    assert limit_store.read_counts([ip.item_key(NOW), key.item_key(NOW)]) == [1, 1]
    assert admission.headers()["X-RateLimit-Remaining"] == "47"


@pytest.mark.usefixtures("aws")
def test_persistent_conflicts_surface_after_bounded_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    ip, key = buckets_for(load_policy().rules_for("chat.public"), "pro", FACTS)
    client = limit_store.dynamodb()
    monkeypatch.setattr(client, "transact_write_items", lambda **kw: (_ for _ in ()).throw(_conflict()))
    monkeypatch.setattr(limit_store.time, "sleep", lambda s: None)
    with pytest.raises(client.exceptions.TransactionCanceledException):
        admit([ip, key], clock=clock)
