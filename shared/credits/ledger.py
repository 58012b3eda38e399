"""Credit ledger operations.

Layout of the ledger table (partition = account):
- ``BALANCE``: ``balance`` = credits available now (unexpired lot remainders minus reservations).
- ``LOT#<expiry|never>#<lot_id>``: one lot: amount, remaining, source, expiry. Sorting by key
  puts soonest-expiring lots first and never-expiring lots last.
- ``GRANT#<reference>``: makes a grant idempotent by its reference (payment event id, invite, ...).
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Literal

from shared.adapters import ledger_store
from shared.errors import InvalidRequest

LotSource = Literal["signup", "invite", "package", "admin"]
NEVER = "9999-12-31T23:59:59Z"


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
        expires_at=expires_at.astimezone(dt.UTC).isoformat(timespec="seconds") if expires_at else None,
    )


def balance(account_id: str) -> int:
    return ledger_store.get_balance(account_id)
