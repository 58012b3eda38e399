"""Agent worker (SQS): each message ``{run_id, step}`` advances one agent run by one step.

Powertools' BatchProcessor parses each record and reports partial batch failures: a step that
failed transiently stays on the queue, comes back after the backoff the worker set on it, and
reaches the dead-letter queue after maxReceiveCount receives (the run is marked failed on the
last one). What a step does, and why a redelivered message never runs it twice: docs/AGENTS.md.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.batch.types import PartialItemFailureResponse
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from pydantic import Json

from shared.adapters.sqs_batch import LoggedBatchProcessor
from shared.agents.models import StepMessage
from shared.agents.worker import handle


class StepRecordModel(SqsRecordModel):
    body: Json[StepMessage]


processor = LoggedBatchProcessor(
    event_type=EventType.SQS, model=StepRecordModel, raise_on_entire_batch_failure=False
)


def record_handler(record: StepRecordModel) -> str:
    return handle(record.body, int(record.attributes.ApproximateReceiveCount), record.receiptHandle)


def handler(event: dict[str, Any], context: Any) -> PartialItemFailureResponse:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
