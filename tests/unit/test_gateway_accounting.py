"""The charging rule and the one usage event per call (docs/CREDITS.md), without AWS."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from shared.auth.api_keys import Caller
from shared.catalog.models import ModelEntry, UpstreamRoute
from shared.chat.canonical import ChatRequest, FinishReason, Message, Role, Text, Usage
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


@pytest.mark.parametrize(
    ("outcome", "name"),
    [
        (Outcome(completed=True, output_started=True), "success"),
        (Outcome(output_started=True, client_closed=True), "client_closed"),  # charged, status 499
        (Outcome(client_closed=True), "client_closed"),  # not charged
        (Outcome(completed=True, output_started=True, client_closed=True), "success"),  # closed after the end
        (Outcome(output_started=True, error=UpstreamError("reset"), client_closed=True), "failed"),
        (Outcome(error=InvalidRequest("bad")), "failed"),
        (Outcome(output_started=True), "failed"),
    ],
)
def test_the_events_outcome_tells_a_client_that_went_away_from_a_success(outcome, name) -> None:
    """A run the client closed after output was charged, but it is no success: its log said
    outcome success beside status 499 and no tokens."""
    event = usage_event(call(CHEAP), outcome)
    assert event.outcome == name
    assert event.status == outcome.status and event.charged is outcome.charged


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


def test_the_relay_asks_for_a_flush_right_after_the_first_content(monkeypatch: pytest.MonkeyPatch) -> None:
    """The first token leaves before the rest of an upstream burst is translated (SseResponse)."""
    import asyncio

    from shared.chat import events as ev
    from shared.chat.sse import FLUSH
    from shared.gateway import streaming
    from shared.gateway.router import OpenedStream
    from shared.gateway.sse_render import OpenAISse

    outcomes: list[Outcome] = []

    async def recorded(_call: ChatCall, outcome: Outcome) -> None:
        outcomes.append(outcome)

    monkeypatch.setattr(streaming, "finish", recorded)
    head: list[ev.StreamEvent] = [ev.Start(id="u", model="up"), ev.TextDelta("Hel")]
    rest: list[ev.StreamEvent] = [ev.TextDelta("lo"), ev.TextDelta("!"), ev.Finish(FinishReason.STOP)]

    async def burst() -> AsyncIterator[ev.StreamEvent]:
        for event in rest:
            yield event

    async def run() -> list[bytes]:
        opened = OpenedStream(Target(CHEAP, ROUTE), head, burst())
        task = asyncio.get_running_loop().create_future()
        task.set_result(opened)

        def renderer(model: str) -> OpenAISse:
            return OpenAISse(model=model, include_usage=False)

        return [frame async for frame in streaming.relay(call(CHEAP), task, renderer)]  # type: ignore[arg-type]

    frames = asyncio.run(run())
    assert frames.count(FLUSH) == 1
    before = frames[: frames.index(FLUSH)]
    assert b'"content":"Hel"' in before[-1]
    assert not any(b'"lo"' in frame for frame in before)
    assert outcomes[0].completed
