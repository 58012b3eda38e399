"""Well-formed answers to the request path's AWS calls, as DynamoDB and SQS would give them.

Used where the benchmark answers those calls itself: inside the gateway (bench/stack.py, "AWS in
process") and in another process after a pause (bench/responder.py, "AWS after a pause").
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

BENCH_CREDITS = 10_000_000
# The request path's calls (cold-cache reads go to moto in every mode), by their X-Amz-Target.
TARGETS = {
    "DynamoDB_20120810.TransactWriteItems": "dynamodb:TransactWriteItems",
    "DynamoDB_20120810.BatchGetItem": "dynamodb:BatchGetItem",
    "AmazonSQS.SendMessage": "sqs:SendMessage",
}
ANSWERED = frozenset(TARGETS.values())


def answer(operation: str, request: dict[str, Any]) -> dict[str, Any]:
    """The answer to one call (``service:Operation``); ``{}`` (a write's) for any other."""
    if operation == "dynamodb:BatchGetItem":
        extra = {"count": {"N": "1"}, "balance": {"N": str(BENCH_CREDITS)}}
        return {
            "Responses": {
                t: [{**key, **extra} for key in spec["Keys"]] for t, spec in request["RequestItems"].items()
            },
            "UnprocessedKeys": {},
        }
    if operation == "sqs:SendMessage":
        digest = hashlib.md5(str(request.get("MessageBody", "")).encode(), usedforsecurity=False).hexdigest()
        return {"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": digest}
    return {}
