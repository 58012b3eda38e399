"""Which failures a step retries, and how long SQS keeps the message away in between (pure).

Transient: upstream 5xx and timeouts, 429s, a busy ledger, DynamoDB/SQS trouble and anything
unexpected; the message goes back to the queue and comes again after the backoff, until the
queue's maxReceiveCount sends it to the dead-letter queue. Permanent: every other error a client
could see (4xx): retrying cannot help, so the run fails at once.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from shared.agents.models import Reason
from shared.errors import RateLimited, SluiceError

LOCAL_RETRY_CAP_S = 2.0  # the local stack's queues hold a failed message for 2 s (docs/LOCAL_STACK.md)


class StepBusy(Exception):
    """Another delivery of the same message holds the step's lease; try again after it ends."""

    def __init__(self, seconds_left: int) -> None:
        super().__init__(f"step busy for {seconds_left} s")
        self.seconds_left = seconds_left


def is_transient(error: BaseException) -> bool:
    """True if retrying the step later may succeed."""
    if isinstance(error, RateLimited):
        return True
    if isinstance(error, SluiceError):
        return error.status >= 500
    return True


def reason_of(error: BaseException) -> Reason:
    """What the run shows for ``error``: a client-safe message, never exception text of unknown errors."""
    if isinstance(error, SluiceError):
        return Reason(code=error.code, message=error.message)
    return Reason(code="internal_error", message=f"Unexpected {type(error).__name__} in the agent worker.")


def retry_delay(
    receive_count: int,
    base: float,
    most: float,
    *,
    jitter: Callable[[float, float], float] = random.uniform,
) -> int:
    """Seconds before the next receive: ``base * 2**(n-1)``, capped, with up to half of it as jitter."""
    ceiling = min(most, base * 2 ** max(0, receive_count - 1))
    return max(0, round(jitter(ceiling / 2, ceiling)))
