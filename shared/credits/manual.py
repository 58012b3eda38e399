"""Grants by hand (the operator's ``sluice credits grant``): only to an account that exists.

The ledger itself takes any account id, so a typo would leave a lot no one can ever spend; the
payment webhook refuses an unknown account the same way (``shared.billing.payments``).
"""

from __future__ import annotations

import datetime as dt

from shared.adapters import account_store
from shared.credits.ledger import LotSource, grant_credits
from shared.errors import InvalidRequest


def grant_by_hand(
    account_id: str,
    amount: int,
    *,
    source: LotSource,
    reference: str,
    expires_at: dt.datetime | None,
) -> bool:
    """Grant a lot to an existing account; False when ``reference`` was already granted."""
    if account_store.get_account(account_id) is None:
        raise InvalidRequest(f"Unknown account '{account_id}'.", param="account_id")
    return grant_credits(account_id, amount, source=source, reference=reference, expires_at=expires_at)
