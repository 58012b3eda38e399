"""Shared pieces of the account/key/auth tests: events with a chosen user, handler calls, leak scans."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable
from typing import Any

import boto3
from support.lambda_events import FakeContext, load_event

from shared.settings import get_settings
from sluice.local.resources import LocalResources

ADA = "7d3f8a2c-5b1e-4c9a-9f6d-2e8b4a1c0d57"  # the user of the sample events
BOB = "0b1c2d3e-4f5a-4b6c-8d7e-9f0a1b2c3d4e"
CONSENT_CLAIMS = ("custom:terms_version", "custom:privacy_version", "custom:rai_version")


def account_event(
    name: str,
    *,
    sub: str = ADA,
    email: str = "ada@example.com",
    consent: bool = True,
    body: Any = None,
    key_id: str | None = None,
    claims: bool = True,
) -> dict[str, Any]:
    """A sample event of events/account with the caller, body and key id of the test."""
    event = load_event("account", name)
    context = event["requestContext"]
    if not claims:
        context.pop("authorizer")
    else:
        user = context["authorizer"]["claims"]
        user.update({"sub": sub, "cognito:username": sub, "email": email})
        if not consent:
            for claim in CONSENT_CLAIMS:
                user.pop(claim)
    if body is not None:
        event["body"] = body if isinstance(body, str) else json.dumps(body)
    if key_id is not None:
        event["pathParameters"] = {"key_id": key_id}
        event["path"] = event["resource"].replace("{key_id}", key_id)
    return event


def invoke(handler: Any, event: dict[str, Any]) -> dict[str, Any]:
    """Call a Mangum handler as a fresh Lambda runtime would: with an open current event loop.

    Mangum uses ``asyncio.get_event_loop()``; a test elsewhere in the session that used
    ``asyncio.run`` leaves the main thread without one (or with a closed one).
    """
    try:
        loop = asyncio.get_event_loop_policy().get_event_loop()
    except RuntimeError:
        loop = None
    if loop is None or loop.is_closed():
        asyncio.set_event_loop(asyncio.new_event_loop())
    return dict(handler(event, FakeContext()))


def _result(result: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    headers = {k.lower(): v for k, v in (result.get("headers") or {}).items()}
    for key, values in (result.get("multiValueHeaders") or {}).items():
        headers[key.lower()] = values[-1]
    return result["statusCode"], headers, json.loads(result["body"]) if result.get("body") else None


def call_account(event: dict[str, Any]) -> tuple[int, Any]:
    """Invoke the account function's Lambda entry point."""
    status, _, body = call_account_with_headers(event)
    return status, body


def call_account_with_headers(event: dict[str, Any]) -> tuple[int, dict[str, str], Any]:
    """Invoke the account function's Lambda entry point: status, headers (lower case), body."""
    from functions.account.app import handler

    return _result(invoke(handler, event))


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls on their own threads, released at the same instant; their results in order."""
    barrier = threading.Barrier(len(calls))
    results: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = calls[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def call_catalog(headers: dict[str, str], path: str = "/v1/models") -> tuple[int, dict[str, str], Any]:
    """GET /v1/models through the catalog function's entry point, with the given headers."""
    from functions.catalog.app import handler

    event = load_event("catalog", "list_models")
    event["headers"] = {**event["headers"], **headers}
    event["multiValueHeaders"] = {k: [v] for k, v in event["headers"].items()}
    event["path"] = path
    return _result(invoke(handler, event))


def create_key(sub: str = ADA, name: str = "test") -> dict[str, Any]:
    status, body = call_account(account_event("create_key", sub=sub, body={"name": name}))
    assert status == 201, body
    return body


def forget_counter(account_id: str = f"acct_{ADA}") -> None:
    """Make the account one from before the counter (an item without ``active_keys``)."""
    boto3.client("dynamodb", region_name="us-east-1").update_item(
        TableName=get_settings().accounts_table,
        Key={"account_id": {"S": account_id}},
        UpdateExpression="REMOVE active_keys",
    )


def stored_text(aws: LocalResources) -> list[tuple[str, str]]:
    """Every item of every table and every message on every queue of the stack, as text."""
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    sqs = boto3.client("sqs", region_name="us-east-1")
    found: list[tuple[str, str]] = []
    for logical_id, name in aws.names.items():
        if name.startswith("http"):
            response = sqs.receive_message(
                QueueUrl=name,
                MaxNumberOfMessages=10,
                VisibilityTimeout=0,
                AttributeNames=["All"],
                MessageAttributeNames=["All"],
            )
            found += [(logical_id, json.dumps(m)) for m in response.get("Messages", [])]
            continue
        for page in dynamodb.get_paginator("scan").paginate(TableName=name):
            found += [(logical_id, json.dumps(item)) for item in page.get("Items", [])]
    return found


def secret_parts(raw_key: str, prefix: str = "sk_sluice_") -> list[str]:
    """What must never be stored or logged: the key, and its secret part on its own."""
    return [raw_key, raw_key.removeprefix(prefix)]
