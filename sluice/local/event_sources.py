"""Lambda's SQS event-source mappings and EventBridge schedules, emulated for the local stack.

SQS, as Lambda does it: receive a batch, invoke the function with an ``aws:sqs`` event, delete
what succeeded. With ``ReportBatchItemFailures`` only the reported items stay on the queue; a
handler exception leaves the whole batch. Messages left on the queue come back after the
visibility timeout, and the queue's own redrive policy moves them to the DLQ after
``maxReceiveCount`` receives (moto implements redrive as SQS does).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from shared.observability import get_logger
from sluice.local.lambda_runtime import InstancePool
from sluice.local.template import QueueMapping, ScheduleEvent

_RATE = re.compile(r"^rate\((\d+)\s+(minute|minutes|hour|hours|day|days)\)$")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    records = []
    for message in messages:
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": message.get("MessageAttributes", {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": "us-east-1",
            }
        )
    return {"Records": records}


def failed_ids(result: Any, mapping: QueueMapping, batch: list[dict[str, Any]]) -> set[str]:
    """Message ids that must stay on the queue after one invocation."""
    if not mapping.report_failures:
        return set()
    failures = (result or {}).get("batchItemFailures", []) if isinstance(result, dict) else []
    ids = {str(f.get("itemIdentifier")) for f in failures}
    known = {m["MessageId"] for m in batch}
    # Lambda treats an unknown or empty identifier as a failure of the whole batch.
    return known if ids - known else ids


@dataclass
class SqsPoller:
    mapping: QueueMapping
    queue_url: str
    queue_arn: str
    pool: InstancePool
    sqs: Any
    poll_interval: float = 0.1
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def poll_once(self) -> int:
        """Receive and process one batch; returns how many messages were received."""
        response = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=min(self.mapping.batch_size, 10),
            WaitTimeSeconds=0,  # the embedded AWS serves one request at a time: never block it
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        )
        batch = response.get("Messages", [])
        if not batch:
            return 0
        try:
            result = self.pool.invoke_blocking(sqs_event(batch, self.queue_arn))
            keep = failed_ids(result, self.mapping, batch)
        except Exception:
            get_logger().exception("sqs handler failed", extra={"function": self.mapping.function})
            keep = {m["MessageId"] for m in batch}
        done = [m for m in batch if m["MessageId"] not in keep]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(batch)

    def run(self) -> None:
        while not self._stop.is_set():
            try:
                received = self.poll_once()
            except Exception:
                get_logger().exception("sqs poll failed", extra={"function": self.mapping.function})
                received = 0
            if not received:
                self._stop.wait(self.poll_interval)

    def start(self) -> threading.Thread:
        thread = self._thread = threading.Thread(
            target=self.run, name=f"sqs-{self.mapping.function}", daemon=True
        )
        thread.start()
        return thread

    def stop(self, wait_s: float = 0.0) -> None:
        """No more polls; with ``wait_s``, until the one in hand (and its invocation) has ended."""
        self._stop.set()
        if wait_s and self._thread is not None:
            self._thread.join(wait_s)


def schedule_event(schedule: ScheduleEvent) -> dict[str, Any]:
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": "123456789012",
        "time": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": "us-east-1",
        "resources": [f"arn:aws:events:us-east-1:123456789012:rule/{schedule.function}-{schedule.name}"],
        "detail": {},
    }


def rate_seconds(expression: str) -> int | None:
    """Seconds between runs of a ``rate(...)`` schedule; None for ``cron(...)``."""
    match = _RATE.match(expression.strip())
    if not match:
        return None
    return int(match.group(1)) * _UNIT_SECONDS[match.group(2).rstrip("s")]


@dataclass
class ScheduleRunner:
    """Runs rate() schedules at their interval; every schedule can also be run on demand."""

    schedule: ScheduleEvent
    pool: InstancePool
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def run_now(self) -> Any:
        return self.pool.invoke_blocking(schedule_event(self.schedule))

    async def invoke(self) -> Any:
        """``run_now`` from an event loop: the local gateway's ``POST /__local/schedules/{name}``."""
        return await self.pool.invoke(schedule_event(self.schedule))

    def run(self) -> None:
        interval = rate_seconds(self.schedule.expression)
        if interval is None or not self.schedule.enabled:
            return
        while not self._stop.wait(interval):
            started = time.monotonic()
            try:
                self.run_now()
            except Exception:
                get_logger().exception("scheduled run failed", extra={"function": self.schedule.function})
            get_logger().info(
                "scheduled run",
                extra={"function": self.schedule.function, "ms": round((time.monotonic() - started) * 1000)},
            )

    def start(self) -> threading.Thread:
        thread = self._thread = threading.Thread(
            target=self.run, name=f"schedule-{self.schedule.function}", daemon=True
        )
        thread.start()
        return thread

    def stop(self, wait_s: float = 0.0) -> None:
        """No more runs; with ``wait_s``, until the one in hand has ended."""
        self._stop.set()
        if wait_s and self._thread is not None:
            self._thread.join(wait_s)
