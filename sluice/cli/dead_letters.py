"""Dead-letter queues: how full they are, what is in them, and moving messages back to their queue.

SQS's own redrive (``StartMessageMoveTask``) is not used: moto does not implement it, and this
loop works the same against a deployed stack and the local one. Each message is received from
the dead-letter queue, sent to its source queue with the same body and message attributes, and
deleted from the dead-letter queue only once that send succeeded. A failure between the send and
the delete leaves a copy in both queues (at least once, never lost); every consumer absorbs the
duplicate (docs/OPERATIONS.md says how).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

BATCH = 10  # SQS's most per receive
HOLD_S = 60  # a message being moved stays hidden this long (it is sent and deleted in far less)
PEEK_HOLD_S = 30  # hidden while a peek reads it, so that no message is listed twice; then shown again
_KEPT_ATTRIBUTE_FIELDS = ("DataType", "StringValue", "BinaryValue")


@dataclass(frozen=True)
class Depth:
    """A queue's approximate message counts, as SQS reports them."""

    waiting: int
    in_flight: int
    delayed: int


@dataclass
class Moved:
    """What a redrive did: messages moved, and why it stopped early (None: it did not)."""

    moved: int = 0
    stopped: str | None = None


def depth(sqs: Any, url: str) -> Depth:
    names = ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    names.append("ApproximateNumberOfMessagesDelayed")
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=names)["Attributes"]
    counts = [int(attributes.get(name, 0)) for name in names]
    return Depth(*counts)


def _receive(sqs: Any, url: str, count: int, hold_s: int, wait_s: int) -> list[dict[str, Any]]:
    response = sqs.receive_message(
        QueueUrl=url,
        MaxNumberOfMessages=max(1, min(BATCH, count)),
        VisibilityTimeout=hold_s,
        WaitTimeSeconds=wait_s,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
    )
    return list(response.get("Messages", []))


def _show_again(sqs: Any, url: str, messages: list[dict[str, Any]]) -> None:
    """Make received messages visible at once (a peek, or a redrive that stopped)."""
    for start in range(0, len(messages), BATCH):
        chunk = messages[start : start + BATCH]
        entries = [
            {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"], "VisibilityTimeout": 0}
            for i, m in enumerate(chunk)
        ]
        sqs.change_message_visibility_batch(QueueUrl=url, Entries=entries)


def peek(sqs: Any, url: str, limit: int, *, wait_s: int = 0) -> list[dict[str, Any]]:
    """Up to ``limit`` messages, each once, left in the queue (visible again when this returns)."""
    seen: dict[str, dict[str, Any]] = {}
    try:
        while len(seen) < limit:
            batch = _receive(sqs, url, limit - len(seen), PEEK_HOLD_S, wait_s)
            fresh = [m for m in batch if m["MessageId"] not in seen]
            if not fresh:
                break
            seen.update((m["MessageId"], m) for m in fresh)
    finally:
        _show_again(sqs, url, list(seen.values()))
    return list(seen.values())


def _send_arguments(message: dict[str, Any]) -> dict[str, Any]:
    """The body and message attributes as received (and the X-Ray trace header, if any)."""
    arguments: dict[str, Any] = {"MessageBody": message["Body"]}
    attributes = {
        name: {k: v for k, v in value.items() if k in _KEPT_ATTRIBUTE_FIELDS}
        for name, value in (message.get("MessageAttributes") or {}).items()
    }
    if attributes:
        arguments["MessageAttributes"] = attributes
    trace = (message.get("Attributes") or {}).get("AWSTraceHeader")
    if trace:
        arguments["MessageSystemAttributes"] = {
            "AWSTraceHeader": {"DataType": "String", "StringValue": trace}
        }
    return arguments


def _error(exc: Exception) -> str:
    if isinstance(exc, ClientError):
        error = exc.response.get("Error", {})
        return f"{error.get('Code', 'error')}: {error.get('Message', '')}".strip()
    return str(exc)


def redrive(sqs: Any, dead_letter_url: str, source_url: str, limit: int, *, wait_s: int = 0) -> Moved:
    """Move up to ``limit`` messages back to the source queue: send, then delete; stop at a failure.

    A message whose send failed is shown again at once and stays in the dead-letter queue; one sent
    but not deleted comes back there after ``HOLD_S`` and would be sent again by the next redrive.
    """
    result = Moved()
    while result.moved < limit:
        batch = _receive(sqs, dead_letter_url, limit - result.moved, HOLD_S, wait_s)
        if not batch:
            break
        for index, message in enumerate(batch):
            try:
                sqs.send_message(QueueUrl=source_url, **_send_arguments(message))
            except (BotoCoreError, ClientError) as exc:
                _show_again(sqs, dead_letter_url, batch[index:])
                result.stopped = f"send failed ({_error(exc)}); the message stays in the dead-letter queue"
                return result
            try:
                sqs.delete_message(QueueUrl=dead_letter_url, ReceiptHandle=message["ReceiptHandle"])
            except (BotoCoreError, ClientError) as exc:
                _show_again(sqs, dead_letter_url, batch[index + 1 :])
                result.moved += 1
                result.stopped = (
                    f"sent, but not deleted from the dead-letter queue ({_error(exc)}): a later "
                    "redrive sends it again, which its consumer absorbs"
                )
                return result
            result.moved += 1
    return result
