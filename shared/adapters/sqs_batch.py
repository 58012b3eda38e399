"""The SQS consumers' batch processor: Powertools' ``BatchProcessor``, with each failed record logged.

Powertools reports a failed record back to SQS (``batchItemFailures``) and logs it only at debug,
unless it is handed a logger when it is built, which the consumers do at import. Here each failure
is logged at warning when it happens, through the lazily built logger: the record's message id,
its receive count and the exception with its traceback, so that the reason a message is on its
way to the dead-letter queue is in the function's log (docs/OPERATIONS.md). A body its model
refuses is described by the refused fields and why, never by their values: pydantic's own message
quotes the input, and a queue holds whatever was sent to it.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor
from aws_lambda_powertools.utilities.batch.base import FailureResponse
from aws_lambda_powertools.utilities.batch.exceptions import ExceptionInfo
from pydantic import ValidationError

from shared.observability import get_logger


def _identity(record: Any) -> tuple[str | None, str | None]:
    """The record's message id and receive count: from the consumer's model, or from Powertools'
    data class of a record the model refused (its ``raw_event``)."""
    raw = getattr(record, "raw_event", None)
    if isinstance(raw, dict):
        return raw.get("messageId"), (raw.get("attributes") or {}).get("ApproximateReceiveCount")
    count = getattr(getattr(record, "attributes", None), "ApproximateReceiveCount", None)
    return getattr(record, "messageId", None), None if count is None else str(count)


class LoggedBatchProcessor(BatchProcessor):
    def failure_handler(self, record: Any, exception: ExceptionInfo) -> FailureResponse:
        message_id, receives = _identity(record)
        details: dict[str, Any] = {"message_id": message_id, "receives": receives}
        error = exception[1]
        if isinstance(error, ValidationError):
            details["error"] = "ValidationError"
            details["refused"] = [".".join(map(str, e["loc"])) + ": " + e["type"] for e in error.errors()]
            get_logger().warning("queue record failed", extra=details)
        else:
            get_logger().warning("queue record failed", extra=details, exc_info=error)
        return super().failure_handler(record, exception)
