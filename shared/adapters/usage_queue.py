"""Sending usage events to the usage queue, never dropping one.

SendMessage is retried; if SQS still fails, the event goes to the usage table's outbox
(``OUTBOX`` / ``<request_id>``) and the scheduled credit-expiry job sends it later. Only the
request id is logged.
"""

from __future__ import annotations

import asyncio
import random
import time

from botocore.exceptions import BotoCoreError, ClientError

from shared.adapters import usage_store
from shared.adapters.aws import sqs
from shared.adapters.aws_json import async_sqs
from shared.observability import get_logger
from shared.settings import get_settings
from shared.usage.events import UsageEvent

SEND_ATTEMPTS = 3
_BACKOFF_BASE_S = 0.05


def send_body(body: str) -> bool:
    """One SendMessage of a serialized event, retried with jittered backoff; False if SQS kept failing."""
    url = get_settings().usage_queue_url
    for attempt in range(SEND_ATTEMPTS):
        try:
            sqs().send_message(QueueUrl=url, MessageBody=body)
        except (BotoCoreError, ClientError):
            if attempt + 1 < SEND_ATTEMPTS:
                time.sleep(random.uniform(0, _BACKOFF_BASE_S * 2**attempt))
        else:
            return True
    return False


async def send_body_async(body: str) -> bool:
    """``send_body`` on the event loop (the chat hot path): the client retries with backoff."""
    try:
        await async_sqs().call(
            "SendMessage", {"QueueUrl": get_settings().usage_queue_url, "MessageBody": body}
        )
    except Exception:  # whatever failed (SQS, credentials, the network): the outbox keeps the event
        get_logger().warning("usage event not queued", exc_info=True)
        return False
    return True


async def send_usage_event_async(event: UsageEvent) -> None:
    """``send_usage_event`` for the chat hot path: SQS from the loop, the outbox (rare) in a thread."""
    body = event.model_dump_json()
    if await send_body_async(body):
        return
    await asyncio.to_thread(_keep_in_outbox, event.request_id, body)


def send_usage_event(event: UsageEvent) -> None:
    """Queue the event for the usage consumer; on SQS failure keep it in the outbox. Never raises.

    If the outbox write fails too, the event is lost; its reservation (if any) stays open until
    the stale-reservation sweep releases it, so the request ends up not charged.
    """
    body = event.model_dump_json()
    if send_body(body):
        return
    _keep_in_outbox(event.request_id, body)


def _keep_in_outbox(request_id: str, body: str) -> None:
    try:
        usage_store.put_outbox(request_id, body)
    except (BotoCoreError, ClientError):
        get_logger().exception("usage event lost", extra={"request_id": request_id})
        return
    get_logger().warning("usage event kept in the outbox", extra={"request_id": request_id})
