"""Admission stating the counts and balance this instance knows: the values stay exact.

After the first request of an instance, a chat admission states each counter's and the balance's
current value in its transaction (shared/limits/known.py); the headers then follow without a
read, and must still be what the tables hold. Changes the instance makes itself keep the values
known (a failed request's released reservation), a known empty balance is refused until a
purchase is seen, and concurrent requests of one instance never overdraw it.
"""

from __future__ import annotations

import asyncio
from collections import Counter

import httpx
from chat_support import (
    LoopbackServer,
    RecordingUpstream,
    chat_http,
    install_catalog,
    make_account,
    openai_route,
)
from dashboard_support import fresh_window
from limits_known_support import (
    _calls,  # noqa: F401 - the `calls` fixture
    limit_counts,
    post,
    remaining,
    reservations,
)

from shared.credits.ledger import balance, grant_credits


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
