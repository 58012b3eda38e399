"""A dashboard user's API keys: what they may do with them and what they see.

Views carry the prefix and last four only, never the hash; the raw key appears once, in the
response that creates it (a creation or a reissue).
"""

from __future__ import annotations

from typing import Any

from shared.accounts.models import Account
from shared.adapters import account_store, key_store
from shared.keys.models import ApiKeyRecord
from shared.keys.service import issue_key, reissue_key, revoke_key, set_default_key


def key_view(record: ApiKeyRecord, default_key_id: str | None) -> dict[str, Any]:
    """One key as the dashboard lists it."""
    return {
        "object": "api_key",
        "id": record.key_id,
        "name": record.name,
        "key_prefix": record.key_prefix,
        "last_four": record.last_four,
        "status": record.status,
        "is_default": record.key_id == default_key_id and record.status == "active",
        "created_at": record.created_at,
        "last_used_at": record.last_used_at,
        "revoked_at": record.revoked_at,
    }


def _default_key_id(account_id: str) -> str | None:
    current = account_store.get_account(account_id)
    return current.default_key_id if current else None


def create_key(account: Account, name: str) -> dict[str, Any]:
    """Issue a key (403 without consent or over the active-key limit); the raw key is in ``key``."""
    issued = issue_key(account.account_id, name)
    return {**key_view(issued.record, _default_key_id(account.account_id)), "key": issued.raw_key}


def reissue(account: Account, key_id: str) -> dict[str, Any]:
    """Replace an active key of the account by a new one of the same name, shown as a creation is
    (the raw key in ``key``); the old key is revoked and the default follows it. 404 for another
    account's key, 400 for a revoked one."""
    issued = reissue_key(account.account_id, key_id)
    return {**key_view(issued.record, _default_key_id(account.account_id)), "key": issued.raw_key}


def list_keys(account: Account) -> dict[str, Any]:
    """Every key of the account, newest first."""
    records = sorted(
        key_store.list_account_keys(account.account_id), key=lambda r: r.created_at, reverse=True
    )
    active = {r.key_id for r in records if r.status == "active"}
    default = account.default_key_id if account.default_key_id in active else None
    return {"object": "list", "data": [key_view(r, default) for r in records], "default_key_id": default}


def revoke(account: Account, key_id: str) -> dict[str, Any]:
    """Revoke one of the account's keys (404 for any other key); idempotent."""
    record = revoke_key(account.account_id, key_id)
    return key_view(record, None)


def make_default(account: Account, key_id: str) -> dict[str, Any]:
    """Make an active key of the account its default (404 for another's key, 400 for a revoked one)."""
    record = set_default_key(account.account_id, key_id)
    return key_view(record, record.key_id)
