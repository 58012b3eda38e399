"""Contact notifier (SQS): forwards each new contact message to the operator.

SES when ``SLUICE_CONTACT_NOTIFY_EMAIL`` (template parameter ``ContactNotifyEmail``) is set,
otherwise the message is only marked ``stored_only``. Powertools' BatchProcessor reports partial
failures: a message whose email fails is retried alone and reaches the DLQ after
``maxReceiveCount`` receives. Nothing personal is logged: ids and outcomes only.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from shared.adapters.sqs_batch import LoggedBatchProcessor
from shared.contact.models import ContactNotice
from shared.contact.service import notify
from shared.observability import get_logger


class NoticeRecord(SqsRecordModel):
    body: Json[ContactNotice]


processor = LoggedBatchProcessor(event_type=EventType.SQS, model=NoticeRecord)


def record_handler(record: NoticeRecord) -> str:
    outcome = notify(record.body.contact_id)
    get_logger().info("contact notice", extra={"contact_id": record.body.contact_id, "outcome": outcome})
    return outcome


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
