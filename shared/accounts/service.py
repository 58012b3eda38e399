"""Opening accounts (exactly once) and the profile a dashboard user reads and updates.

An account is opened by the Cognito PostConfirmation trigger, or on first use by the account
function when the trigger has not run (a federated sign-in before the trigger, a failed trigger,
the local stack): both go through :func:`open_account`, whose conditional put and idempotent
credit grant make the outcome the same however many times, and in whatever order, they run.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from typing import Any

from shared.accounts.models import Account, Consent
from shared.accounts.wire import ProfileUpdate
from shared.adapters import account_store
from shared.auth.users import user_from_claims
from shared.credits.ledger import grant_credits
from shared.keys.service import now_iso
from shared.numbers import ascii_int

SIGNUP_CREDITS = 100  # default; SLUICE_SIGNUP_CREDITS (template parameter SignupCredits) overrides

# Cognito user attributes (and so ID-token claims) holding the accepted policy versions.
CONSENT_ATTRIBUTES = {
    "terms_version": "custom:terms_version",
    "privacy_version": "custom:privacy_version",
    "responsible_ai_version": "custom:rai_version",
}
_INVITE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud, typed by hand


def signup_credits() -> int:
    """Credits granted to a new account: ``SLUICE_SIGNUP_CREDITS`` when it is a whole number."""
    configured = os.environ.get("SLUICE_SIGNUP_CREDITS", "").strip()
    number = ascii_int(configured)
    return SIGNUP_CREDITS if number is None else number


def consent_from_attributes(attributes: Mapping[str, Any]) -> Consent | None:
    """The consent recorded at registration, or None unless all three versions are present."""
    versions = {field: attributes.get(name) for field, name in CONSENT_ATTRIBUTES.items()}
    if not all(isinstance(v, str) and v.strip() for v in versions.values()):
        return None
    return Consent(
        terms_version=str(versions["terms_version"]).strip(),
        privacy_version=str(versions["privacy_version"]).strip(),
        responsible_ai_version=str(versions["responsible_ai_version"]).strip(),
        accepted_at=now_iso(),
    )


def _invite_code() -> str:
    return "".join(secrets.choice(_INVITE_ALPHABET) for _ in range(10))


def open_account(account_id: str, *, email: str | None, consent: Consent | None) -> tuple[Account, bool]:
    """The account, created if it did not exist; ``True`` when this call created it.

    The signup grant comes first and is idempotent by its reference, so a crash between the two
    writes is repaired by the next call instead of leaving an account without its credits.
    """
    amount = signup_credits()
    if amount > 0:
        grant_credits(account_id, amount, source="signup", reference=f"signup:{account_id}", expires_at=None)
    account = Account(
        account_id=account_id,
        email=email,
        consent=consent,
        invite_code=_invite_code(),
        created_at=now_iso(),
    )
    if account_store.create_account(account):
        return account, True
    existing = account_store.get_account(account_id)
    if existing is None:  # deleted between the two calls: nothing sensible to return
        raise RuntimeError(f"account {account_id} vanished while being opened")
    return existing, False


def open_account_for_user(attributes: Mapping[str, Any]) -> tuple[Account, bool]:
    """Open the account of a Cognito user from its attributes (trigger) or token claims (first use)."""
    _, account_id = user_from_claims(dict(attributes))
    email = attributes.get("email")
    return open_account(
        account_id,
        email=email if isinstance(email, str) else None,
        consent=consent_from_attributes(attributes),
    )


def account_for_claims(claims: dict[str, Any] | None) -> Account:
    """The signed-in user's account, opened on first use; 401 without a user."""
    _, account_id = user_from_claims(claims)
    account = account_store.get_account(account_id)
    if account is None:
        account, _ = open_account_for_user(claims or {})
    return account


def update_profile(account: Account, update: ProfileUpdate) -> Account:
    """Record a display name and/or policy consent; the plan is the operator's to set."""
    fields: dict[str, Any] = {}
    if update.name is not None:
        fields["name"] = update.name
    if update.consent is not None:
        consent = Consent(**update.consent.model_dump(), accepted_at=now_iso())
        fields["consent"] = consent.model_dump()
    if not fields:
        return account
    account_store.update_account(account.account_id, **fields)
    return account_store.get_account(account.account_id) or account


def profile_view(account: Account) -> dict[str, Any]:
    """What the dashboard shows about the account."""
    return {
        "object": "profile",
        "account_id": account.account_id,
        "email": account.email,
        "name": account.name,
        "plan": account.plan,
        "default_key_id": account.default_key_id,
        "invite_code": account.invite_code,
        "consent": account.consent.model_dump() if account.consent else None,
        "can_create_keys": account.consent is not None,
        "created_at": account.created_at,
    }
