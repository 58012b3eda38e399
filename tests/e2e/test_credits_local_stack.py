"""`make dev`'s stack end to end: a chat request is reserved, reported through the usage queue,
settled by the usage consumer and shown by GET /api/user/credits; a signed payment adds a package;
`sluice --local schedules run` runs the credit-expiry schedule on demand from outside the stack."""

from __future__ import annotations

import datetime as dt
import json
import time

import httpx
import openai
import pytest
from support.polling import wait_for
from support.stack import sluice_cli

from shared.adapters.webhook_secret import LOCAL_DEV_SECRET
from shared.billing.signature import signature_header

pytestmark = pytest.mark.e2e


def credits(stack) -> dict:
    response = httpx.get(
        f"{stack.base_url}/api/user/credits", headers={"Authorization": f"Bearer {stack.api_key}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_a_chat_request_is_charged_once_through_the_usage_queue(local_stack) -> None:
    before = credits(local_stack)
    client = openai.OpenAI(base_url=f"{local_stack.base_url}/v1", api_key=local_stack.api_key)

    reply = client.chat.completions.with_raw_response.create(
        model="hrllm", messages=[{"role": "user", "content": "Bok!"}], max_tokens=16
    )

    assert int(reply.headers["x-credits-remaining"]) == before["balance"] - 1
    after = wait_for(lambda: (r := credits(local_stack))["total_consumed"] > before["total_consumed"] and r)
    assert after["usage"]["requests"] == before["usage"]["requests"] + 1
    assert after["balance"] == before["balance"] - 1
    assert after["total_consumed"] == before["total_consumed"] + 1
    assert after["usage"]["by_day"] and after["usage"]["average_tokens_per_request"] > 0


def test_a_signed_payment_grants_a_package_once(local_stack) -> None:
    body = json.dumps(
        {
            "id": f"evt_e2e_{time.time_ns()}",
            "type": "payment.succeeded",
            "data": {"account_id": "acct_demo", "package": "starter"},
        }
    ).encode()
    before = credits(local_stack)["balance"]

    def post() -> httpx.Response:
        header = signature_header(LOCAL_DEV_SECRET, int(time.time()), body)
        return httpx.post(
            f"{local_stack.base_url}/api/billing/webhook",
            content=body,
            headers={"Content-Type": "application/json", "Sluice-Signature": header},
        )

    first, replay = post(), post()

    assert first.status_code == 200 and first.json()["duplicate"] is False
    assert replay.status_code == 200 and replay.json()["duplicate"] is True
    assert credits(local_stack)["balance"] == before + 500


sluice = sluice_cli


def test_the_credit_expiry_schedule_runs_on_demand_through_the_cli(stack_aws) -> None:
    from shared.adapters import ledger_store
    from shared.credits.ledger import balance, grant_credits

    # Given an account with a lot past its expiry and one that never expires (the stack runs no
    # schedules on its own in these tests: --no-schedules)
    account = f"acct_expiry_{time.time_ns()}"
    past = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    grant_credits(account, 7, source="admin", reference=f"{account}-due", expires_at=past)
    grant_credits(account, 5, source="admin", reference=f"{account}-kept", expires_at=None)
    assert balance(account) == 12

    # When the developer asks for an unknown schedule, then for the credit job by name
    unknown = sluice(stack_aws, "--local", "schedules", "run", "credit-expiry")
    listed = sluice(stack_aws, "--local", "schedules", "list")
    ran = sluice(stack_aws, "--local", "schedules", "run", "CreditExpiryFunction.Every5Minutes")

    # Then the unknown name is refused with the names, and the job ran once, inside the stack
    assert unknown.returncode != 0 and "CreditExpiryFunction.Every5Minutes" in unknown.stderr
    assert listed.returncode == 0 and "CreditExpiryFunction.Every5Minutes" in listed.stdout
    assert ran.returncode == 0, ran.stdout + ran.stderr
    summary = json.loads(ran.stdout)
    assert summary["schedule"] == "CreditExpiryFunction.Every5Minutes"
    assert summary["result"]["credits_expired"] >= 7 and summary["result"]["lots_expired"] >= 1
    assert balance(account) == 5, "the due lot expired; the other stays"
    [kept] = list(ledger_store.iter_lots(account, live_only=True))
    assert kept.remaining == 5 and kept.expiry is None
