"""Pure rules of the ledger: which lots pay for a request, and what of a lot may expire.

Lots arrive in sort-key order (``LOT#<expiry>#<lot_id>``): soonest-expiring first, lots that never
expire last. Invariant kept by every ledger operation (docs/CREDITS.md):

    balance == sum(remaining of live lots) - sum(cost of open reservations)
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.credits.models import Lot, Take


@dataclass(frozen=True)
class Allocation:
    """The lots a settled cost is taken from; ``uncovered`` > 0 only if the ledger was inconsistent."""

    takes: list[Take]
    uncovered: int


def allocate(lots: Iterable[Lot], cost: int) -> Allocation:
    """Take ``cost`` from the live lots in order (soonest-expiring first, no-expiry last)."""
    left = cost
    takes: list[Take] = []
    for lot in lots:
        if left <= 0:
            break
        if not lot.live:
            continue
        amount = min(lot.remaining, left)
        takes.append(Take(lot=lot, amount=amount))
        left -= amount
    return Allocation(takes=takes, uncovered=max(0, left))


def held_by_reservations(lots: Sequence[Lot], balance: int) -> int:
    """Credits that open reservations hold: live remainders not available in the balance."""
    return max(0, sum(lot.remaining for lot in lots if lot.live) - balance)


def plan_expiry(lots: Sequence[Lot], balance: int, now_iso: str) -> list[Take]:
    """What to expire of each due lot, leaving alone what open reservations will settle against.

    Open reservations settle against the soonest-expiring lots first, so the credits they hold are
    attributed to lots in sort order; only the rest of a due lot expires now. The remainder
    expires on a later run, once those reservations are settled (consumed) or released.
    """
    held = held_by_reservations(lots, balance)
    budget = max(0, balance)
    plan: list[Take] = []
    for lot in lots:
        if not lot.live:
            continue
        spoken_for = min(lot.remaining, held)
        held -= spoken_for
        if not lot.due(now_iso):
            continue
        amount = min(lot.remaining - spoken_for, budget)
        if amount > 0:
            plan.append(Take(lot=lot, amount=amount))
            budget -= amount
    return plan


def exhausted_due_lots(lots: Sequence[Lot], now_iso: str) -> list[Lot]:
    """Due lots with nothing left: only their entry in the expiring index needs removing."""
    return [lot for lot in lots if lot.due(now_iso) and lot.expired_at is None and lot.remaining <= 0]
