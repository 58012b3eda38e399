"""API keys through the account function's Lambda entry point (events/account), against moto."""

from __future__ import annotations

import hashlib
import json
import logging
import random
import re
import string
from typing import Any

import pytest
from accounts_support import (
    ADA,
    BOB,
    account_event,
    call_account,
    call_catalog,
    create_key,
    secret_parts,
    stored_text,
)

from shared.adapters import account_store, key_store

pytestmark = pytest.mark.usefixtures("aws")


def test_created_key_is_shown_once_and_stored_as_spec_says(monkeypatch: pytest.MonkeyPatch) -> None:
    import shared.keys.secrets as key_secrets

    # Given a known random generator, the raw key is known in advance.
    monkeypatch.setattr(key_secrets, "secrets", random.Random(20251122))
    alphabet = string.ascii_letters + string.digits
    known = random.Random(20251122)
    expected = "sk_sluice_" + "".join(known.choice(alphabet) for _ in range(43))

    status, body = call_account(account_event("create_key", body={"name": "laptop"}))

    assert status == 201
    assert body["key"] == expected
    assert re.fullmatch(r"sk_sluice_[A-Za-z0-9]{43}", body["key"])
    record = key_store.get_key_by_hash(hashlib.sha256(expected.encode()).hexdigest())
    assert record is not None, "looked up by lowercase hex sha256 of the raw key"
    assert record.key_hash == hashlib.sha256(expected.encode()).hexdigest()
    assert record.key_hash == record.key_hash.lower() and len(record.key_hash) == 64
    assert record.key_prefix == expected[:12] == "sk_sluice_" + expected[10:12]
    assert record.last_four == expected[-4:]
    assert record.account_id == f"acct_{ADA}" and record.name == "laptop" and record.status == "active"
    assert body["key_prefix"] == expected[:12] and body["last_four"] == expected[-4:]
    assert body["is_default"] is True, "the first key becomes the default key"


def test_list_shows_prefix_and_last_four_never_the_hash_or_the_raw_key() -> None:
    first, second = create_key(name="one"), create_key(name="two")

    status, body = call_account(account_event("list_keys"))

    assert status == 200
    assert [k["id"] for k in body["data"]] == [second["id"], first["id"]], "newest first"
    assert body["default_key_id"] == first["id"]
    for view in body["data"]:
        assert set(view) == {
            "object",
            "id",
            "name",
            "key_prefix",
            "last_four",
            "status",
            "is_default",
            "created_at",
            "last_used_at",
            "revoked_at",
        }
    text = json.dumps(body)
    for created in (first, second):
        assert created["key"] not in text
        assert hashlib.sha256(created["key"].encode()).hexdigest() not in text


