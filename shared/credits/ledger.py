"""Credit ledger operations.

Layout of the ledger table (partition = account; docs/CREDITS.md has the whole of it):
- ``BALANCE``: ``balance`` = credits available now (unexpired lot remainders minus reservations);
  ``consumed`` and ``expired``: lifetime counters.
- ``LOT#<expiry|never>#<lot_id>``: one lot: amount, remaining, source, expiry. Sorting by key
  puts soonest-expiring lots first and never-expiring lots last.
- ``RES#<request_id>``: a reservation taken at admission: open, then settled or released.
- ``GRANT#<reference>``: makes a grant idempotent by its reference (payment event id, invite, ...).
- ``EXP#<lot_id>``: what the expiry job took out of a lot.
"""

from __future__ import annotations

import datetime as dt
import random
import secrets
import time
from typing import Literal

from shared.adapters import ledger_store, reservation_store
from shared.credits.allocation import allocate
from shared.credits.models import Lot
from shared.errors import InvalidRequest, ServiceUnavailable
from shared.observability import get_logger

LotSource = Literal["signup", "invite", "package", "admin"]
NEVER = "9999-12-31T23:59:59Z"
SETTLE_ATTEMPTS = 6
MAX_LOTS_PER_SETTLEMENT = 90  # a transaction holds <= 100 items: reservation + balance + lots


def iso_seconds(moment: dt.datetime) -> str:
    """The one spelling of instants the ledger compares as strings (lot ``expiry``, expiry runs)."""
    return moment.astimezone(dt.UTC).isoformat(timespec="seconds")


def lot_sort_key(expires_at: dt.datetime | None, lot_id: str) -> str:
    expiry = expires_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if expires_at else NEVER
    return f"LOT#{expiry}#{lot_id}"


def grant_credits(
    account_id: str,
    amount: int,
    *,
    source: LotSource,
    reference: str,
    expires_at: dt.datetime | None,
) -> bool:
    """Add a lot of ``amount`` credits; False when ``reference`` was already granted."""
    if amount <= 0:
        raise InvalidRequest("A grant must be a positive number of credits.", param="amount")
    lot_id = "lot_" + secrets.token_hex(6)
    now = dt.datetime.now(dt.UTC)
    return ledger_store.add_lot(
        account_id=account_id,
        sort_key=lot_sort_key(expires_at, lot_id),
        lot_id=lot_id,
        amount=amount,
        source=source,
        reference=reference,
        created_at=now.isoformat(timespec="seconds"),
        expires_at=iso_seconds(expires_at) if expires_at else None,
    )


def balance(account_id: str) -> int:
    """Credits available now (what admission checks and ``X-Credits-Remaining`` shows)."""
    return ledger_store.get_balance(account_id)


def release(account_id: str, request_id: str, *, reason: str = "failed") -> bool:
    """Give an open reservation's credits back to the balance; idempotent.

    True if this call released it; False if there was no open reservation (already released or
    settled, or never made): a second call changes nothing.
    """
    res = reservation_store.get_reservation(account_id, request_id)
    if res is None or res.state != "open":
        return False
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    return reservation_store.release_reservation(res, now, reason)


def _lots_covering(account_id: str, cost: int) -> list[Lot]:
    """Live lots in consumption order, read until they cover ``cost``."""
    lots: list[Lot] = []
    covered = 0
    for lot in ledger_store.iter_lots(account_id, live_only=True):
        lots.append(lot)
        covered += lot.remaining
        if covered >= cost or len(lots) >= MAX_LOTS_PER_SETTLEMENT:
            break
    return lots


def settle(account_id: str, request_id: str, charge: int | None = None) -> bool:
    """Charge a reservation for good: allocate the charge to lots, soonest-expiring first; idempotent.

    ``charge`` (default: the reserved cost) is capped at the reserved cost; what was reserved but
    not charged goes back to the balance in the same transaction. True if this call settled it;
    False if it was already settled or released (a redelivered usage event) or never reserved.
    """
    for attempt in range(SETTLE_ATTEMPTS):
        res = reservation_store.get_reservation(account_id, request_id)
        if res is None or res.state != "open":
            if res is None:
                get_logger().warning("no reservation to settle", extra={"request_id": request_id})
            return False
        amount = res.cost if charge is None else max(0, min(charge, res.cost))
        allocation = allocate(_lots_covering(account_id, amount), amount)
        if allocation.uncovered:
            get_logger().warning(
                "lots do not cover a settled reservation",
                extra={"request_id": request_id, "uncovered": allocation.uncovered},
            )
        now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
        outcome = reservation_store.settle_reservation(
            res, amount, allocation.takes, allocation.uncovered, now
        )
        if outcome != "lots_changed":
            return outcome == "settled"
        time.sleep(random.uniform(0, 0.02 * 2**attempt))
    raise ServiceUnavailable("The ledger is busy; settlement will be retried.")
