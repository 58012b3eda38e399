"""Invite rewards: credits to the inviter when the invitee registers and when the invitee first pays.

Each reward is granted at most once per invitee: its grant reference (``invite-signup:<invitee>``,
``invite-paid:<invitee>``) makes a repeat a no-op.
"""

from __future__ import annotations

from shared.credits.ledger import grant_credits
from shared.credits.packages import credit_config


def _reward(inviter_account_id: str | None, invitee_account_id: str, kind: str, amount: int) -> bool:
    if not inviter_account_id or inviter_account_id == invitee_account_id or amount <= 0:
        return False
    return grant_credits(
        inviter_account_id,
        amount,
        source="invite",
        reference=f"invite-{kind}:{invitee_account_id}",
        expires_at=None,
    )


def reward_invite_signup(inviter_account_id: str | None, invitee_account_id: str) -> bool:
    """Reward the inviter of a newly registered account (50 by default); True if granted now."""
    amount = credit_config().invite_rewards.signup
    return _reward(inviter_account_id, invitee_account_id, "signup", amount)


def reward_invite_paid(inviter_account_id: str | None, invitee_account_id: str) -> bool:
    """Reward the inviter when the invitee pays for the first time (500 by default); True if granted now."""
    amount = credit_config().invite_rewards.first_payment
    return _reward(inviter_account_id, invitee_account_id, "paid", amount)
