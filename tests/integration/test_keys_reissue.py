"""POST /api/keys/{key_id}/reissue through the account function's entry point, against the
single-threaded moto server (racing requests as tests/integration/test_keys_cap_concurrency.py)."""

from __future__ import annotations

import hashlib
import logging
import re
import time
import types
from collections.abc import Callable
from typing import Any

import pytest
from accounts_support import (
    ADA,
    BOB,
    account_event,
    call_account,
    call_account_with_headers,
    call_catalog,
    create_key,
    forget_counter,
    race,
    secret_parts,
    stored_text,
)

import shared.auth.api_keys as api_keys
import shared.keys.service as key_service
from shared.adapters import account_store, key_store
from shared.dashboard.default_key import default_caller
from shared.settings import get_settings

pytestmark = pytest.mark.usefixtures("aws")

ACCOUNT = f"acct_{ADA}"


@pytest.fixture(autouse=True)
def _fresh_key_cache():
    api_keys.clear_cache()
    yield
    api_keys.clear_cache()


def reissue(key_id: str, **event: Any) -> tuple[int, Any]:
    return call_account(account_event("reissue_key", key_id=key_id, **event))


def reissuing(key_id: str) -> Callable[[], tuple[int, Any]]:
    return lambda: reissue(key_id)


def revoking(key_id: str) -> Callable[[], tuple[int, Any]]:
    return lambda: call_account(account_event("revoke_key", key_id=key_id))


def keys_of(account_id: str = ACCOUNT) -> dict[str, Any]:
    return {k.key_id: k for k in key_store.list_account_keys(account_id)}


def active_keys(account_id: str = ACCOUNT) -> int:
    return sum(1 for k in keys_of(account_id).values() if k.status == "active")


def default_key_id(account_id: str = ACCOUNT) -> str | None:
    account = account_store.get_account(account_id)
    return account.default_key_id if account else None


def test_a_reissue_shows_the_new_key_once_as_creation_does_and_revokes_the_old_one() -> None:
    old, other = create_key(name="laptop"), create_key(name="ci")

    status, headers, body = call_account_with_headers(account_event("reissue_key", key_id=old["id"]))

    assert status == 201 and headers["cache-control"] == "no-store"
    assert set(body) == set(old), "the same fields as a creation, the raw key in `key`"
    assert re.fullmatch(r"sk_sluice_[A-Za-z0-9]{43}", body["key"]) and body["key"] != old["key"]
    assert body["id"] != old["id"] and body["name"] == "laptop" and body["status"] == "active"
    assert body["key_prefix"] == body["key"][:12] and body["last_four"] == body["key"][-4:]
    record = key_store.get_key_by_hash(hashlib.sha256(body["key"].encode()).hexdigest())
    assert record is not None and record.key_id == body["id"] and record.account_id == ACCOUNT
    stored = keys_of()
    assert stored[old["id"]].status == "revoked" and stored[old["id"]].revoked_at == body["created_at"]
    assert stored[other["id"]].status == "active" and len(stored) == 3
    assert key_store.active_key_count(ACCOUNT) == 2 == active_keys(), "the counter is unchanged"
    # the old key was the default: the new one is
    assert body["is_default"] is True and default_key_id() == body["id"]
    assert call_account(account_event("list_keys"))[1]["default_key_id"] == body["id"]
    account = account_store.get_account(ACCOUNT)
    assert account is not None and default_caller(account).key.key_id == body["id"], "tools use the new key"


def test_reissuing_a_key_that_is_not_the_default_leaves_the_default_alone() -> None:
    default, other = create_key(name="1"), create_key(name="2")

    status, body = reissue(other["id"])

    assert status == 201 and body["name"] == "2" and body["is_default"] is False
    assert default_key_id() == default["id"]
    assert keys_of()[other["id"]].status == "revoked"


def test_a_reissue_works_at_the_cap_and_keeps_the_count() -> None:
    cap = key_service.max_active_keys()
    keys = [create_key(name=f"k{i}") for i in range(cap)]
    assert call_account(account_event("create_key", body={"name": "over"}))[0] == 403

    status, body = reissue(keys[7]["id"])

    assert status == 201 and body["name"] == "k7"
    assert key_store.active_key_count(ACCOUNT) == cap == active_keys()
    assert call_account(account_event("create_key", body={"name": "over"}))[0] == 403


def test_another_accounts_key_or_a_missing_key_is_404_as_revoke_answers() -> None:
    bobs = create_key(sub=BOB, name="bob")
    adas = create_key(name="ada")

    for key_id in (bobs["id"], "key_0000000000000000"):
        status, body = reissue(key_id)
        revoke_status, revoke_body = call_account(account_event("revoke_key", key_id=key_id))
        assert status == revoke_status == 404
        assert body["error"]["code"] == "not_found"
        assert body["error"]["message"] == revoke_body["error"]["message"] == f"No key {key_id}."

    assert [k.status for k in keys_of(f"acct_{BOB}").values()] == ["active"]
    assert default_key_id(f"acct_{BOB}") == bobs["id"]
    assert list(keys_of()) == [adas["id"]], "nothing issued to the caller either"


