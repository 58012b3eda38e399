"""The account record and the profile: opened exactly once, consent, name; the plan is operator-only."""

from __future__ import annotations

import copy
import json

import boto3
import pytest
from accounts_support import ADA, BOB, account_event, call_account
from support.lambda_events import FakeContext, load_event

from shared.adapters import account_store
from shared.credits.ledger import balance

pytestmark = pytest.mark.usefixtures("aws")
CONSENT = {"terms_version": "2025-11", "privacy_version": "2025-11", "responsible_ai_version": "2025-11"}


def trigger(name: str, sub: str | None = None) -> dict:
    from functions.account_trigger.app import handler

    event = load_event("account_trigger", name)
    if sub is not None:
        event["userName"] = sub
        event["request"]["userAttributes"]["sub"] = sub
    returned = handler(copy.deepcopy(event), FakeContext())
    assert returned == event, "Cognito expects its event back unchanged"
    return event


def ledger_items(aws, account_id: str) -> list[dict]:
    client = boto3.client("dynamodb", region_name="us-east-1")
    return client.query(
        TableName=aws.names["LedgerTable"],
        KeyConditionExpression="account_id = :a",
        ExpressionAttributeValues={":a": {"S": account_id}},
    )["Items"]


def test_first_use_opens_the_account_with_consent_from_the_token_and_signup_credits(aws) -> None:
    status, profile = call_account(account_event("get_profile"))

    assert status == 200
    assert profile["account_id"] == f"acct_{ADA}"
    assert profile["email"] == "ada@example.com"
    assert profile["plan"] == "free"
    assert profile["default_key_id"] is None
    assert profile["consent"]["terms_version"] == "2025-11"
    assert profile["consent"]["responsible_ai_version"] == "2025-11"
    assert profile["can_create_keys"] is True
    assert profile["created_at"] and profile["invite_code"]
    assert balance(f"acct_{ADA}") == 100, "SignupCredits defaults to 100"


def test_the_account_is_opened_exactly_once_by_trigger_and_first_use_in_any_order(aws) -> None:
    event = trigger("post_confirmation")
    sub = event["request"]["userAttributes"]["sub"]
    first = account_store.get_account(f"acct_{sub}")
    trigger("post_confirmation")  # Cognito retries a slow trigger
    status, profile = call_account(account_event("get_profile", sub=sub, email="grace@example.com"))
    call_account(account_event("get_profile", sub=sub))

    assert status == 200
    assert first is not None and profile["created_at"] == first.created_at
    assert profile["invite_code"] == first.invite_code
    assert balance(f"acct_{sub}") == 100
    lots = [i for i in ledger_items(aws, f"acct_{sub}") if i["sk"]["S"].startswith("LOT#")]
    assert len(lots) == 1 and lots[0]["source"]["S"] == "signup"

    # First use before the trigger (a federated sign-in, a failed trigger): the same outcome.
    call_account(account_event("get_profile", sub=BOB))
    trigger("post_confirmation", sub=BOB)
    assert balance(f"acct_{BOB}") == 100
    assert len([i for i in ledger_items(aws, f"acct_{BOB}") if i["sk"]["S"].startswith("LOT#")]) == 1


def test_trigger_records_consent_from_the_user_attributes() -> None:
    event = trigger("post_confirmation")
    account = account_store.get_account(f"acct_{event['request']['userAttributes']['sub']}")

    assert account is not None and account.consent is not None
    assert (account.consent.terms_version, account.consent.privacy_version) == ("2025-11", "2025-11")
    assert account.consent.responsible_ai_version == "2025-11"
    assert account.email == "grace@example.com" and account.plan == "free"


def test_registration_without_consent_opens_an_account_that_cannot_create_keys_until_consent() -> None:
    event = trigger("post_confirmation_without_consent")
    sub = event["request"]["userAttributes"]["sub"]

    status, profile = call_account(account_event("get_profile", sub=sub, consent=False))
    assert status == 200 and profile["consent"] is None and profile["can_create_keys"] is False
    status, body = call_account(account_event("create_key", sub=sub, consent=False, body={"name": "x"}))
    assert status == 403 and body["error"]["code"] == "permission_denied"

    status, profile = call_account(
        account_event("update_profile", sub=sub, consent=False, body={"consent": CONSENT})
    )
    assert status == 200 and profile["consent"]["terms_version"] == "2025-11"
    assert profile["consent"]["accepted_at"]
    status, body = call_account(account_event("create_key", sub=sub, consent=False, body={"name": "x"}))
    assert status == 201 and body["key"].startswith("sk_sluice_")


def test_forgot_password_confirmation_opens_nothing() -> None:
    event = trigger("post_confirmation_forgot_password")

    assert account_store.get_account(f"acct_{event['request']['userAttributes']['sub']}") is None


def test_signup_credits_are_configurable_and_zero_grants_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLUICE_SIGNUP_CREDITS", "0")
    call_account(account_event("get_profile"))
    monkeypatch.setenv("SLUICE_SIGNUP_CREDITS", "250")
    call_account(account_event("get_profile", sub=BOB))

    assert account_store.get_account(f"acct_{ADA}") is not None
    assert balance(f"acct_{ADA}") == 0
    assert balance(f"acct_{BOB}") == 250


def test_a_failing_trigger_never_fails_the_sign_up(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.settings import get_settings

    monkeypatch.setenv("SLUICE_ACCOUNTS_TABLE", "no-such-table")
    get_settings.cache_clear()

    event = trigger("post_confirmation")  # asserts the event comes back

    assert event["triggerSource"] == "PostConfirmation_ConfirmSignUp"


def test_patch_profile_sets_name_and_consent_but_never_the_plan() -> None:
    status, profile = call_account(account_event("update_profile"))
    assert status == 200 and profile["name"] == "Ada"

    status, body = call_account(account_event("update_profile", body={"plan": "pro"}))
    assert status == 403 and body["error"]["code"] == "permission_denied" and body["error"]["param"] == "plan"
    account = account_store.get_account(f"acct_{ADA}")
    assert account is not None and account.plan == "free"

    status, profile = call_account(account_event("update_profile", body={}))
    assert status == 200 and profile["name"] == "Ada", "an empty patch changes nothing"


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "x" * 81},
        {"consent": {"terms_version": "1"}},
        {"consent": {**CONSENT, "terms_version": "1 OR 1=1"}},
        {"consent": None, "email": "other@example.com"},
        {"default_key_id": "key_x"},
        [],
    ],
)
def test_bad_profile_patches_are_400(body) -> None:
    status, response = call_account(account_event("update_profile", body=json.dumps(body)))

    assert status == 400
    assert response["error"]["code"] == "invalid_request"
