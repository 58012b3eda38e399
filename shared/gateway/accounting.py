"""After the upstream call: release or keep the reservation, and emit the one usage event.

The charging rule (docs/CREDITS.md): a request is charged once output has reached the client
and the answer completed, or the client went away after output started. Any failure before
output, an upstream error mid-stream, and every 4xx/5xx are not charged.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from shared.chat.canonical import Usage
from shared.errors import SluiceError
from shared.gateway.call import ChatCall
from shared.gateway.router import Target
from shared.limits import known
from shared.observability import get_logger
from shared.usage.events import Outcome as UsageOutcome
from shared.usage.events import UsageEvent


@dataclass
class Outcome:
    target: Target | None = None
    usage: Usage | None = None
    output_started: bool = False
    completed: bool = False
    client_closed: bool = False
    error: SluiceError | None = None

    @property
    def charged(self) -> bool:
        # An upstream failure is never charged, even if the client then hangs up on the error event.
        if self.error is not None:
            return False
        return self.completed or (self.client_closed and self.output_started)

    @property
    def status(self) -> int:
        if self.error is not None:
            return self.error.status
        return 499 if self.client_closed and not self.completed else 200


def usage_event(call: ChatCall, outcome: Outcome) -> UsageEvent:
    usage = outcome.usage
    target = outcome.target
    return UsageEvent(
        request_id=call.request_id,
        account_id=call.caller.account_id,
        key_id=call.caller.key.key_id,
        tool_id=call.tool_id,
        endpoint=call.endpoint,
        public_model=call.public_model,
        routed_model=target.entry.id if target else None,
        provider=target.route.provider if target else None,
        input_tokens=usage.input_tokens if usage else 0,
        output_tokens=usage.output_tokens if usage else 0,
        latency_ms=int((time.monotonic() - call.started) * 1000),
        outcome=_outcome(outcome),
        status=outcome.status,
        error_code=outcome.error.code if outcome.error else None,
        credits=(target.entry.credit_cost if target else call.reserved) if outcome.charged else call.reserved,
        charged=outcome.charged,
        stream=call.request.stream,
        created_at_ms=int(time.time() * 1000),
    )


def _outcome(outcome: Outcome) -> UsageOutcome:
    """The event's outcome: a client that went away before the end is told apart from a success
    (charged or not, by ``charged``) and from a failure."""
    if outcome.error is None and outcome.client_closed and not outcome.completed:
        return "client_closed"
    return "success" if outcome.charged else "failed"


def _release(call: ChatCall) -> bool:
    from shared.credits.ledger import release

    try:
        return release(call.caller.account_id, call.request_id)
    except Exception:  # the usage consumer releases it too: the usage event still says so
        get_logger().exception("release failed", extra={"request_id": call.request_id})
        return False


async def _finish(call: ChatCall, outcome: Outcome) -> None:
    from shared.adapters.usage_queue import send_usage_event_async

    if not outcome.charged and call.reserved:  # not the hot path: boto3 in a worker thread
        balance = known.balance_key(call.caller.account_id)
        if await asyncio.to_thread(_release, call):
            known.add(balance, call.reserved)  # the next admission can still state the balance
        else:
            known.forget([balance])  # released by someone else, or not at all: read it again
    await send_usage_event_async(usage_event(call, outcome))


async def finish(call: ChatCall, outcome: Outcome) -> None:
    """Account for the call; shielded so that a client disconnect cannot skip it."""
    if call.admission is None:
        return
    await asyncio.shield(_finish(call, outcome))
