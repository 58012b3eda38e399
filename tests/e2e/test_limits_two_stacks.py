"""Exact limits across processes: two local-stack servers share one embedded AWS (as Lambda
instances share DynamoDB); 16 concurrent clients hammer one bucket through both of them."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from support.stack import RunningStack, start_stack, stop_stack

from sluice.local.moto_server import MotoProcess

CLIENTS = 16
TRIALS = 20
HEALTH_LIMIT = 48  # GET /api/health: 48 per minute per IP
ATTEMPTS_PER_CLIENT = 5  # 80 attempts for 48 slots


@pytest.fixture(scope="module")
def two_stacks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningStack, RunningStack]]:
    moto = MotoProcess.start()
    first = start_stack(tmp_path_factory.mktemp("a"), aws_endpoint=moto.endpoint)
    second = start_stack(tmp_path_factory.mktemp("b"), aws_endpoint=moto.endpoint)
    yield first, second
    stop_stack(first)
    stop_stack(second)
    moto.stop()


def _wait_for_room_in_the_window(seconds_needed: float = 10.0) -> None:
    """A trial must not straddle a minute boundary (a new window is a new, legitimate, budget)."""
    into_window = time.time() % 60
    if into_window > 60 - seconds_needed:
        time.sleep(60 - into_window + 0.5)


def _trial(stacks: tuple[RunningStack, RunningStack], source_ip: str) -> list[int]:
    def client(n: int) -> list[int]:
        base = stacks[n % 2].base_url
        transport = httpx.HTTPTransport(local_address=source_ip)
        with httpx.Client(transport=transport, timeout=30) as http:
            return [http.get(f"{base}/api/health").status_code for _ in range(ATTEMPTS_PER_CLIENT)]

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return [status for statuses in pool.map(client, range(CLIENTS)) for status in statuses]


def test_two_server_processes_admit_exactly_the_limit_in_every_trial(two_stacks) -> None:
    admitted = []
    for trial in range(TRIALS):
        _wait_for_room_in_the_window()
        statuses = _trial(two_stacks, f"127.0.0.{10 + trial}")  # a fresh IP bucket per trial
        assert set(statuses) <= {200, 429}, statuses
        admitted.append(statuses.count(200))
    assert admitted == [HEALTH_LIMIT] * TRIALS


@pytest.mark.parametrize("source", ["127.0.0.99", "127.0.0.1"])
def test_x_forwarded_for_does_not_change_the_ip_bucket(two_stacks, source: str) -> None:
    """Not even from 127.0.0.1, the address uvicorn trusts forwarded headers from by default
    (the servers run with ``proxy_headers=False``)."""
    _wait_for_room_in_the_window()
    transport = httpx.HTTPTransport(local_address=source)
    with httpx.Client(transport=transport, timeout=30) as http:
        remaining = [
            int(
                http.get(
                    f"{two_stacks[0].base_url}/v1/models",
                    headers={"X-Forwarded-For": f"203.0.113.{n}", "X-Real-IP": f"198.51.100.{n}"},
                ).headers["x-ratelimit-remaining"]
            )
            for n in range(5)
        ]
    first = remaining[0]
    assert first < 192 and remaining == [first - n for n in range(5)], (
        f"every request counted against {source}"
    )
