"""POST /api/billing/webhook through the billing function's Lambda entry point."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

import pytest
from credits_support import LambdaContext, load_event

from shared.accounts.models import Account
from shared.adapters import account_store, ledger_store
from shared.billing.signature import signature_header
from shared.credits.ledger import balance

SECRET = "whsec_test_0123456789abcdef"


@pytest.fixture
def billing(aws, monkeypatch):
    monkeypatch.setenv("SLUICE_BILLING_WEBHOOK_SECRET", SECRET)
    account_store.create_account(Account(account_id="acct_inviter", created_at="2025-01-01T00:00:00Z"))
    account_store.create_account(
        Account(account_id="acct_buyer", invited_by="acct_inviter", created_at="2025-01-01T00:00:00Z")
    )


def payment(event_id: str = "evt_1", package: str = "standard", account: str = "acct_buyer") -> dict:
    return {
        "id": event_id,
        "type": "payment.succeeded",
        "created": int(time.time()),
        "data": {"account_id": account, "package": package, "amount_paid": 1900, "currency": "eur"},
    }


def post(
    payload: Any, *, secret: str = SECRET, at: int | None = None, header: str | None = None
) -> tuple[int, dict]:
    from functions.billing.app import handler

    raw = (payload if isinstance(payload, str) else json.dumps(payload)).encode()
    event = load_event("billing", "webhook")
    event["body"] = raw.decode()
    signed = header if header is not None else signature_header(secret, at or int(time.time()), raw)
    event["headers"]["Sluice-Signature"] = signed
    event["multiValueHeaders"]["Sluice-Signature"] = [signed]
    result = handler(event, LambdaContext())
    return result["statusCode"], json.loads(result["body"])


@pytest.mark.usefixtures("billing")
def test_a_signed_payment_grants_its_package_with_a_one_month_expiry() -> None:
    status, body = post(payment())

    assert status == 200, body
    assert body == {
        "received": True,
        "event_id": "evt_1",
        "duplicate": False,
        "package": "standard",
        "credits": 5000,
    }
    assert balance("acct_buyer") == 5000
    (lot,) = list(ledger_store.iter_lots("acct_buyer"))
    assert (lot.source, lot.reference, lot.amount) == ("package", "payment:evt_1", 5000)
    expiry = dt.datetime.fromisoformat(lot.expiry or "")
    assert dt.timedelta(days=27) < expiry - dt.datetime.now(dt.UTC) <= dt.timedelta(days=31)


@pytest.mark.usefixtures("billing")
def test_a_replayed_event_id_grants_once() -> None:
    assert post(payment("evt_replay", "starter"))[0] == 200

    status, body = post(payment("evt_replay", "starter"))  # re-sent by the provider, freshly signed

    assert status == 200 and body["duplicate"] is True
    assert balance("acct_buyer") == 500
    assert [lot.expiry for lot in ledger_store.iter_lots("acct_buyer")] == [None], "Starter never expires"


@pytest.mark.usefixtures("billing")
@pytest.mark.parametrize(
    "header",
    [
        "t={now},v1=" + "0" * 64,
        "t={now},v1=",
        "v1=abc",
        "",
        "garbage",
    ],
)
def test_a_bad_signature_is_refused_with_401_and_grants_nothing(header: str) -> None:
    status, body = post(payment(), header=header.format(now=int(time.time())))

    assert status == 401
    assert body["error"]["code"] == "invalid_signature"
    assert balance("acct_buyer") == 0


@pytest.mark.usefixtures("billing")
def test_a_signature_made_with_another_secret_is_refused() -> None:
    assert post(payment(), secret="whsec_someone_else")[0] == 401
    assert balance("acct_buyer") == 0


@pytest.mark.usefixtures("billing")
@pytest.mark.parametrize("skew", [-301, 301])
def test_a_timestamp_outside_five_minutes_is_refused_with_401(skew: int) -> None:
    status, body = post(payment(), at=int(time.time()) + skew)

    assert status == 401 and "tolerance" in body["error"]["message"]
    assert balance("acct_buyer") == 0


@pytest.mark.usefixtures("billing")
def test_a_timestamp_within_the_window_is_accepted() -> None:
    assert post(payment(), at=int(time.time()) - 290)[0] == 200


@pytest.mark.usefixtures("billing")
def test_an_unknown_package_is_400() -> None:
    status, body = post(payment(package="platinum"))

    assert status == 400
    assert body["error"]["param"] == "package" and "platinum" in body["error"]["message"]
    assert balance("acct_buyer") == 0


@pytest.mark.usefixtures("billing")
@pytest.mark.parametrize(
    "payload",
    [
        "not json",
        "[]",
        {"type": "payment.succeeded"},
        {"id": "evt_x", "type": "payment.succeeded", "data": {}},
    ],
)
def test_malformed_signed_bodies_are_400(payload: Any) -> None:
    assert post(payload)[0] == 400


@pytest.mark.usefixtures("billing")
def test_an_unknown_account_is_400() -> None:
    assert post(payment(account="acct_nobody"))[0] == 400
    assert balance("acct_nobody") == 0


@pytest.mark.usefixtures("billing")
def test_other_event_types_are_acknowledged_and_ignored() -> None:
    status, body = post({"id": "evt_refund", "type": "payment.refunded", "data": {}})

    assert status == 200 and body["ignored"] is True


@pytest.mark.usefixtures("billing")
def test_the_inviter_is_rewarded_on_the_first_payment_only() -> None:
    assert post(payment("evt_a", "starter"))[0] == 200
    assert post(payment("evt_b", "starter"))[0] == 200

    assert balance("acct_buyer") == 1000
    assert balance("acct_inviter") == 500
    (lot,) = list(ledger_store.iter_lots("acct_inviter"))
    assert (lot.source, lot.reference) == ("invite", "invite-paid:acct_buyer")


@pytest.mark.usefixtures("billing")
def test_the_webhook_route_is_post_only() -> None:
    from functions.billing.app import handler

    event = load_event("billing", "webhook")
    event["httpMethod"] = "GET"
    assert handler(event, LambdaContext())["statusCode"] == 405
