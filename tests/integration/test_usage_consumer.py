"""The usage consumer: records and aggregates once per request, settles or releases its credits."""

from __future__ import annotations

import json

import boto3
import pytest
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from credits_support import LambdaContext, admit, bodies, load_event, sqs_records, usage_event

from shared.adapters import ledger_store, reservation_store
from shared.adapters.aws import dynamodb
from shared.adapters.items import from_item
from shared.credits.ledger import balance, grant_credits
from shared.settings import get_settings


@pytest.fixture
def ddb(aws):
    return boto3.client("dynamodb", region_name="us-east-1")


def deliver(*payloads: str) -> PartialItemFailureResponse:
    from functions.usage.app import handler

    return handler(sqs_records(list(payloads)), LambdaContext())


def state_of(account: str, request_id: str) -> str:
    """The state of the request's reservation, which exists."""
    reservation = reservation_store.get_reservation(account, request_id)
    assert reservation is not None
    return reservation.state


def usage_items(account: str) -> dict[str, dict]:
    """Every aggregate and request record of the account, by sort key."""
    items = {}
    for pk in (f"USAGE#{account}", f"REQ#{account}"):
        page = dynamodb().query(
            TableName=get_settings().usage_table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
        )
        items.update({f"{pk}|{i['sk']['S']}": from_item(i) for i in page["Items"]})
    return items


def test_every_event_delivered_three_times_is_charged_once_and_counted_once(ddb) -> None:
    # Given five admitted requests: three succeed (charged), two fail (not charged)
    account = "acct_redelivery"
    grant_credits(account, 20, source="admin", reference="seed", expires_at=None)
    events = []
    for i in range(5):
        assert admit(ddb, account, f"r{i}", 2)
        charged = i < 3
        events.append(
            usage_event(
                account,
                f"r{i}",
                credits=2,
                charged=charged,
                outcome="success" if charged else "failed",
                status=200 if charged else 502,
                output_tokens=50 if charged else 0,
            )
        )
    payloads = bodies(*events)

    # When each is delivered once, then twice more (once in a batch with itself)
    assert deliver(*payloads) == {"batchItemFailures": []}
    after_first = usage_items(account)
    assert deliver(*payloads) == {"batchItemFailures": []}
    assert deliver(*payloads, *payloads) == {"batchItemFailures": []}

    # Then three were charged once each, two were given back, and nothing was counted twice
    assert balance(account) == 20 - 3 * 2
    assert ledger_store.balance_counters(account)["consumed"] == 6
    assert [state_of(account, f"r{i}") for i in range(5)] == [
        "settled",
        "settled",
        "settled",
        "released",
        "released",
    ]
    assert usage_items(account) == after_first, "aggregates unchanged by the repeats"
    total = after_first[f"USAGE#{account}|TOTAL"]
    assert (total["requests"], total["succeeded"], total["failed"], total["credits"]) == (5, 3, 2, 6)
    assert (total["input_tokens"], total["output_tokens"]) == (500, 150)
    records = [v for k, v in after_first.items() if k.startswith("REQ#")]
    assert len(records) == 5
    assert all("expires_at" in r for r in records), "per-request records carry the TTL"
    day = next(v for k, v in after_first.items() if k.startswith(f"USAGE#{account}|D#") and k.count("#") == 2)
    assert day["requests"] == 5 and day["credits"] == 6
    model_day = [v for k, v in after_first.items() if "#model#qwen3" in k and "|D#" in k]
    key_hour = [v for k, v in after_first.items() if "#key#key_test" in k and "|H#" in k]
    assert model_day[0]["requests"] == 5 and key_hour[0]["requests"] == 5


@pytest.mark.parametrize(
    ("outcome", "status", "error_code"),
    [
        ("failed", 502, "upstream_error"),
        ("failed", 504, "upstream_timeout"),
        ("rejected", 400, "invalid_request"),
    ],
)
def test_failed_requests_charge_nothing_and_restore_the_balance(ddb, outcome, status, error_code) -> None:
    account = f"acct_fail_{status}"
    grant_credits(account, 5, source="admin", reference="seed", expires_at=None)
    reserved = outcome == "failed"  # a 400 from validation is refused before admission
    if reserved:
        assert admit(ddb, account, "r1", 3)
    event = usage_event(
        account, "r1", credits=3, charged=False, outcome=outcome, status=status, error_code=error_code
    )

    assert deliver(*bodies(event), *bodies(event)) == {"batchItemFailures": []}

    assert balance(account) == 5
    assert ledger_store.balance_counters(account)["consumed"] == 0
    assert all(lot.remaining == 5 for lot in ledger_store.iter_lots(account))


def test_a_malformed_message_fails_alone(ddb) -> None:
    account = "acct_partial"
    grant_credits(account, 5, source="admin", reference="seed", expires_at=None)
    assert admit(ddb, account, "good", 1)
    event = sqs_records([*bodies(usage_event(account, "good")), "not json", json.dumps({"request_id": "x"})])

    from functions.usage.app import handler

    result = handler(event, LambdaContext())

    failed = {f["itemIdentifier"] for f in result["batchItemFailures"]}
    assert failed == {r["messageId"] for r in event["Records"][1:]}
    assert state_of(account, "good") == "settled"
    assert balance(account) == 4


def test_the_sample_event_is_accepted(aws) -> None:
    from functions.usage.app import handler

    result = handler(load_event("usage", "usage_batch"), LambdaContext())

    assert result == {"batchItemFailures": []}
