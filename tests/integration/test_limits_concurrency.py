"""Exactness under concurrency: 16 clients hammer one bucket; exactly L are admitted, every trial.

Runs against the single-threaded moto server, which serialises conditional writes the way
DynamoDB does per item (moto's threaded server does not, see docs/RATE_LIMITS.md).
"""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import pytest

from shared.errors import RateLimited
from shared.limits.admission import admit
from shared.limits.buckets import Bucket

CLIENTS = 16
TRIALS = 20
LIMIT = 12
ATTEMPTS_PER_CLIENT = 2  # 32 attempts for 12 slots
NOW = 1_800_000_000.0  # a fixed clock: no trial can straddle a window boundary


def _hammer(buckets: list[Bucket]) -> int:
    def client(_: int) -> int:
        admitted = 0
        for _ in range(ATTEMPTS_PER_CLIENT):
            try:
                admit(buckets, clock=lambda: NOW)
                admitted += 1
            except RateLimited:
                pass
        return admitted

    with ThreadPoolExecutor(max_workers=CLIENTS) as pool:
        return sum(pool.map(client, range(CLIENTS)))


@pytest.mark.usefixtures("aws")
def test_one_bucket_admits_exactly_its_limit_in_every_trial() -> None:
    admitted = [_hammer([Bucket("conc", uuid.uuid4().hex, LIMIT, 86400)]) for _ in range(TRIALS)]
    assert admitted == [LIMIT] * TRIALS


@pytest.mark.usefixtures("aws")
def test_transactional_admission_admits_exactly_the_tighter_limit_in_every_trial() -> None:
    results = []
    for _ in range(TRIALS):
        subject = uuid.uuid4().hex
        results.append(
            _hammer([Bucket("wide", subject, 3 * LIMIT, 86400), Bucket("narrow", subject, LIMIT, 86400)])
        )
    assert results == [LIMIT] * TRIALS
