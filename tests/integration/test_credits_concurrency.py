"""No request may overdraw the balance, however many race for it (single-threaded moto server)."""

from __future__ import annotations

import threading
import uuid

import boto3
import pytest
from credits_support import admit

from shared.credits.ledger import balance, grant_credits

THREADS = 16
TRIALS = 20


@pytest.fixture(scope="module")
def clients(moto_server) -> list:
    """One DynamoDB client per racing thread, as each Lambda instance has its own."""
    return [boto3.session.Session().client("dynamodb", region_name="us-east-1") for _ in range(THREADS)]


def race(clients: list, account: str, cost: int) -> list[bool]:
    """16 admissions of ``cost`` released at the same instant; their outcomes."""
    barrier = threading.Barrier(THREADS)
    results: list[bool] = []
    lock = threading.Lock()

    def request(i: int) -> None:
        barrier.wait()
        ok = admit(clients[i], account, f"req_{i}", cost)
        with lock:
            results.append(ok)

    threads = [threading.Thread(target=request, args=(i,)) for i in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


@pytest.mark.parametrize(("start", "cost"), [(25, 3), (7, 2), (10, 1)])
def test_concurrent_reservations_never_overdraw_and_admit_exactly_floor_b_over_c(
    aws, clients: list, start: int, cost: int
) -> None:
    for trial in range(TRIALS):
        # Given an account holding `start` credits
        account = f"acct_race_{trial}_{uuid.uuid4().hex[:6]}"
        grant_credits(account, start, source="admin", reference=f"seed-{trial}", expires_at=None)

        # When 16 requests costing `cost` each are admitted at once
        results = race(clients, account, cost)

        # Then exactly floor(B/c) are admitted and the balance never goes below zero
        admitted = sum(results)
        assert len(results) == THREADS
        assert admitted == min(THREADS, start // cost), f"trial {trial}: {admitted} admitted"
        assert balance(account) == start - admitted * cost >= 0, f"trial {trial}"
