"""A verified payment becomes a package lot, once per event id, plus the inviter's first-payment reward."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.adapters import account_store
from shared.billing.wire import PaymentSucceeded
from shared.credits.invites import reward_invite_paid
from shared.credits.ledger import grant_credits
from shared.credits.packages import find_package, package_expiry
from shared.errors import InvalidRequest


@dataclass(frozen=True)
class PaymentResult:
    event_id: str
    account_id: str
    package: str
    credits: int
    granted: bool  # False: this event id was already granted (a replay)
    invite_rewarded: bool


def apply_payment(event_id: str, payment: PaymentSucceeded, now: dt.datetime | None = None) -> PaymentResult:
    """Grant the paid package (reference ``payment:<event_id>``) and reward the inviter once."""
    package = find_package(payment.package)
    account = account_store.get_account(payment.account_id)
    if account is None:
        raise InvalidRequest(f"Unknown account '{payment.account_id}'.", param="data.account_id")
    granted_at = now or dt.datetime.now(dt.UTC)
    granted = grant_credits(
        account.account_id,
        package.credits,
        source="package",
        reference=f"payment:{event_id}",
        expires_at=package_expiry(package, granted_at),
    )
    rewarded = reward_invite_paid(account.invited_by, account.account_id)
    return PaymentResult(
        event_id=event_id,
        account_id=account.account_id,
        package=package.id,
        credits=package.credits,
        granted=granted,
        invite_rewarded=rewarded,
    )
