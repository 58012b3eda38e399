"""Admission stating the counts and balance this instance knows (shared/limits/known.py).

After the first request of an instance, a chat admission states each counter's and the balance's
current value in its transaction; the headers then follow without a read, and must still be what
the tables hold. When another writer changed a value meanwhile, the stated transaction writes
nothing and the request is admitted the ordinary way, counted and charged once.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from chat_support import (
    LoopbackServer,
    RecordingUpstream,
    chat_http,
    install_catalog,
    make_account,
    openai_route,
)
from dashboard_support import fresh_window

from shared.adapters import limit_store
from shared.adapters.aws_json import AwsJsonClient
from shared.credits.ledger import balance, grant_credits
from shared.limits import known

BODY = {"model": "qwen3", "messages": [{"role": "user", "content": "state what you know"}]}


@pytest.fixture
def calls(chat_world, monkeypatch: pytest.MonkeyPatch) -> Iterator[Counter[str]]:
    """The hot path's AWS calls, by operation, as the gateway sends them."""
    seen: Counter[str] = Counter()
    real_send = AwsJsonClient._send

    async def counted(client: AwsJsonClient, operation: str, body: bytes) -> dict[str, Any]:
        seen[f"{client.service.name}:{operation}"] += 1
        return await real_send(client, operation, body)

    monkeypatch.setattr(AwsJsonClient, "_send", counted)
    yield seen


def limit_counts(table: str) -> list[int]:
    """Every counter in the limits table (one test: the IP bucket and the key bucket)."""
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    return sorted(int(i["count"]["N"]) for i in items)


def reservations(table: str, account_id: str) -> int:
    items = boto3.client("dynamodb", region_name="us-east-1").query(
        TableName=table,
        KeyConditionExpression="account_id = :a AND begins_with(sk, :r)",
        ExpressionAttributeValues={":a": {"S": account_id}, ":r": {"S": "RES#"}},
    )["Items"]
    return len(items)


async def post(http: httpx.AsyncClient, key: str) -> httpx.Response:
    return await http.post("/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {key}"})


def remaining(response: httpx.Response) -> tuple[int, int]:
    return int(response.headers["X-RateLimit-Remaining"]), int(response.headers["X-Credits-Remaining"])


def requests_after(
    key: str, calls: Counter[str], befores: list[Callable[[], None] | None]
) -> list[tuple[tuple[int, int], Counter[str]]]:
    """One request after each of ``befores`` (a change made elsewhere, a wait, or nothing), on one
    event loop: each answer's header values and the hot path's AWS calls it made."""

    async def scenario() -> list[tuple[tuple[int, int], Counter[str]]]:
        rows = []
        async with chat_http() as http:
            for before in befores:
                if before is not None:
                    before()
                calls.clear()
                response = await post(http, key)
                assert response.status_code == 200, response.text
                rows.append((remaining(response), Counter(calls)))
        return rows

    return asyncio.run(scenario())


def test_headers_after_stated_admissions_are_what_the_tables_hold(chat_world, calls) -> None:
    account, limits_table = chat_world.pro, chat_world.aws.names["LimitsTable"]
    fresh_window(margin=10.0)  # one window throughout: a new window's counters are not known yet

    async def four() -> list[tuple[tuple[int, int], Counter[str], list[int], int]]:
        rows = []
        async with chat_http() as http:
            for _ in range(4):
                calls.clear()
                response = await post(http, account.key)
                assert response.status_code == 200, response.text
                rows.append(
                    (
                        remaining(response),
                        Counter(calls),
                        limit_counts(limits_table),
                        balance(account.account_id),
                    )
                )
        return rows

    rows = asyncio.run(four())
    first_limit = rows[0][0][0] + 1  # the IP bucket (48/min) is the tightest
    for n, ((left, credits), seen, counts, held) in enumerate(rows, start=1):
        assert counts == [n, n], "each request counted once in each bucket"
        assert left == first_limit - n
        assert credits == held == 1000 - n, "the header is the balance the ledger holds"
        assert seen["dynamodb:TransactWriteItems"] == 1
        # Only the instance's first request reads the values; the others state them.
        assert seen["dynamodb:BatchGetItem"] == (1 if n == 1 else 0)
    assert reservations(chat_world.aws.names["LedgerTable"], account.account_id) == 4


