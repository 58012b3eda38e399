"""Scheduled credit job (EventBridge, every 5 minutes).

1. re-send usage events kept in the outbox (so their settlement happens before any sweep);
2. expire what remains of lots past their expiry, exactly once;
3. release reservations left open by requests that never reported.
Each step is idempotent and safe to run concurrently with another run.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from shared.credits.expiry import expire_due_lots, sweep_stale_reservations
from shared.observability import get_logger
from shared.usage.outbox import resend_outbox


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Lambda entry point for the schedule; returns (and logs) what each step did."""
    resent = resend_outbox()
    run = expire_due_lots()
    released = sweep_stale_reservations()
    summary = {"outbox_resent": resent, **asdict(run), "reservations_released": released}
    get_logger().info("credit job finished", extra=summary)
    return summary
