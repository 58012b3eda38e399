"""The account's default key: the caller of tools, the chat workspace and the playground.

Those routes authenticate a dashboard user (Cognito, or a playground token bound to one), then
charge and limit the request through the key the user chose as default, exactly as if it had
been called with that key. The account is read on every request (a new default applies at once);
the key record is cached per instance for at most ``SLUICE_KEY_CACHE_SECONDS``, the same bound a
revoked API key has on the public API.
"""

from __future__ import annotations

import time

from shared.accounts.models import Account
from shared.adapters import key_store
from shared.auth.api_keys import Caller
from shared.errors import PermissionDenied
from shared.keys.models import ApiKeyRecord
from shared.settings import get_settings


class DefaultKeyRequired(PermissionDenied):
    """No usable default key: tools, chat workspace and playground need one."""

    code = "default_key_required"


_cache: dict[tuple[str, str], tuple[ApiKeyRecord | None, float]] = {}


def _find(account_id: str, key_id: str) -> ApiKeyRecord | None:
    return next((k for k in key_store.list_account_keys(account_id) if k.key_id == key_id), None)


def _record(account_id: str, key_id: str) -> ApiKeyRecord | None:
    now = time.monotonic()
    cached = _cache.get((account_id, key_id))
    if cached is None or now - cached[1] > get_settings().key_cache_seconds:
        cached = (_find(account_id, key_id), now)
        _cache[(account_id, key_id)] = cached
    return cached[0]


def default_caller(account: Account) -> Caller:
    """The caller behind the account's default key, or 403 ``default_key_required`` naming it."""
    key_id = account.default_key_id
    if not key_id:
        raise DefaultKeyRequired(
            "This account has no default key. Create an API key (POST /api/keys) and make it the "
            "default key: tools, the chat workspace and the playground run through it.",
            param="default_key",
        )
    record = _record(account.account_id, key_id)
    if record is None or record.status != "active":
        raise DefaultKeyRequired(
            f"The default key {key_id} is revoked. Make an active key the default key "
            "(POST /api/keys/{key_id}/default) to use tools, the chat workspace and the playground.",
            param="default_key",
        )
    return Caller(key=record)


def clear_cache() -> None:
    _cache.clear()
