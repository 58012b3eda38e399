"""Scheduled ledger work: expire what is left of lots past their expiry; release stale reservations.

Both are safe to run twice or concurrently: every change is a conditional write on the state it
was planned from, so a second run finds nothing left to do. TTL is never relied on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.adapters import ledger_expiry_store, ledger_store
from shared.credits.allocation import exhausted_due_lots, plan_expiry
from shared.credits.ledger import iso_seconds, release
from shared.observability import get_logger

# Longer than any request can hold a reservation (Lambda's hard limit is 15 minutes) plus margin
# for the usage event's trip through the queue. A reservation older than this is released.
STALE_AFTER = dt.timedelta(minutes=20)
ACCOUNTS_PER_RUN = 500
RESERVATIONS_PER_RUN = 1000
ACCOUNT_ATTEMPTS = 4
LOTS_PER_TRANSACTION = 30  # two items a lot plus the balance: within DynamoDB's 100


@dataclass
class ExpiryRun:
    accounts: int = 0
    lots_expired: int = 0
    credits_expired: int = 0
    accounts_deferred: int = 0


def expire_account(account_id: str, now_iso: str) -> tuple[int, int] | None:
    """Expire the account's due lots; ``(lots, credits)`` expired, or None if it kept racing."""
    lots_done = credits_done = 0
    for _ in range(ACCOUNT_ATTEMPTS):
        lots = list(ledger_store.iter_lots(account_id))
        current = ledger_store.get_balance(account_id)
        for lot in exhausted_due_lots(lots, now_iso):
            ledger_expiry_store.unindex(account_id, lot)
        plan = plan_expiry(lots, current, now_iso)
        if not plan:
            return lots_done, credits_done
        batch = plan[:LOTS_PER_TRANSACTION]
        if ledger_expiry_store.expire(account_id, batch, now_iso):
            lots_done += sum(1 for take in batch if take.new_remaining == 0)
            credits_done += sum(take.amount for take in batch)
    return None


def expire_due_lots(now: dt.datetime | None = None) -> ExpiryRun:
    """Expire what remains of every lot whose expiry has passed, exactly once."""
    now_iso = iso_seconds(now or dt.datetime.now(dt.UTC))
    run = ExpiryRun()
    for account_id in ledger_expiry_store.accounts_with_due_lots(now_iso, ACCOUNTS_PER_RUN):
        run.accounts += 1
        result = expire_account(account_id, now_iso)
        if result is None:
            run.accounts_deferred += 1
            get_logger().warning("expiry deferred to the next run", extra={"account_id": account_id})
            continue
        run.lots_expired += result[0]
        run.credits_expired += result[1]
    return run


def sweep_stale_reservations(now: dt.datetime | None = None) -> int:
    """Release reservations left open longer than ``STALE_AFTER`` (a crashed request); returns how many."""
    cutoff = ((now or dt.datetime.now(dt.UTC)) - STALE_AFTER).astimezone(dt.UTC)
    released = 0
    stale = ledger_expiry_store.stale_reservations(
        cutoff.isoformat(timespec="milliseconds"), RESERVATIONS_PER_RUN
    )
    for account_id, request_id in stale:
        if release(account_id, request_id, reason="stale"):
            released += 1
            get_logger().info("stale reservation released", extra={"request_id": request_id})
    return released
