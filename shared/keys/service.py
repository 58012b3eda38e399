"""Issuing, listing, revoking and reissuing keys. The raw key is returned once and never kept.

The active-key cap is exact under any concurrency: a key is created, or revoked, in one
transaction with the account's ``active_keys`` counter (shared/adapters/key_store.py), the create
conditional on the counter being below the cap. An account from before the counter gets it on
its first create, revoke or reissue, counted from its keys (docs/AUTH.md). A reissue needs the
counter but leaves it as it is: one key revoked, one written, in one transaction.
"""

from __future__ import annotations

import datetime as dt
import os
import secrets
from dataclasses import dataclass

from shared.accounts.models import Account, Plan
from shared.adapters import account_store, key_store
from shared.adapters.transactions import (
    CONDITION_FAILED,
    COUNTED_ATTEMPTS,
    TransactionConflict,
    create_counted,
)
from shared.errors import InvalidRequest, NotFound, PermissionDenied, echoed_id
from shared.keys.models import ApiKeyRecord
from shared.keys.secrets import key_hash, key_prefix, last_four, new_raw_key
from shared.numbers import ascii_int
from shared.settings import get_settings

MAX_ACTIVE_KEYS = 20  # default; SLUICE_MAX_ACTIVE_KEYS (template parameter MaxActiveKeys) overrides
NO_CONSENT = "Accept the Terms, Privacy Policy and Responsible AI policy before creating keys."


def max_active_keys() -> int:
    """Active keys an account may hold: ``SLUICE_MAX_ACTIVE_KEYS`` when it is a positive integer."""
    configured = os.environ.get("SLUICE_MAX_ACTIVE_KEYS", "").strip()
    number = ascii_int(configured)
    return number if number is not None and number > 0 else MAX_ACTIVE_KEYS


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


@dataclass(frozen=True)
class IssuedKey:
    raw_key: str  # shown once, in the creation response
    record: ApiKeyRecord


def issue_key(account_id: str, name: str, *, require_consent: bool = True) -> IssuedKey:
    """Create a key for an account; the first key becomes the default key."""
    account = account_store.get_account(account_id)
    if account is None:
        raise NotFound(f"Account {account_id} does not exist.")
    if require_consent and account.consent is None:
        raise PermissionDenied(NO_CONSENT)
    active = [k for k in key_store.list_account_keys(account_id) if k.status == "active"]
    issued = _new_key(account, name)
    _put_counted(issued.record, max_active_keys())
    if account.default_key_id is None or account.default_key_id not in {k.key_id for k in active}:
        account_store.update_account(account_id, default_key_id=issued.record.key_id)
    return issued


def _new_key(account: Account, name: str, created_at: str | None = None) -> IssuedKey:
    """A fresh raw key and its record (nothing written yet)."""
    raw = new_raw_key(get_settings().key_prefix)
    record = ApiKeyRecord(
        key_id="key_" + secrets.token_hex(8),
        key_hash=key_hash(raw),
        key_prefix=key_prefix(raw),
        last_four=last_four(raw),
        account_id=account.account_id,
        plan=account.plan,
        name=name,
        created_at=created_at or now_iso(),
    )
    return IssuedKey(raw_key=raw, record=record)


def _put_counted(record: ApiKeyRecord, limit: int) -> None:
    """Write the key with the counter's increment, or 403 when the account holds ``limit``."""
    account_id = record.account_id
    create_counted(
        lambda: key_store.put_key_counted(record, limit),
        lambda: key_store.active_key_count(account_id),
        lambda: _initialise_or_404(account_id),
        cap=limit,
        full=lambda: PermissionDenied(f"An account may hold at most {limit} active keys; revoke one first."),
        what="key",
    )


def _initialise_or_404(account_id: str) -> None:
    if not initialise_counter(account_id):
        raise NotFound(f"Account {account_id} does not exist.")


def initialise_counter(account_id: str) -> bool:
    """Give an account from before the counter its ``active_keys``, counted from its keys.

    Conditional on the counter being absent, so of two initialisations one wins; and nothing can
    change a key's state meanwhile, since every create and revoke needs the counter to exist.
    False when the account does not exist.
    """
    active = sum(1 for k in key_store.list_account_keys(account_id) if k.status == "active")
    return key_store.initialise_active_keys(account_id, active)


