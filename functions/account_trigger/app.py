"""Cognito PostConfirmation trigger: open the new user's account once, with its signup credits.

Consent comes from the user's ``custom:*_version`` attributes (absent for an OAuth sign-up: the
user then records it through PATCH /api/profile before creating keys). A failure here must not
fail the sign-up: the account function opens the same account on first use.
"""

from __future__ import annotations

from typing import Any

from shared.accounts.service import open_account_for_user
from shared.observability import get_logger

CONFIRM_SIGN_UP = "PostConfirmation_ConfirmSignUp"


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Cognito passes the event in and expects it back unchanged."""
    if event.get("triggerSource") != CONFIRM_SIGN_UP:
        return event  # e.g. PostConfirmation_ConfirmForgotPassword: nothing to open
    attributes = (event.get("request") or {}).get("userAttributes") or {}
    try:
        account, created = open_account_for_user(attributes)
    except Exception:  # the account function opens the account on first use instead
        get_logger().exception("account not opened at confirmation", extra={"pool": event.get("userPoolId")})
        return event
    get_logger().info(
        "account opened" if created else "account already open",
        extra={"account_id": account.account_id, "consent": account.consent is not None},
    )
    return event
