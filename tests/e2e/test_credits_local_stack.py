"""`make dev`'s stack end to end: a chat request is reserved, reported through the usage queue,
settled by the usage consumer and shown by GET /api/user/credits; a signed payment adds a package."""

from __future__ import annotations

import json
import time

import httpx
import openai
import pytest

from shared.adapters.webhook_secret import LOCAL_DEV_SECRET
from shared.billing.signature import signature_header

pytestmark = pytest.mark.e2e


def credits(stack) -> dict:
    response = httpx.get(
        f"{stack.base_url}/api/user/credits", headers={"Authorization": f"Bearer {stack.api_key}"}
    )
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(condition, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError("condition not reached in time")


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
