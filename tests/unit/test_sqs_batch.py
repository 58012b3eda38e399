"""The consumers' batch processor logs each failed record: its message id, receives and the error."""

from __future__ import annotations

import json

from aws_lambda_powertools.utilities.batch import EventType, process_partial_response
from aws_lambda_powertools.utilities.parser.models import SqsRecordModel
from support.logs import (
    LogCapture,
    log_capture,  # noqa: F401 - the `logs` fixture
)

from shared.adapters.sqs_batch import LoggedBatchProcessor


def sqs_record(message_id: str, body: str, receives: int) -> dict[str, object]:
    return {
        "messageId": message_id,
        "receiptHandle": f"rh-{message_id}",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receives),
            "SentTimestamp": "1700000000000",
            "SenderId": "AIDA",
            "ApproximateFirstReceiveTimestamp": "1700000000001",
        },
        "messageAttributes": {},
        "md5OfBody": "0" * 32,
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:q",
        "awsRegion": "us-east-1",
    }


def test_a_record_whose_handler_raises_is_logged_with_its_id_and_traceback(logs: LogCapture) -> None:
    def handle(record: SqsRecordModel) -> str:
        if record.body == "bad":
            raise RuntimeError("the ledger is busy")
        return "ok"

    processor = LoggedBatchProcessor(event_type=EventType.SQS, model=SqsRecordModel)
    event = {"Records": [sqs_record("m-good", "fine", 1), sqs_record("m-bad", "bad", 3)]}

    answer = process_partial_response(event=event, record_handler=handle, processor=processor, context=None)

    assert answer == {"batchItemFailures": [{"itemIdentifier": "m-bad"}]}
    [line] = [line for line in map(json.loads, logs.lines) if line["message"] == "queue record failed"]
    assert (line["message_id"], line["receives"], line["level"]) == ("m-bad", "3", "WARNING")
    assert "RuntimeError: the ledger is busy" in str(line["exception"])
