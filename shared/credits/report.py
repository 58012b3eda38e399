"""What ``GET /api/user/credits`` shows: balance, live lots with expiry, totals, usage."""

from __future__ import annotations

import datetime as dt
from typing import Any

from shared.adapters import ledger_store
from shared.credits.models import Lot
from shared.usage.report import usage_summary

MAX_DAYS = 90
MAX_HOURS = 168


def lot_view(lot: Lot) -> dict[str, Any]:
    """A lot as the report shows it (``expires_at``: its expiry, or None)."""
    return {
        "lot_id": lot.lot_id,
        "source": lot.source,
        "amount": lot.amount,
        "remaining": lot.remaining,
        "created_at": lot.created_at,
        "expires_at": lot.expiry,
    }


def credit_report(
    account_id: str, *, days: int = 30, hours: int = 24, now: dt.datetime | None = None
) -> dict[str, Any]:
    """The account's credits and usage; lots in the order they are consumed."""
    counters = ledger_store.balance_counters(account_id)
    lots = [lot for lot in ledger_store.iter_lots(account_id) if lot.live]
    return {
        "object": "credits",
        "account_id": account_id,
        "balance": counters["balance"],
        "total_consumed": counters["consumed"],
        "total_expired": counters["expired"],
        "lots": [lot_view(lot) for lot in lots],
        "usage": usage_summary(account_id, now or dt.datetime.now(dt.UTC), days, hours),
    }
