"""What the usage consumer does with one usage event: record it once, then settle or release."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from shared.adapters import usage_store
from shared.credits import ledger
from shared.tools.run_log import record_tool_run
from shared.usage.aggregates import SEEN_TTL, request_record, seen_key, usage_counters
from shared.usage.events import UsageEvent

Applied = Literal["settled", "released", "unchanged"]


def record_usage(event: UsageEvent) -> bool:
    """The per-request record and every aggregate, written once per request id; False on a repeat."""
    seen_until = int((dt.datetime.now(dt.UTC) + SEEN_TTL).timestamp())
    return usage_store.record_once(
        seen_key(event.request_id), seen_until, request_record(event), usage_counters(event)
    )


def apply_usage_event(event: UsageEvent) -> Applied:
    """Record the event (and a tool run's log entry), then charge (settle) or give back (release)
    its reservation; idempotent.

    A redelivered event finds its marker (nothing is counted twice) and a reservation that is no
    longer open (nothing is charged twice). If a previous delivery failed between the two steps,
    this one completes the second.
    """
    record_usage(event)
    if event.tool_id is not None:
        record_tool_run(event)  # the tool's run log: item and log line once (nothing on a redelivery)
    if event.charged:
        settled = ledger.settle(event.account_id, event.request_id, charge=event.credits)
        return "settled" if settled else "unchanged"
    released = ledger.release(event.account_id, event.request_id, reason="not_charged")
    return "released" if released else "unchanged"
