"""The charging rule and the one usage event per call (docs/CREDITS.md), without AWS."""

from __future__ import annotations

import pytest

from shared.auth.api_keys import Caller
from shared.catalog.models import ModelEntry, UpstreamRoute
from shared.chat.canonical import ChatRequest, Message, Role, Text, Usage
from shared.errors import InvalidRequest, UpstreamError
from shared.gateway.accounting import Outcome, usage_event
from shared.gateway.call import ChatCall
from shared.gateway.router import Target
from shared.keys.models import ApiKeyRecord

ROUTE = UpstreamRoute(provider="openai", base_url="http://x", model="up")
CHEAP = ModelEntry(
    id="cheap", display_name="c", tier="pro", context_window=10, max_output_tokens=10, routes=(ROUTE,)
)
DEAR = CHEAP.model_copy(update={"id": "dear", "credit_cost": 3})


def call(*models: ModelEntry) -> ChatCall:
    key = ApiKeyRecord(
        key_id="k1",
        key_hash="0" * 64,
        key_prefix="sk_sluice_ab",
        last_four="abcd",
        account_id="acct",
        plan="pro",
        name="t",
        created_at="2026-01-01T00:00:00Z",
    )
    request = ChatRequest(model="auto", messages=(Message(Role.USER, (Text("hi"),)),), stream=True)
    made = ChatCall("req-1", "chat.completions", Caller(key), "auto", list(models), request, None)
    made.reserved = made.reservation_cost
    return made


@pytest.mark.parametrize(
    ("outcome", "charged", "status"),
    [
        (Outcome(completed=True, output_started=True), True, 200),
        (Outcome(output_started=True, client_closed=True), True, 499),
        (Outcome(client_closed=True), False, 499),
        (Outcome(output_started=True, error=UpstreamError("reset")), False, 502),
        (Outcome(output_started=True, error=UpstreamError("reset"), client_closed=True), False, 502),
        (Outcome(error=InvalidRequest("bad")), False, 400),
        (Outcome(output_started=True), False, 200),  # ended without a finish: never charged
    ],
)
def test_the_charging_rule(outcome, charged, status) -> None:
    assert outcome.charged is charged
    assert outcome.status == status


def test_a_charged_event_carries_the_routed_models_price_and_real_usage() -> None:
    outcome = Outcome(target=Target(CHEAP, ROUTE), usage=Usage(12, 34), completed=True, output_started=True)

    event = usage_event(call(CHEAP), outcome)

    assert (event.charged, event.credits, event.outcome, event.status) == (True, 1, "success", 200)
    assert (event.input_tokens, event.output_tokens) == (12, 34)
    assert (event.public_model, event.routed_model, event.provider) == ("auto", "cheap", "openai")
    assert event.stream is True and event.key_id == "k1"


def test_a_failed_event_names_the_error_and_the_reserved_credits_to_release() -> None:
    event = usage_event(call(DEAR), Outcome(error=UpstreamError("down")))

    assert (event.charged, event.credits, event.outcome) == (False, 3, "failed")
    assert event.error_code == "upstream_error" and event.status == 502
    assert event.routed_model is None and event.input_tokens == event.output_tokens == 0
