"""Domain records of the ledger: lots and reservations (persistence layout: docs/CREDITS.md)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ReservationState = Literal["open", "settled", "released"]


@dataclass(frozen=True)
class Lot:
    """One grant of credits. ``expiry`` is None for lots that never expire."""

    sk: str
    lot_id: str
    amount: int
    remaining: int
    source: str
    created_at: str
    expiry: str | None = None
    expired_at: str | None = None
    reference: str | None = None

    @property
    def live(self) -> bool:
        """True while the lot still holds credits that count in the balance."""
        return self.expired_at is None and self.remaining > 0

    def due(self, now_iso: str) -> bool:
        """True once the lot's expiry has passed (the expiry job has not necessarily run yet)."""
        return self.expiry is not None and self.expiry <= now_iso


@dataclass(frozen=True)
class Reservation:
    """Credits taken from the balance at admission, pending settlement or release."""

    account_id: str
    request_id: str
    cost: int
    state: ReservationState
    created_at: str
    key_id: str | None = None


@dataclass(frozen=True)
class Take:
    """``amount`` credits taken from (or expired out of) ``lot``."""

    lot: Lot
    amount: int

    @property
    def new_remaining(self) -> int:
        return self.lot.remaining - self.amount