def find_account_key(account_id: str, key_id: str) -> ApiKeyRecord:
    """A key of this account, or 404 (another account's key is indistinguishable from none)."""
    for record in key_store.list_account_keys(account_id):
        if record.key_id == key_id:
            return record
    raise NotFound(f"No key {echoed_id(key_id)}.")


def revoke_key(account_id: str, key_id: str) -> ApiKeyRecord:
    """Revoke a key of this account; if it was the default, the newest other active key takes over."""
    record = find_account_key(account_id, key_id)
    revoked_at = record.revoked_at or now_iso()
    if record.status != "revoked":
        _revoke_counted(record, revoked_at)
    account = account_store.get_account(account_id)
    if account is not None and account.default_key_id == key_id:
        others = [
            k for k in key_store.list_account_keys(account_id) if k.status == "active" and k.key_id != key_id
        ]
        successor = max(others, key=lambda k: k.created_at).key_id if others else None
        account_store.replace_default_key(account_id, key_id, successor)
    return record.model_copy(update={"status": "revoked", "revoked_at": revoked_at})


def _revoke_counted(record: ApiKeyRecord, at: str) -> None:
    """Revoke the key and free its slot once: a key already revoked (by a racing revoke) frees none."""
    for _ in range(COUNTED_ATTEMPTS):
        codes = key_store.revoke_key_counted(record, at)
        if codes is None or codes[0] == CONDITION_FAILED:
            return
        if not initialise_counter(record.account_id):  # no account item: there is no counter to keep
            key_store.set_key_status(record.key_hash, "revoked", at)
            return
    raise TransactionConflict(f"revoking {record.key_id} kept being refused")


def reissue_key(account_id: str, key_id: str) -> IssuedKey:
    """Replace an active key of this account by a new one of the same name, in one transaction:
    the new key written, the old one revoked and, if it was the default, the default moved to the
    new one. ``active_keys`` is unchanged (so it works at the cap). 404 for another account's key,
    400 for a revoked one; of racing reissues of one key, one commits and the others get the 400."""
    record = find_account_key(account_id, key_id)
    if record.status != "active":
        raise _revoked(key_id)
    for _ in range(COUNTED_ATTEMPTS):
        account = account_store.get_account(account_id)
        if account is None:
            raise NotFound(f"Account {account_id} does not exist.")
        if account.consent is None:
            raise PermissionDenied(NO_CONSENT)
        at = now_iso()
        issued = _new_key(account, record.name, created_at=at)
        moves = account.default_key_id == key_id
        codes = key_store.reissue_key_counted(record, issued.record, at, moves_default=moves)
        if codes is None:
            return issued
        if codes[1] == CONDITION_FAILED:  # revoked (or reissued) since it was read
            raise _revoked(key_id)
        if codes[0] == CONDITION_FAILED:
            raise RuntimeError("a new key's hash is already stored")
        # the account: no counter yet (initialise it), or its default changed meanwhile (re-read)
        if key_store.active_key_count(account_id) is None:
            _initialise_or_404(account_id)
    raise TransactionConflict(f"reissuing {key_id} kept being refused")


def _revoked(key_id: str) -> InvalidRequest:
    return InvalidRequest(f"Key {key_id} is revoked; only an active key can be reissued.", param="key_id")


def set_default_key(account_id: str, key_id: str) -> ApiKeyRecord:
    """Make an active key of this account its default: 404 for another account's key, 400 if revoked."""
    record = find_account_key(account_id, key_id)
    if record.status != "active":
        raise InvalidRequest(f"Key {key_id} is revoked and cannot be the default key.", param="key_id")
    account_store.update_account(account_id, default_key_id=key_id)
    return record


def set_plan(account_id: str, plan: Plan) -> None:
    """Change an account's plan and the copy on each of its keys (effective within the key cache bound)."""
    account_store.update_account(account_id, plan=plan)
    for record in key_store.list_account_keys(account_id):
        key_store.set_key_plan(record.key_hash, plan)
