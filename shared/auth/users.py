"""Dashboard users (Cognito) and the accounts they own."""

from __future__ import annotations

from typing import Any

from shared.errors import Unauthenticated


def account_id_for_sub(sub: str) -> str:
    """One account per Cognito user, named after the user's immutable ``sub``."""
    return f"acct_{sub}"


def user_from_claims(claims: dict[str, Any] | None) -> tuple[str, str]:
    """``(sub, account_id)`` of a verified token's claims, or 401."""
    sub = (claims or {}).get("sub")
    if not isinstance(sub, str) or not sub:
        raise Unauthenticated("Sign in first: this route needs a dashboard user token.")
    return sub, account_id_for_sub(sub)
