"""Who is calling a playground route: the user named by a valid playground token."""

from __future__ import annotations

import time
from dataclasses import dataclass

from shared.accounts.models import Account
from shared.adapters import account_store
from shared.adapters.playground_secret import playground_secret
from shared.playground.token import InvalidPlaygroundToken, PlaygroundClaims, verify_token


@dataclass(frozen=True)
class PlaygroundUser:
    claims: PlaygroundClaims
    account: Account


def bearer_token(authorization: str | None) -> str:
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise InvalidPlaygroundToken("is missing (send Authorization: Bearer <playground token>)")
    return value.strip()


def playground_user(authorization: str | None) -> PlaygroundUser:
    """The token's user and their account; 401 for a missing, tampered or expired token."""
    claims = verify_token(bearer_token(authorization), playground_secret(), now=int(time.time()))
    account = account_store.get_account(claims.account_id)
    if account is None:
        raise InvalidPlaygroundToken("names an account that does not exist")
    return PlaygroundUser(claims, account)


def issue_for(sub: str) -> tuple[str, PlaygroundClaims]:
    """A fresh token for the signed-in user ``sub``, valid for ``SLUICE_PLAYGROUND_TOKEN_SECONDS``."""
    from shared.playground.token import issue_token
    from shared.settings import get_settings

    lifetime = get_settings().playground_token_seconds
    return issue_token(sub, playground_secret(), now=int(time.time()), lifetime_s=lifetime)
