"""The embedded AWS's speed-ups (sluice/local/moto_speedups.py) change no answer: a queue's
attributes are moto's own, name for name and value for value, and the server they are installed
in still routes every service and dedupes FIFO messages by content."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.sqs.models import Queue, sqs_backends

from sluice.local.moto_speedups import QueueAttributes

ACCOUNT, REGION = "123456789012", "us-east-1"


@pytest.fixture
def backend() -> Iterator[Any]:
    with mock_aws():
        yield sqs_backends[ACCOUNT][REGION]


def _queues(backend: Any) -> dict[str, Any]:
    dlq = backend.create_queue("dlq")
    return {
        "standard": backend.create_queue("plain"),
        "delayed": backend.create_queue("slow", DelaySeconds="30"),
        "fifo": backend.create_queue("ordered.fifo", FifoQueue="true"),
        "fifo, content dedup": backend.create_queue(
            "dedup.fifo", FifoQueue="true", ContentBasedDeduplication="true"
        ),
        "kms": backend.create_queue("sealed", KmsMasterKeyId="alias/aws/sqs"),
        "policy": backend.create_queue(
            "guarded",
            Policy=json.dumps({"Version": "2012-10-17", "Statement": []}),
        ),
        "redrive": backend.create_queue(
            "retried",
            RedrivePolicy=json.dumps({"deadLetterTargetArn": dlq.queue_arn, "maxReceiveCount": 3}),
        ),
    }


def test_every_kind_of_queue_has_moto_s_own_attributes_in_moto_s_order(backend) -> None:
    moto_attributes = vars(Queue)["attributes"].fget  # moto's property: nothing is installed here
    assert not isinstance(vars(Queue)["attributes"].fget, type), "moto's own, not QueueAttributes"
    for kind, queue in _queues(backend).items():
        for delay in (None, 60):  # one waiting, one delayed (FIFO queues refuse a per-message delay)
            if queue.fifo_queue and delay:
                continue
            fifo = {"group_id": "g", "deduplication_id": uuid.uuid4().hex} if queue.fifo_queue else {}
            backend.send_message(queue.name, "body", delay_seconds=delay, **fifo)
        lazy = QueueAttributes(queue)
        expected = moto_attributes(queue)
        assert list(lazy) == list(expected), kind
        assert dict(lazy) == expected, kind
        assert len(lazy) == len(expected), kind
        assert lazy.get("ContentBasedDeduplication") == expected.get("ContentBasedDeduplication"), kind
        assert "NoSuchAttribute" not in lazy and lazy.get("NoSuchAttribute") is None, kind


def test_the_counts_are_read_when_asked_for_not_when_the_mapping_is_made(backend) -> None:
    queue = backend.create_queue("counted")
    attributes = QueueAttributes(queue)
    backend.send_message("counted", "one")
    assert attributes["ApproximateNumberOfMessages"] == 1
    with pytest.raises(KeyError):
        attributes["FifoQueue"]  # a standard queue has no FIFO attributes, as in moto


def test_the_server_routes_dedupes_and_counts_with_the_speedups_in(moto_server) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    fifo = sqs.create_queue(
        QueueName=f"d{uuid.uuid4().hex[:8]}.fifo",
        Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
    )["QueueUrl"]
    for body in ("same", "same", "other"):
        sqs.send_message(QueueUrl=fifo, MessageBody=body, MessageGroupId="g")
    held = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["ApproximateNumberOfMessages"])
    assert held["Attributes"] == {"ApproximateNumberOfMessages": "2"}, "the repeated body was dropped"

    plain = sqs.create_queue(QueueName=f"p{uuid.uuid4().hex[:8]}")["QueueUrl"]
    for i in range(3):
        sqs.send_message(QueueUrl=plain, MessageBody=str(i))
    counts = sqs.get_queue_attributes(QueueUrl=plain, AttributeNames=["All"])["Attributes"]
    assert counts["ApproximateNumberOfMessages"] == "3"
    assert counts["SqsManagedSseEnabled"] in {"true", "false"}, "booleans are spelled as SQS spells them"
    named = sqs.get_queue_attributes(QueueUrl=fifo, AttributeNames=["ContentBasedDeduplication"])
    assert named["Attributes"] == {"ContentBasedDeduplication": "true"}

    tables = boto3.client("dynamodb", region_name=REGION).list_tables()
    assert "TableNames" in tables, "another service's host still reaches its backend"
