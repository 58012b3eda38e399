"""Shared pieces of the credit/usage tests: admission as the chat path does it, usage events, SQS events."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.adapters.reservation_store import reservation_items
from shared.usage.events import UsageEvent

if TYPE_CHECKING:
    from mangum.types import LambdaCognitoIdentity, LambdaMobileClientContext

BALANCE_ITEM, RESERVATION_ITEM = 0, 1
EVENTS = Path(__file__).resolve().parents[2] / "events"


def load_event(function: str, name: str) -> dict[str, Any]:
    """A sample event of events/<function>/ (this tier's conftest shadows the root one's helper)."""
    return json.loads((EVENTS / function / f"{name}.json").read_text(encoding="utf-8"))


class LambdaContext:
    """A Lambda context with every attribute of mangum's ``LambdaContext`` protocol."""

    function_name = "test"
    aws_request_id = "test-request"
    memory_limit_in_mb = 512
    invoked_function_arn = "arn:aws:lambda:us-east-1:123456789012:function:test"
    function_version = "$LATEST"
    log_group_name = "/aws/lambda/test"
    log_stream_name = "test"
    identity: LambdaCognitoIdentity | None = None
    client_context: LambdaMobileClientContext | None = None

    @staticmethod
    def get_remaining_time_in_millis() -> int:
        return 30_000


def now_iso(at: dt.datetime | None = None) -> str:
    return (at or dt.datetime.now(dt.UTC)).isoformat(timespec="milliseconds")


def admit(
    client: Any,
    account_id: str,
    request_id: str,
    cost: int,
    *,
    key_id: str = "key_test",
    at: dt.datetime | None = None,
) -> bool:
    """Exactly what admission does for credits: one TransactWriteItems with the reservation items.

    True if reserved; False if the balance did not cover ``cost`` (403 insufficient_credits).
    """
    items = reservation_items(account_id, request_id, cost, key_id, now_iso(at))
    try:
        client.transact_write_items(TransactItems=items)
    except client.exceptions.TransactionCanceledException as exc:
        codes = [r.get("Code") for r in exc.response.get("CancellationReasons", [])]
        if codes[BALANCE_ITEM] == "ConditionalCheckFailed":
            return False
        raise
    return True


def usage_event(account_id: str, request_id: str | None = None, **overrides: Any) -> UsageEvent:
    fields: dict[str, Any] = {
        "request_id": request_id or "req_" + uuid.uuid4().hex[:12],
        "account_id": account_id,
        "key_id": "key_test",
        "endpoint": "chat.completions",
        "public_model": "qwen3",
        "routed_model": "qwen3-32b",
        "provider": "openai",
        "input_tokens": 100,
        "output_tokens": 50,
        "latency_ms": 900,
        "outcome": "success",
        "status": 200,
        "credits": 1,
        "charged": True,
        "created_at_ms": int(time.time() * 1000),
    }
    fields.update(overrides)
    return UsageEvent(**fields)


def sqs_records(bodies: list[str]) -> dict[str, Any]:
    """An ``aws:sqs`` Lambda event carrying ``bodies``, as the event-source mapping delivers it."""
    now_ms = str(int(time.time() * 1000))
    records = []
    for body in bodies:
        message_id = str(uuid.uuid4())
        records.append(
            {
                "messageId": message_id,
                "receiptHandle": "rh-" + message_id,
                "body": body,
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "SentTimestamp": now_ms,
                    "SenderId": "AROAEXAMPLE:test",
                    "ApproximateFirstReceiveTimestamp": now_ms,
                },
                "messageAttributes": {},
                "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:test-UsageQueue",
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def bodies(*events: UsageEvent) -> list[str]:
    return [json.dumps(event.model_dump(mode="json")) for event in events]
