"""The local SQS event-source mapping: batches, partial batch failures, redrive to the DLQ."""

from __future__ import annotations

import importlib
import time
import uuid

import boto3
import pytest

from sluice.local.event_sources import SqsPoller
from sluice.local.lambda_runtime import InstancePool
from sluice.local.resources import LocalResources
from sluice.local.template import FunctionSpec, QueueMapping, parse_template

PROBE_TEMPLATE = {
    "Resources": {
        "ProbeQueue": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "VisibilityTimeout": 60,
                "RedrivePolicy": {
                    "deadLetterTargetArn": {"Fn::GetAtt": ["ProbeDLQ", "Arn"]},
                    "maxReceiveCount": 2,
                },
            },
        },
        "ProbeDLQ": {"Type": "AWS::SQS::Queue", "Properties": {}},
        "ProbeFunction": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "CodeUri": "fixtures/sqs_probe/",
                "Handler": "app.handler",
                "Events": {
                    "Queue": {
                        "Type": "SQS",
                        "Properties": {
                            "Queue": {"Ref": "ProbeQueue"},
                            "BatchSize": 5,
                            "FunctionResponseTypes": ["ReportBatchItemFailures"],
                        },
                    }
                },
            },
        },
    }
}


@pytest.fixture
def probe(moto_server):
    template = parse_template(PROBE_TEMPLATE)
    resources = LocalResources(template, prefix=f"q{uuid.uuid4().hex[:8]}", local_visibility_timeout=1)
    sqs = boto3.client("sqs", region_name="us-east-1")
    resources.provision(boto3.client("dynamodb", region_name="us-east-1"), sqs)
    module = importlib.import_module("fixtures.sqs_probe.app")
    module.processed.clear()
    module.batch_sizes.clear()
    spec: FunctionSpec = template.functions["ProbeFunction"]
    mapping: QueueMapping = template.queue_mappings[0]
    pool = InstancePool(spec, instances=1)
    poller = SqsPoller(mapping, resources.names["ProbeQueue"], resources.arns["ProbeQueue"], pool, sqs)
    yield module, poller, sqs, resources
    pool.shutdown()


def _drain(poller: SqsPoller, until, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not until():
        if not poller.poll_once():
            time.sleep(0.1)
    assert until(), "condition not reached in time"


def _count(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )["Attributes"]
    return int(attrs["ApproximateNumberOfMessages"]) + int(attrs["ApproximateNumberOfMessagesNotVisible"])


def test_messages_arrive_in_batches_no_larger_than_batch_size(probe) -> None:
    module, poller, sqs, resources = probe
    url = resources.names["ProbeQueue"]
    for i in range(12):
        sqs.send_message(QueueUrl=url, MessageBody=f"ok-{i}")

    _drain(poller, lambda: len(module.processed) == 12)

    assert sorted(module.processed) == sorted(f"ok-{i}" for i in range(12))
    assert max(module.batch_sizes) == 5
    assert _count(sqs, url) == 0


def test_partial_failure_keeps_only_the_failed_message_and_redrives_it_to_the_dlq(probe) -> None:
    module, poller, sqs, resources = probe
    url, dlq = resources.names["ProbeQueue"], resources.names["ProbeDLQ"]
    sqs.send_message_batch(
        QueueUrl=url,
        Entries=[
            {"Id": "a", "MessageBody": "ok-a"},
            {"Id": "p", "MessageBody": "poison-1"},
            {"Id": "b", "MessageBody": "ok-b"},
        ],
    )

    _drain(poller, lambda: _count(sqs, dlq) == 1)

    assert sorted(module.processed) == ["ok-a", "ok-b"], "the good messages ran exactly once"
    assert _count(sqs, url) == 0
    moved = sqs.receive_message(QueueUrl=dlq, AttributeNames=["All"])["Messages"]
    assert moved[0]["Body"] == "poison-1"
    assert int(moved[0]["Attributes"]["ApproximateReceiveCount"]) >= 2
    assert len(module.batch_sizes) >= 2, "the poison message was retried before it was moved"


def test_stop_waits_for_the_poll_in_hand() -> None:
    """The local stack stops its pollers before moto: a poll still in hand must end first, or it
    fails against a stopped server and logs an error on every Ctrl-C."""

    class SlowSqs:
        def __init__(self) -> None:
            self.polls = 0

        def receive_message(self, **_: object) -> dict[str, object]:
            self.polls += 1
            time.sleep(0.3)
            return {}

    sqs = SlowSqs()
    mapping = QueueMapping("Fn", "Queue", batch_size=1, window_seconds=0, report_failures=False)
    poller = SqsPoller(mapping, "url", "arn", pool=None, sqs=sqs)  # type: ignore[arg-type]
    thread = poller.start()
    while sqs.polls == 0:
        time.sleep(0.01)
    poller.stop(wait_s=5)
    assert not thread.is_alive()
    assert sqs.polls == 1
