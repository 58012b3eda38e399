"""A poison usage message reaches the DLQ after maxReceiveCount; the rest of its batch succeeds.

The real usage handler runs behind the local SQS event-source mapping of template.yaml.
"""

from __future__ import annotations

import json
import time
import uuid

import boto3
import pytest
from credits_support import admit, bodies, usage_event
from faults_support import (
    LogCapture,
    log_capture,  # noqa: F401 - the `logs` fixture
)

from shared.credits.ledger import balance, grant_credits
from sluice.local.event_sources import SqsPoller
from sluice.local.lambda_runtime import InstancePool
from sluice.local.resources import LocalResources


def _reset_caches() -> None:
    from shared.adapters.aws import client
    from shared.settings import get_settings

    get_settings.cache_clear()
    client.cache_clear()


@pytest.fixture
def pipeline(moto_server, template, monkeypatch):
    """The template's tables and queues (1 s visibility timeout) and the usage function's poller."""
    resources = LocalResources(template, prefix=f"u{uuid.uuid4().hex[:8]}", local_visibility_timeout=1)
    sqs = boto3.client("sqs", region_name="us-east-1")
    resources.provision(boto3.client("dynamodb", region_name="us-east-1"), sqs)
    for key, value in resources.environment("UsageFunction").items():
        monkeypatch.setenv(key, value)
    _reset_caches()
    mapping = next(m for m in template.queue_mappings if m.function == "UsageFunction")
    pool = InstancePool(template.functions["UsageFunction"], instances=1)
    poller = SqsPoller(mapping, resources.names[mapping.queue], resources.arns[mapping.queue], pool, sqs)
    yield poller, sqs, resources
    pool.shutdown()
    _reset_caches()


def _count(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_poison_message_goes_to_the_dlq_while_its_batch_mates_are_settled(
    pipeline, template, logs: LogCapture
) -> None:
    poller, sqs, resources = pipeline
    queue, dlq = resources.names["UsageQueue"], resources.names["UsageDeadLetterQueue"]
    max_receives = template.resources("AWS::SQS::Queue")["UsageQueue"]["RedrivePolicy"]["maxReceiveCount"]
    account = "acct_dlq"
    grant_credits(account, 10, source="admin", reference="seed", expires_at=None)
    ddb = boto3.client("dynamodb", region_name="us-east-1")
    for i in range(3):
        assert admit(ddb, account, f"r{i}", 1)
    good = bodies(*(usage_event(account, f"r{i}") for i in range(3)))
    entries = [{"Id": f"g{i}", "MessageBody": body} for i, body in enumerate(good)]
    entries.insert(1, {"Id": "poison", "MessageBody": '{"request_id": "poison", "not": "a usage event"}'})
    sqs.send_message_batch(QueueUrl=queue, Entries=entries)

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _count(sqs, dlq) == 0:
        if not poller.poll_once():
            time.sleep(0.2)

    assert _count(sqs, dlq) == 1, "the poison message was moved to the DLQ"
    moved = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"][0]
    assert "poison" in moved["Body"]
    assert int(moved["Attributes"]["ApproximateReceiveCount"]) >= max_receives
    assert _count(sqs, queue) == 0
    assert balance(account) == 7, "the three good events were settled, once each"
    failed = [line for line in map(json.loads, logs.lines) if line["message"] == "queue record failed"]
    assert len({line["message_id"] for line in failed}) == 1, "only the poison message failed"
    assert [line["receives"] for line in failed] == [str(n) for n in range(1, max_receives + 1)]
    assert failed[0]["level"] == "WARNING" and failed[0]["error"] == "ValidationError"
    assert (
        "body.not: extra_forbidden" in failed[0]["refused"]
        and "body.credits: missing" in failed[0]["refused"]
    )
    assert "a usage event" not in json.dumps(failed), "the body's values are not logged"
