"""SQS down at the end of a request: the usage event waits in the outbox; the scheduled job sends it."""

from __future__ import annotations

import json
import logging

import boto3
import pytest
from botocore.exceptions import ClientError
from credits_support import LambdaContext, admit, load_event, sqs_records, usage_event

from shared.adapters import usage_queue, usage_store
from shared.credits.ledger import balance, grant_credits


class FailingSqs:
    """Stands in for the SQS client while SQS is unavailable."""

    def __init__(self) -> None:
        self.calls = 0

    def send_message(self, **kwargs):
        self.calls += 1
        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "down"}}, "SendMessage")


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        from shared.observability import get_logger

        self.lines.append(get_logger().registered_formatter.format(record))


@pytest.fixture
def logged():
    """What the shared Powertools logger writes, as rendered lines."""
    from shared.observability import get_logger

    capture = Captured()
    logger = logging.getLogger(get_logger().name)
    logger.addHandler(capture)
    yield capture.lines
    logger.removeHandler(capture)


@pytest.fixture
def sqs_down(aws, monkeypatch):
    failing = FailingSqs()
    monkeypatch.setattr(usage_queue, "sqs", lambda: failing)
    monkeypatch.setattr(usage_queue, "_BACKOFF_BASE_S", 0.001)
    return failing


def queued(aws) -> list[dict]:
    sqs = boto3.client("sqs", region_name="us-east-1")
    return sqs.receive_message(QueueUrl=aws.names["UsageQueue"], MaxNumberOfMessages=10).get("Messages", [])


def test_a_failed_send_is_kept_in_the_outbox_and_resent_by_the_scheduled_job(
    aws, sqs_down, monkeypatch, logged
) -> None:
    # Given an admitted request whose usage event cannot be sent (SQS keeps failing)
    account = "acct_outbox"
    grant_credits(account, 5, source="admin", reference="seed", expires_at=None)
    assert admit(boto3.client("dynamodb", region_name="us-east-1"), account, "r-outbox", 2)
    event = usage_event(account, "r-outbox", credits=2)

    usage_queue.send_usage_event(event)

    # Then it was retried, not dropped: it waits in the outbox, and only its id was logged
    assert sqs_down.calls == usage_queue.SEND_ATTEMPTS
    assert [rid for rid, _ in usage_store.list_outbox(10)] == ["r-outbox"]
    assert queued(aws) == []
    (line,) = [line for line in logged if "outbox" in line]
    assert "usage event kept in the outbox" in line and "r-outbox" in line
    assert "qwen3" not in line and account not in line, "the log names the request id only"

    # When SQS is back and the scheduled job runs
    monkeypatch.undo()
    from functions.credit_expiry.app import handler

    summary = handler(load_event("credit_expiry", "schedule"), LambdaContext())

    # Then the event is on the queue, the outbox is empty, and consuming it charges the request once
    assert summary["outbox_resent"] == 1
    assert usage_store.list_outbox(10) == []
    messages = queued(aws)
    assert [json.loads(m["Body"])["request_id"] for m in messages] == ["r-outbox"]
    from functions.usage.app import handler as consume

    assert consume(sqs_records([messages[0]["Body"]]), LambdaContext()) == {"batchItemFailures": []}
    assert balance(account) == 3


def test_a_job_run_while_sqs_is_still_down_keeps_the_outbox(aws, sqs_down) -> None:
    from shared.usage.outbox import resend_outbox

    usage_queue.send_usage_event(usage_event("acct_outbox2", "r1"))

    assert resend_outbox() == 0
    assert [rid for rid, _ in usage_store.list_outbox(10)] == ["r1"]


def test_a_healthy_queue_takes_the_event_directly(aws) -> None:
    usage_queue.send_usage_event(usage_event("acct_direct", "r-direct"))

    assert [json.loads(m["Body"])["request_id"] for m in queued(aws)] == ["r-direct"]
    assert usage_store.list_outbox(10) == []
