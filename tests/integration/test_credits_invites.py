"""Invite rewards: 50 when the invitee registers, 500 when the invitee first pays; once each."""

from __future__ import annotations

from shared.adapters import ledger_store
from shared.credits.invites import reward_invite_paid, reward_invite_signup
from shared.credits.ledger import balance


def test_the_signup_reward_is_granted_once_per_invitee(aws) -> None:
    assert reward_invite_signup("acct_host", "acct_guest1") is True
    assert reward_invite_signup("acct_host", "acct_guest1") is False
    assert reward_invite_signup("acct_host", "acct_guest2") is True

    assert balance("acct_host") == 100
    assert sorted(lot.reference or "" for lot in ledger_store.iter_lots("acct_host")) == [
        "invite-signup:acct_guest1",
        "invite-signup:acct_guest2",
    ]


def test_the_first_payment_reward_is_granted_once_per_invitee(aws) -> None:
    assert reward_invite_paid("acct_host", "acct_guest") is True
    assert reward_invite_paid("acct_host", "acct_guest") is False

    assert balance("acct_host") == 500
    assert all(lot.expiry is None and lot.source == "invite" for lot in ledger_store.iter_lots("acct_host"))


def test_no_reward_without_an_inviter_or_for_inviting_oneself(aws) -> None:
    assert reward_invite_signup(None, "acct_guest") is False
    assert reward_invite_signup("acct_self", "acct_self") is False
    assert reward_invite_paid("acct_self", "acct_self") is False
    assert balance("acct_self") == 0
