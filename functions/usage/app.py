"""Usage consumer (SQS): per-request records and aggregates, then settle or release the credits.

Powertools' BatchProcessor parses each record into ``UsageEvent`` and reports partial batch
failures: a message that fails (a malformed one always does) is retried alone and reaches the
dead-letter queue after the queue's maxReceiveCount, while the rest of its batch succeeds.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from shared.adapters.sqs_batch import LoggedBatchProcessor
from shared.observability import get_logger
from shared.usage.events import UsageEvent
from shared.usage.service import apply_usage_event


class UsageRecord(SqsRecordModel):
    body: Json[UsageEvent]


processor = LoggedBatchProcessor(event_type=EventType.SQS, model=UsageRecord)


def record_handler(record: UsageRecord) -> str:
    """One usage event: recorded once (a tool run's log entry too), then settled or released."""
    event = record.body
    applied = apply_usage_event(event)
    get_logger().debug("usage applied", extra={"request_id": event.request_id, "applied": applied})
    return applied


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    """Lambda entry point: the batch, with failed records reported individually."""
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
