"""The active-key cap is exact however many requests race (single-threaded moto server, as
tests/integration/test_credits_concurrency.py): parallel creates, revokes of one key, and an
account from before the ``active_keys`` counter."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import boto3
import pytest
from accounts_support import ADA, account_event, call_account, create_key, forget_counter, race

from shared.adapters import key_store
from shared.adapters.items import to_item
from shared.keys.models import ApiKeyRecord
from shared.keys.secrets import key_hash, key_prefix, last_four, new_raw_key
from shared.keys.service import max_active_keys, now_iso
from shared.settings import get_settings

pytestmark = pytest.mark.usefixtures("aws")

ACCOUNT = f"acct_{ADA}"
CAP = 20  # the default cap (docs/AUTH.md)


def post_key(name: str) -> Callable[[], tuple[int, Any]]:
    return lambda: call_account(account_event("create_key", body={"name": name}))


def revoke(key_id: str) -> Callable[[], tuple[int, Any]]:
    return lambda: call_account(account_event("revoke_key", key_id=key_id))


def active_keys() -> int:
    return sum(1 for k in key_store.list_account_keys(ACCOUNT) if k.status == "active")


def statuses(results: list[tuple[int, Any]]) -> list[int]:
    return sorted(status for status, _ in results)


def test_ten_parallel_creates_from_seventeen_leave_exactly_twenty() -> None:
    assert max_active_keys() == CAP
    for i in range(CAP - 3):
        create_key(name=f"k{i}")

    results = race([post_key(f"race{i}") for i in range(10)])

    assert statuses(results) == [201] * 3 + [403] * 7, results
    assert all(b["error"]["code"] == "permission_denied" for s, b in results if s == 403)
    assert active_keys() == CAP == key_store.active_key_count(ACCOUNT)


def test_a_revoke_frees_one_slot_once_however_often_it_is_repeated() -> None:
    keys = [create_key(name=f"k{i}") for i in range(CAP)]
    assert call_account(account_event("create_key", body={"name": "over"}))[0] == 403

    # the same key revoked by 8 racing requests: every one answers 200, one slot is freed
    revokes = race([revoke(keys[5]["id"]) for _ in range(8)])
    assert statuses(revokes) == [200] * 8
    assert key_store.active_key_count(ACCOUNT) == CAP - 1 == active_keys()
    assert call_account(account_event("revoke_key", key_id=keys[5]["id"]))[0] == 200, "idempotent"

    results = race([post_key(f"race{i}") for i in range(8)])

    assert statuses(results) == [201] + [403] * 7, results
    assert active_keys() == CAP == key_store.active_key_count(ACCOUNT)


def legacy_keys(account_id: str, active: int, revoked: int) -> None:
    """Keys written as before the counter: the account item has no ``active_keys``."""
    client = boto3.client("dynamodb", region_name="us-east-1")
    for i in range(active + revoked):
        raw = new_raw_key("sk_sluice_")
        record = ApiKeyRecord(
            key_id=f"key_legacy{i:06d}",
            key_hash=key_hash(raw),
            key_prefix=key_prefix(raw),
            last_four=last_four(raw),
            account_id=account_id,
            name=f"legacy{i}",
            created_at=now_iso(),
            status="active" if i < active else "revoked",
        )
        client.put_item(TableName=get_settings().keys_table, Item=to_item(record.model_dump()))


def test_an_account_without_the_counter_is_counted_once_from_its_keys() -> None:
    create_key(name="opens-the-account")  # through the API: the account and its first key
    forget_counter()
    legacy_keys(ACCOUNT, active=CAP - 3, revoked=4)  # 17 + the first = 18 active
    assert key_store.active_key_count(ACCOUNT) is None

    # 6 racing creates all find no counter; one initialisation wins (18), two keys fit
    results = race([post_key(f"race{i}") for i in range(6)])

    assert statuses(results) == [201] * 2 + [403] * 4, results
    assert active_keys() == CAP == key_store.active_key_count(ACCOUNT)


def test_an_account_without_the_counter_whose_first_change_is_a_revoke() -> None:
    create_key(name="opens-the-account")
    forget_counter()
    legacy_keys(ACCOUNT, active=CAP - 1, revoked=0)  # 20 active, at the cap

    revokes = race([revoke("key_legacy000003") for _ in range(4)])

    assert statuses(revokes) == [200] * 4
    assert key_store.active_key_count(ACCOUNT) == CAP - 1 == active_keys()
    results = race([post_key(f"race{i}") for i in range(5)])
    assert statuses(results) == [201] + [403] * 4, results
    assert active_keys() == CAP == key_store.active_key_count(ACCOUNT)
