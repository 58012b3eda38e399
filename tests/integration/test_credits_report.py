"""GET /api/user/credits (API key) and GET /api/dashboard/credits (Cognito claims)."""

from __future__ import annotations

import datetime as dt
import json

import boto3
import pytest
from credits_support import LambdaContext, admit, bodies, load_event, sqs_records, usage_event

from shared.accounts.models import Account
from shared.adapters import account_store
from shared.auth.api_keys import clear_cache
from shared.credits.ledger import grant_credits
from shared.keys.service import issue_key

DASHBOARD_SUB = "7d3f8a2c-5b1e-4c9a-9f6d-2e8b4a1c0d57"  # the user of events/credits/dashboard_credits.json


@pytest.fixture
def account_with_usage(aws) -> tuple[str, str]:
    """An account with two lots, three settled requests and one failed request; and an API key."""
    clear_cache()
    account = f"acct_{DASHBOARD_SUB}"
    account_store.create_account(Account(account_id=account, created_at="2025-01-01T00:00:00Z"))
    raw_key = issue_key(account, "report", require_consent=False).raw_key
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(days=20)
    grant_credits(account, 10, source="package", reference="pkg", expires_at=soon)
    grant_credits(account, 100, source="signup", reference="signup", expires_at=None)
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    events = []
    for i in range(4):
        assert admit(ddb, account, f"r{i}", 2)
        ok = i < 3
        events.append(
            usage_event(
                account,
                f"r{i}",
                credits=2,
                charged=ok,
                outcome="success" if ok else "failed",
                input_tokens=300,
                output_tokens=100 if ok else 0,
                public_model="qwen3" if i % 2 else "hrllm",
            )
        )
    from functions.usage.app import handler

    assert handler(sqs_records(bodies(*events)), LambdaContext()) == {"batchItemFailures": []}
    return account, raw_key


def call(event: dict) -> tuple[int, dict]:
    from functions.credits.app import handler

    result = handler(event, LambdaContext())
    return result["statusCode"], json.loads(result["body"])


def user_event(raw_key: str | None, query: dict | None = None, header: str = "Authorization") -> dict:
    event = load_event("credits", "user_credits")
    event["headers"].pop("Authorization")
    event["multiValueHeaders"].pop("Authorization")
    if raw_key is not None:
        value = f"Bearer {raw_key}" if header == "Authorization" else raw_key
        event["headers"][header] = value
        event["multiValueHeaders"][header] = [value]
    event["queryStringParameters"] = query
    event["multiValueQueryStringParameters"] = {k: [v] for k, v in query.items()} if query else None
    return event


def test_an_api_key_reads_balance_lots_totals_and_usage(account_with_usage) -> None:
    account, raw_key = account_with_usage

    status, body = call(user_event(raw_key))

    assert status == 200, body
    assert body["account_id"] == account
    assert body["balance"] == 110 - 6 and body["total_consumed"] == 6 and body["total_expired"] == 0
    assert [(lot["source"], lot["remaining"]) for lot in body["lots"]] == [("package", 4), ("signup", 100)]
    assert body["lots"][0]["expires_at"] is not None and body["lots"][1]["expires_at"] is None
    usage = body["usage"]
    assert (usage["requests"], usage["succeeded"], usage["failed"], usage["credits"]) == (4, 3, 1, 6)
    assert usage["average_tokens_per_request"] == (4 * 300 + 3 * 100) / 4
    today = dt.datetime.now(dt.UTC)
    assert usage["by_day"] == [
        {
            "date": today.strftime("%Y-%m-%d"),
            "requests": 4,
            "succeeded": 3,
            "failed": 1,
            "input_tokens": 1200,
            "output_tokens": 300,
            "credits": 6,
        }
    ]
    assert [h["hour"] for h in usage["by_hour"]] == [today.strftime("%Y-%m-%dT%H")]
    assert {m["model"]: m["requests"] for m in usage["by_model"]} == {"hrllm": 2, "qwen3": 2}
    assert [k["key_id"] for k in usage["by_key"]] == ["key_test"]


def test_x_api_key_header_works_too(account_with_usage) -> None:
    _, raw_key = account_with_usage

    assert call(user_event(raw_key, header="X-API-Key"))[0] == 200


@pytest.mark.parametrize("raw_key", [None, "sk_sluice_" + "0" * 43])  # well-formed, never issued
def test_without_a_valid_key_it_is_401(account_with_usage, raw_key) -> None:
    status, body = call(user_event(raw_key))

    assert status == 401 and body["error"]["code"] == "invalid_api_key"


@pytest.mark.parametrize(
    "query", [{"days": "0"}, {"days": "91"}, {"hours": "x"}, {"hours": "169"}, {"hours": "³"}, {"days": "٣"}]
)
def test_out_of_range_windows_are_400(account_with_usage, query) -> None:
    _, raw_key = account_with_usage

    status, body = call(user_event(raw_key, query))

    assert status == 400 and body["error"]["param"] == next(iter(query))


def test_the_dashboard_route_reports_for_the_signed_in_user(account_with_usage) -> None:
    account, _ = account_with_usage

    status, body = call(load_event("credits", "dashboard_credits"))

    assert status == 200 and body["account_id"] == account and body["balance"] == 104


def test_the_dashboard_route_without_claims_is_401(aws) -> None:
    event = load_event("credits", "dashboard_credits")
    event["requestContext"].pop("authorizer")

    assert call(event)[0] == 401


def test_the_report_never_shows_keys_or_request_records(account_with_usage) -> None:
    _, raw_key = account_with_usage

    text = json.dumps(call(user_event(raw_key))[1])

    assert raw_key not in text and "r0" not in text
