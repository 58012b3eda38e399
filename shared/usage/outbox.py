"""Re-sending usage events that could not be queued when their request ended."""

from __future__ import annotations

from shared.adapters import usage_queue, usage_store
from shared.observability import get_logger

OUTBOX_PER_RUN = 500


def resend_outbox(limit: int = OUTBOX_PER_RUN) -> int:
    """Send pending events to the usage queue, deleting each once sent; returns how many were sent.

    Sent-then-not-deleted (a crash between the two) sends it again next run, which the consumer
    absorbs: it is idempotent by request id.
    """
    sent = 0
    for request_id, body in usage_store.list_outbox(limit):
        if not usage_queue.send_body(body):
            get_logger().warning("usage queue still failing; outbox kept", extra={"sent": sent})
            break
        usage_store.delete_outbox(request_id)
        sent += 1
    return sent