def test_raw_keys_are_nowhere_in_tables_queues_logs_or_later_responses(
    aws, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    # botocore logs every request it sends at DEBUG: a raw key sent to AWS would show up here.
    caplog.set_level(logging.DEBUG)
    keys = [create_key(name=f"k{i}") for i in range(3)]
    responses: list[tuple[Any, ...]] = []
    for key in keys:
        responses.append(call_catalog({"Authorization": f"Bearer {key['key']}"}))
        responses.append(call_catalog({"X-API-Key": key["key"]}))
    responses.append(call_account(account_event("list_keys")))
    responses.append(call_account(account_event("revoke_key", key_id=keys[0]["id"])))
    responses.append(call_account(account_event("set_default_key", key_id=keys[1]["id"])))
    responses.append(call_account(account_event("get_profile")))
    responses.append(call_catalog({"Authorization": f"Bearer {keys[0]['key']}x"}))  # a near miss: 401

    stored = stored_text(aws)
    logs = caplog.text + "".join(capfd.readouterr())
    assert stored, "the scan saw the tables"
    assert "PutItem" in caplog.text, "the log capture saw the requests sent to DynamoDB"
    for key in keys:
        for secret in secret_parts(key["key"]):
            assert [name for name, text in stored if secret in text] == []
            assert secret not in logs
            assert secret not in json.dumps(responses)


def test_another_accounts_key_cannot_be_revoked_or_made_default() -> None:
    bobs = create_key(sub=BOB, name="bob")
    create_key(name="ada")

    revoke = call_account(account_event("revoke_key", key_id=bobs["id"]))
    default = call_account(account_event("set_default_key", key_id=bobs["id"]))
    unknown = call_account(account_event("revoke_key", key_id="key_0000000000000000"))

    assert revoke[0] == default[0] == unknown[0] == 404
    assert revoke[1]["error"]["code"] == "not_found"
    assert revoke[1]["error"]["message"] == unknown[1]["error"]["message"].replace(
        "key_0000000000000000", bobs["id"]
    ), "another account's key is indistinguishable from no key"
    record = key_store.get_key_by_hash(hashlib.sha256(bobs["key"].encode()).hexdigest())
    assert record is not None and record.status == "active"
    bob = account_store.get_account(f"acct_{BOB}")
    assert bob is not None and bob.default_key_id == bobs["id"]


def test_revoked_key_cannot_be_default_and_revoking_the_default_moves_it() -> None:
    first, second, third = create_key(name="1"), create_key(name="2"), create_key(name="3")

    status, revoked = call_account(account_event("revoke_key", key_id=first["id"]))
    assert status == 200 and revoked["status"] == "revoked" and revoked["revoked_at"]
    account = account_store.get_account(f"acct_{ADA}")
    assert account is not None and account.default_key_id == third["id"], "the newest active key takes over"

    status, body = call_account(account_event("set_default_key", key_id=first["id"]))
    assert status == 400 and body["error"]["code"] == "invalid_request"

    status, body = call_account(account_event("set_default_key", key_id=second["id"]))
    assert status == 200 and body["is_default"] is True
    status, listing = call_account(account_event("list_keys"))
    assert listing["default_key_id"] == second["id"]

    for key in (second, third):
        call_account(account_event("revoke_key", key_id=key["id"]))
    status, listing = call_account(account_event("list_keys"))
    assert listing["default_key_id"] is None
    assert {k["status"] for k in listing["data"]} == {"revoked"}
    again = call_account(account_event("revoke_key", key_id=first["id"]))
    assert again[0] == 200 and again[1]["revoked_at"] == revoked["revoked_at"], "revoking is idempotent"


def test_active_keys_per_account_are_limited_by_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_MAX_ACTIVE_KEYS", "2")
    first = create_key(name="1")
    create_key(name="2")

    status, body = call_account(account_event("create_key", body={"name": "3"}))
    assert status == 403 and body["error"]["code"] == "permission_denied"
    assert "at most 2 active keys" in body["error"]["message"]

    call_account(account_event("revoke_key", key_id=first["id"]))
    assert call_account(account_event("create_key", body={"name": "3"}))[0] == 201, (
        "revoked keys do not count"
    )


def test_a_user_without_consent_cannot_create_keys() -> None:
    status, body = call_account(account_event("create_key", consent=False, body={"name": "x"}))

    assert status == 403
    assert body["error"]["code"] == "permission_denied"
    assert "Responsible AI" in body["error"]["message"]
    assert key_store.list_account_keys(f"acct_{ADA}") == []


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"name": ""}, "name"),
        ({"name": "x" * 65}, "name"),
        ({"name": 7}, "name"),
        ({"name": "ok", "key": "sk_sluice_chosen"}, "key"),
        ("not json", None),
        ("[]", None),
    ],
)
def test_bad_create_requests_are_400_and_create_nothing(body, param) -> None:
    status, response = call_account(account_event("create_key", body=body))

    assert status == 400
    assert response["error"]["code"] == "invalid_request"
    assert response["error"]["param"] == param
    assert key_store.list_account_keys(f"acct_{ADA}") == []


def test_every_route_without_a_user_is_401() -> None:
    for name in ("get_profile", "update_profile", "create_key", "list_keys", "revoke_key", "set_default_key"):
        status, body = call_account(account_event(name, claims=False))
        assert status == 401, name
        assert body["error"]["code"] == "unauthenticated"


@pytest.mark.parametrize("route", ["revoke_key", "set_default_key", "reissue_key"])
def test_a_404_repeats_a_long_key_id_cut_to_64_characters(route: str) -> None:
    create_key(name="one")
    long_id = "a" * 5000

    status, body = call_account(account_event(route, key_id=long_id))

    assert status == 404 and body["error"]["code"] == "not_found"
    assert body["error"]["message"] == f"No key {'a' * 64}....", "the first 64 characters, then an ellipsis"
    status, body = call_account(account_event(route, key_id="k" * 64))
    assert status == 404 and body["error"]["message"] == f"No key {'k' * 64}.", "64 or fewer: whole"