def test_a_value_changed_elsewhere_is_read_again_and_nothing_is_counted_twice(
    chat_world, calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(known, "CONTENDED_S", 0.0)  # state again at once (the next test backs off)
    account, names = chat_world.pro, chat_world.aws.names
    table = boto3.client("dynamodb", region_name="us-east-1")
    fresh_window(margin=10.0)

    def purchase() -> None:
        grant_credits(account.account_id, 50, source="admin", reference="elsewhere", expires_at=None)

    def other_instance() -> None:  # admits three requests in the same buckets
        for item in table.scan(TableName=names["LimitsTable"])["Items"]:
            for _ in range(3):
                limit_store.increment(limit_store.CounterUpdate(item["pk"]["S"], 10**6, 0))

    rows = requests_after(account.key, calls, [None, purchase, other_instance, None])
    (first, _), (second, after_purchase), (third, after_other), (fourth, stated) = rows
    # Each stated transaction was cancelled, the ordinary one admitted, and the read saw the change.
    for stale in (after_purchase, after_other):
        assert stale["dynamodb:TransactWriteItems"] == 2 and stale["dynamodb:BatchGetItem"] == 1
    assert second == (first[0] - 1, first[1] - 1 + 50)
    assert third == (second[0] - 1 - 3, second[1] - 1)
    assert stated["dynamodb:TransactWriteItems"] == 1 and stated["dynamodb:BatchGetItem"] == 0
    assert fourth == (third[0] - 1, third[1] - 1)
    assert limit_counts(names["LimitsTable"]) == [7, 7], "4 requests here, 3 elsewhere, each once"
    assert balance(account.account_id) == fourth[1] == 1000 + 50 - 4
    assert reservations(names["LedgerTable"], account.account_id) == 4


def test_after_a_wrong_statement_the_keys_go_the_ordinary_way_for_a_while(
    chat_world, calls, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many instances on one busy key: its values change between this instance's requests, so
    stating them again at once would cost each request a cancelled transaction."""
    account = chat_world.pro
    fresh_window(margin=10.0)
    clock = [1000.0]
    monkeypatch.setattr(known, "_clock", lambda: clock[0])

    async def scenario() -> list[Counter[str]]:
        rows = []
        async with chat_http() as http:
            for step in range(4):
                if step == 1:
                    grant_credits(
                        account.account_id, 50, source="admin", reference="elsewhere", expires_at=None
                    )
                if step == 3:
                    clock[0] += known.CONTENDED_S
                calls.clear()
                assert (await post(http, account.key)).status_code == 200
                rows.append(Counter(calls))
        return rows

    first, wrong, backing_off, again = asyncio.run(scenario())
    ops = ("dynamodb:TransactWriteItems", "dynamodb:BatchGetItem")
    assert [tuple(row[op] for op in ops) for row in (first, wrong, backing_off, again)] == [
        (1, 1),  # the first request reads
        (2, 1),  # the purchase made the stated balance wrong: cancelled, admitted, read
        (1, 1),  # within CONTENDED_S: the ordinary way, no statement to cancel
        (1, 0),  # afterwards the known values are stated again
    ]
    assert balance(account.account_id) == 1000 + 50 - 4


def test_a_released_reservation_keeps_the_balance_known(chat_world, calls) -> None:
    """A failed request gives its credits back in the gateway (the release): the instance adds
    them to the balance it knows, and the next admission states it without a read."""
    account, upstream = chat_world.pro, RecordingUpstream()

    async def scenario() -> tuple[httpx.Response, httpx.Response, Counter[str], httpx.Response]:
        async with chat_http() as http:
            ok = await post(http, account.key)
            upstream.fail_status = 400
            failed = await post(http, account.key)
            upstream.fail_status = None
            calls.clear()
            after = await post(http, account.key)
            return ok, failed, Counter(calls), after

    with LoopbackServer(upstream) as server:
        install_catalog(routes={"qwen3": [openai_route(f"{server.url}/v1")]})
        ok, failed, seen, after = asyncio.run(scenario())
    assert ok.status_code == 200 and failed.status_code >= 400 and after.status_code == 200
    assert seen["dynamodb:TransactWriteItems"] == 1 and seen["dynamodb:BatchGetItem"] == 0
    assert int(after.headers["X-Credits-Remaining"]) == int(ok.headers["X-Credits-Remaining"]) - 1
    assert balance(account.account_id) == 1000 - 2, "the failed request was not charged"


def test_a_known_empty_balance_is_refused_then_a_purchase_is_seen(chat_world, calls) -> None:
    account = make_account("acct_two_credits", "pro", 2)

    async def scenario() -> list[httpx.Response]:
        async with chat_http() as http:
            answers = [await post(http, account.key) for _ in range(3)]
            grant_credits(account.account_id, 5, source="admin", reference="top-up", expires_at=None)
            answers.append(await post(http, account.key))
        return answers

    one, two, refused, after_top_up = asyncio.run(scenario())
    assert [r.status_code for r in (one, two, refused, after_top_up)] == [200, 200, 403, 200]
    assert refused.json()["error"]["code"] == "insufficient_credits"
    assert two.headers["X-Credits-Remaining"] == "0"
    assert after_top_up.headers["X-Credits-Remaining"] == "4" == str(balance(account.account_id))


def test_concurrent_requests_of_one_instance_never_overdraw(chat_world, calls) -> None:
    account = make_account("acct_race_known", "pro", 6)

    async def race() -> list[httpx.Response]:
        async with chat_http() as http:
            warm = await post(http, account.key)  # the values are known from here on
            assert warm.status_code == 200
            return [warm, *await asyncio.gather(*(post(http, account.key) for _ in range(10)))]

    answers = asyncio.run(race())
    admitted = [r for r in answers if r.status_code == 200]
    assert len(admitted) == 6 and balance(account.account_id) == 0
    assert all(r.json()["error"]["code"] == "insufficient_credits" for r in answers if r.status_code != 200)
    assert all(0 <= int(r.headers["X-Credits-Remaining"]) <= 5 for r in admitted)


WINDOW_S = 2  # the test's rate-limit windows: each phase below runs inside one


def short_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    """The chat rows with ``WINDOW_S``-second windows, so that a test sees windows roll over."""
    from dataclasses import replace

    from shared.gateway import call
    from shared.limits import policy

    base = policy.load_policy()
    rules = tuple(
        replace(r, free=policy.Window(r.free.limit, WINDOW_S), pro=policy.Window(r.pro.limit, WINDOW_S))
        for r in base.rules
    )
    monkeypatch.setattr(call, "load_policy", lambda: replace(base, rules=rules))


def next_window() -> None:
    """Sleep until just after the next window boundary."""
    time.sleep(WINDOW_S - time.time() % WINDOW_S + 0.02)


def test_a_new_window_is_stated_as_no_count_yet(chat_world, calls, monkeypatch: pytest.MonkeyPatch) -> None:
    """A key in a window just begun: the instance counted its previous window, so it states the
    new counters as 0 and needs no read; if another instance counted first, that statement is
    cancelled and the request admitted the ordinary way, counted once."""
    short_windows(monkeypatch)
    monkeypatch.setattr(known, "CONTENDED_S", 0.0)
    account, names = chat_world.pro, chat_world.aws.names

    def other_instance_counts_twice() -> None:  # in the current window of the same two buckets
        items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=names["LimitsTable"])[
            "Items"
        ]
        buckets = {i["pk"]["S"].rsplit("#", 1)[0] for i in items}
        window = int(time.time()) - int(time.time()) % WINDOW_S
        for bucket in buckets:
            for _ in range(2):
                limit_store.increment(limit_store.CounterUpdate(f"{bucket}#{window}", 10**6, 0))

    def counted_elsewhere_first() -> None:
        next_window()
        other_instance_counts_twice()

    rows = requests_after(account.key, calls, [next_window, next_window, counted_elsewhere_first])
    (first, _), (second, new_window), (third, elsewhere) = rows
    limit = first[0] + 1
    assert new_window["dynamodb:TransactWriteItems"] == 1 and new_window["dynamodb:BatchGetItem"] == 0
    assert second == (limit - 1, first[1] - 1), "a new window's first request, exact without a read"
    assert elsewhere["dynamodb:TransactWriteItems"] == 2 and elsewhere["dynamodb:BatchGetItem"] == 1
    assert third == (limit - 3, second[1] - 1), "two counted elsewhere, one here"
    counts = sorted(
        int(i["count"]["N"])
        for i in boto3.client("dynamodb", region_name="us-east-1").scan(TableName=names["LimitsTable"])[
            "Items"
        ]
    )
    assert counts == [1, 1, 1, 1, 3, 3], "three windows, two buckets each, every request once"
    assert balance(account.account_id) == 1000 - 3