def test_a_revoked_key_cannot_be_reissued_400_naming_it() -> None:
    revoked, reissued = create_key(name="gone"), create_key(name="rotated")
    call_account(account_event("revoke_key", key_id=revoked["id"]))
    assert reissue(reissued["id"])[0] == 201

    for key_id in (revoked["id"], reissued["id"]):  # revoked, and revoked by its reissue
        status, body = reissue(key_id)
        assert status == 400 and body["error"]["code"] == "invalid_request"
        assert body["error"]["param"] == "key_id" and key_id in body["error"]["message"]

    assert len(keys_of()) == 3 and active_keys() == 1 == key_store.active_key_count(ACCOUNT)


def test_a_user_without_consent_cannot_reissue() -> None:
    call_account(account_event("get_profile", consent=False))  # opens the account without consent
    issued = key_service.issue_key(ACCOUNT, "ops", require_consent=False)  # `sluice keys issue`

    status, body = reissue(issued.record.key_id, consent=False)

    assert status == 403 and body["error"]["code"] == "permission_denied"
    assert "Responsible AI" in body["error"]["message"]
    assert [k.status for k in keys_of().values()] == ["active"]


def test_reissue_without_a_user_is_401() -> None:
    status, body = call_account(account_event("reissue_key", claims=False))

    assert status == 401 and body["error"]["code"] == "unauthenticated"


def test_a_failed_reissue_changes_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    old, other = create_key(name="old"), create_key(name="other")
    # The new key's write fails (its hash is taken): the old key's revocation fails with it.
    monkeypatch.setattr(key_service, "new_raw_key", lambda prefix: other["key"])

    status, _ = reissue(old["id"])

    assert status == 500
    assert {k: r.status for k, r in keys_of().items()} == {old["id"]: "active", other["id"]: "active"}
    assert default_key_id() == old["id"] and key_store.active_key_count(ACCOUNT) == 2


@pytest.mark.parametrize("counter", ["kept", "missing"])
def test_racing_reissues_of_one_key_make_exactly_one_new_key(counter: str) -> None:
    keys = [create_key(name=f"k{i}") for i in range(3)]
    if counter == "missing":  # an account from before the counter: the first reissue counts it
        forget_counter()

    results = race([reissuing(keys[0]["id"]) for _ in range(8)])

    [winner] = [body for status, body in results if status == 201]
    losers = [body for status, body in results if status != 201]
    assert sorted(status for status, _ in results) == [201] + [400] * 7, results
    assert all(b["error"]["param"] == "key_id" and keys[0]["id"] in b["error"]["message"] for b in losers)
    stored = keys_of()
    assert len(stored) == 4 and [
        k.key_id for k in stored.values() if k.name == "k0" and k.status == "active"
    ] == [winner["id"]]
    assert key_store.active_key_count(ACCOUNT) == 3 == active_keys()
    assert default_key_id() == winner["id"]


def test_a_reissue_racing_revokes_of_the_same_key_leaves_the_count_exact() -> None:
    keys = [create_key(name=f"k{i}") for i in range(2)]
    key_id = keys[1]["id"]

    results = race([reissuing(key_id), revoking(key_id), reissuing(key_id), revoking(key_id)])

    reissues = sorted(results[i][0] for i in (0, 2))
    assert reissues in ([201, 400], [400, 400]) and [results[i][0] for i in (1, 3)] == [200, 200]
    assert key_store.active_key_count(ACCOUNT) == active_keys() == (2 if 201 in reissues else 1)


def test_after_a_reissue_the_old_key_is_401_within_the_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    bound = get_settings().key_cache_seconds
    old = create_key()
    assert call_catalog({"X-API-Key": old["key"]})[0] == 200  # now cached on this instance

    status, new = reissue(old["id"])

    assert status == 201 and call_catalog({"X-API-Key": new["key"]})[0] == 200
    later = types.SimpleNamespace(monotonic=lambda: time.monotonic() + bound + 0.001)
    monkeypatch.setattr(api_keys, "time", later)
    status, _, body = call_catalog({"Authorization": f"Bearer {old['key']}"})
    assert status == 401 and body["error"]["code"] == "invalid_api_key"
    assert call_catalog({"Authorization": f"Bearer {new['key']}"})[0] == 200


def test_with_no_cache_the_old_key_is_401_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_KEY_CACHE_SECONDS", "0")
    get_settings.cache_clear()
    old = create_key()
    assert call_catalog({"X-API-Key": old["key"]})[0] == 200

    new = reissue(old["id"])[1]

    assert call_catalog({"X-API-Key": old["key"]})[0] == 401
    assert call_catalog({"X-API-Key": new["key"]})[0] == 200


def test_raw_keys_of_a_reissue_are_nowhere_in_tables_queues_logs_or_later_responses(
    aws, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore logs every request it sends to AWS
    old = create_key(name="rotating")
    status, new = reissue(old["id"])
    assert status == 201
    later = [
        call_catalog({"X-API-Key": new["key"]}),
        call_catalog({"Authorization": f"Bearer {old['key']}"}),
        reissue(old["id"]),  # 400: the error names the key id, never the key
        call_account(account_event("list_keys")),
        call_account(account_event("get_profile")),
    ]

    stored, logs = stored_text(aws), caplog.text + "".join(capfd.readouterr())
    assert stored and "TransactWriteItems" in caplog.text, "the capture saw the reissue's request"
    for raw in (old["key"], new["key"]):
        for secret in secret_parts(raw):
            assert [name for name, text in stored if secret in text] == []
            assert secret not in logs
            assert secret not in repr(later)
