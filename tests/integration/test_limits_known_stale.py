"""Admission stating known values that no longer hold (shared/limits/known.py).

When another writer changed a stated value meanwhile (another instance, a purchase), the stated
transaction writes nothing and the request is admitted the ordinary way with a read, counted and
charged once; a key stated wrong then goes the ordinary way for ``known.CONTENDED_S``. A window
just begun is stated as having no count yet, and is cancelled the same way when another instance
counted in it first.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable

import boto3
import pytest
from chat_support import chat_http
from dashboard_support import fresh_window
from limits_known_support import (
    _calls,  # noqa: F401 - the `calls` fixture
    limit_counts,
    post,
    remaining,
    reservations,
)

from shared.adapters import limit_store
from shared.credits.ledger import balance, grant_credits
from shared.limits import known


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
