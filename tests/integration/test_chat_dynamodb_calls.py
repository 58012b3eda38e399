"""How many AWS round trips a chat request costs, and how many of them the upstream call waits for.

Every call is logged: botocore event hooks on the functions' boto3 clients, and a wrapper around
the transport of the hot path's client (shared/adapters/aws_json.py). To tell the round trips a
request *waits for* before its upstream call from those that overlap it, every DynamoDB call is
slowed by ``DELAY_S``: the upstream (a recorder) then receives the request after roughly
``DELAY_S`` times the number of sequential round trips, and the calls running alongside the
upstream call add nothing. The counts are printed (``-s``) for docs/BENCHMARKS.md.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from chat_support import (
    LoopbackServer,
    RecordingUpstream,
    chat_http,
    install_catalog,
    openai_route,
    queued_usage_events,
)

from shared.adapters.aws import dynamodb, sqs
from shared.adapters.aws_json import AwsJsonClient
from shared.adapters.catalog_store import clear_catalog_cache
from shared.auth.api_keys import clear_cache as clear_key_cache
from shared.limits import known

DELAY_S = 0.5


@dataclass
class AwsCall:
    operation: str
    started: float
    tables: Counter[str] = field(default_factory=Counter)  # items (or requests) per table


class AwsCallLog:
    """A botocore ``before-call`` hook: logs each call and, for DynamoDB, waits ``delay`` first."""

    def __init__(self, delay: float) -> None:
        self.delay = delay
        self.calls: list[AwsCall] = []

    def __call__(self, model, params, **kwargs) -> None:
        body = json.loads(params.get("body") or b"{}") if model.metadata["protocol"] == "json" else {}
        self.log(model.service_model.service_name, model.name, body)
        if self.delay and model.service_model.service_name == "dynamodb":
            time.sleep(self.delay)

    def log(self, service: str, operation: str, body: dict) -> None:
        tables: Counter[str] = Counter()
        for item in body.get("TransactItems", []):
            tables.update(op["TableName"] for op in item.values())
        tables.update(body.get("RequestItems", {}).keys())
        if "TableName" in body:
            tables[body["TableName"]] += 1
        self.calls.append(AwsCall(f"{service}:{operation}", time.monotonic(), tables))

    def between(self, start: float, end: float) -> list[AwsCall]:
        return [c for c in self.calls if start <= c.started < end]


@dataclass
class Measured:
    waited: float  # time until the upstream got the request, in units of DELAY_S

    @property
    def waited_round_trips(self) -> int:
        """Sequential DynamoDB round trips before the upstream call (the rest of the time is small)."""
        return int(self.waited)

    started_before_upstream: list[str]
    all_calls: Counter[str]
    limit_and_credit_items: Counter[str]


@pytest.fixture
def setup(chat_world, monkeypatch) -> Iterator[tuple[RecordingUpstream, AwsCallLog]]:
    upstream = RecordingUpstream()
    log = AwsCallLog(DELAY_S)
    real_send = AwsJsonClient._send

    async def logged_send(client: AwsJsonClient, operation: str, body: bytes) -> dict:
        log.log(client.service.name, operation, json.loads(body))
        if client.service.name == "dynamodb":
            await asyncio.sleep(DELAY_S)
        return await real_send(client, operation, body)

    monkeypatch.setattr(AwsJsonClient, "_send", logged_send)
    with LoopbackServer(upstream) as server:
        install_catalog(routes={"qwen3": [openai_route(f"{server.url}/v1")]})
        for aws_client in (dynamodb(), sqs()):
            aws_client.meta.events.register("before-call.*.*", log)
        yield upstream, log
        for aws_client in (dynamodb(), sqs()):
            aws_client.meta.events.unregister("before-call.*.*", log)


async def measure(http, world, upstream: RecordingUpstream, log: AwsCallLog, key: str) -> Measured:
    upstream.calls.clear()
    sent = time.monotonic()
    response = await http.post(
        "/v1/chat/completions",
        json={"model": "qwen3", "messages": [{"role": "user", "content": "count my round trips"}]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.text
    await asyncio.sleep(DELAY_S)  # let a background write (last-used) be logged
    [call] = upstream.calls
    during = log.between(sent, time.monotonic())
    transact = [c for c in during if c.operation == "dynamodb:TransactWriteItems"]
    assert len(queued_usage_events(world.usage_queue)) == 1
    return Measured(
        waited=(call.arrived - sent) / DELAY_S,
        started_before_upstream=[c.operation for c in during if c.started < call.arrived],
        all_calls=Counter(c.operation for c in during),
        limit_and_credit_items=transact[0].tables if transact else Counter(),
    )


def report(label: str, measured: Measured) -> None:
    print(
        f"\n{label}: upstream reached after {measured.waited:.2f} x DELAY_S, so "
        f"{measured.waited_round_trips} DynamoDB round trip(s) waited for; "
        f"started before it: {measured.started_before_upstream}; all calls: {dict(measured.all_calls)}; "
        f"admission transaction items per table: {dict(measured.limit_and_credit_items)}"
    )


def test_dynamodb_round_trips_per_chat_request(chat_world, setup) -> None:
    upstream, log = setup
    names = chat_world.aws.names

    async def scenarios() -> list[Measured]:
        # One event loop throughout, as in a Lambda instance: the first request pays for imports,
        # the pooled upstream client and connections; then the caches are emptied on purpose.
        async with chat_http() as http:
            await measure(http, chat_world, upstream, log, chat_world.pro.key)
            clear_catalog_cache()
            clear_key_cache()
            known.clear()  # a new instance knows no counts or balance either
            cold_everything = await measure(http, chat_world, upstream, log, chat_world.pro.key)
            clear_key_cache()
            cold_key = await measure(http, chat_world, upstream, log, chat_world.pro.key)
            warm = await measure(http, chat_world, upstream, log, chat_world.pro.key)
            return [cold_everything, cold_key, warm]

    cold_everything, cold_key, warm = asyncio.run(scenarios())
    for label, measured in (
        ("cold catalog + cold key", cold_everything),
        ("cold key", cold_key),
        ("warm", warm),
    ):
        report(label, measured)

    assert cold_everything.waited_round_trips <= 2, "key lookup alongside the catalog scan, then admission"
    assert cold_key.waited_round_trips <= 2, "key lookup, then admission"
    assert warm.waited_round_trips <= 1, "admission only"
    assert cold_key.all_calls["dynamodb:GetItem"] == 1 and warm.all_calls["dynamodb:GetItem"] == 0
    for measured in (cold_everything, cold_key, warm):
        # Limits and the credit reservation share one transaction.
        assert measured.all_calls["dynamodb:TransactWriteItems"] == 1
        assert measured.all_calls["sqs:SendMessage"] == 1, "one usage event"
        assert measured.limit_and_credit_items[names["LimitsTable"]] == 2, "IP and key buckets"
        assert measured.limit_and_credit_items[names["LedgerTable"]] >= 1, "the reservation"
    # A new instance reads the counts and balance for the headers (overlapping the upstream call);
    # afterwards its admissions state them, and the headers need no read (shared/limits/known.py).
    assert cold_everything.all_calls["dynamodb:BatchGetItem"] == 1
    assert cold_key.all_calls["dynamodb:BatchGetItem"] == 0 and warm.all_calls["dynamodb:BatchGetItem"] == 0
    assert sum(n for op, n in warm.all_calls.items() if op.startswith("dynamodb:")) == 1
