"""Fixed windows, bucket keys and the tightest-bucket headers."""

from __future__ import annotations

import pytest

from shared.limits.buckets import Bucket, LimitFacts, buckets_for, tightest
from shared.limits.policy import load_policy


def test_window_start_and_reset_align_to_the_window() -> None:
    bucket = Bucket("r", "s", limit=10, window_seconds=60)
    assert bucket.window_start(1_000_000_059.9) == 1_000_000_020
    assert bucket.reset_at(1_000_000_059.9) == 1_000_000_080
    assert bucket.item_key(1_000_000_000) != bucket.item_key(1_000_000_020), "a new window is a new counter"


def test_subjects_are_hashed_and_depend_on_every_limiter_fact() -> None:
    rules = load_policy().rules_for("playground.history")
    a = buckets_for(rules, "free", LimitFacts(ip="198.51.100.7", user="u1", session_id="s1"))[0]
    b = buckets_for(rules, "free", LimitFacts(ip="198.51.100.7", user="u1", session_id="s2"))[0]
    c = buckets_for(rules, "free", LimitFacts(ip="198.51.100.8", user="u1", session_id="s1"))[0]
    assert len({a.subject, b.subject, c.subject}) == 3
    assert "198.51.100.7" not in a.item_key(0) and "u1" not in a.item_key(0)


def test_missing_limiter_fact_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="tool"):
        buckets_for(
            load_policy().rules_for("tools.proxy"), "free", LimitFacts(ip="1.2.3.4", account_key_id="k")
        )


def test_plan_selects_the_window() -> None:
    rules = load_policy().rules_for("chat.public", "post_auth")
    free = buckets_for(rules, "free", LimitFacts(ip="1.1.1.1", key_id="k"))[0]
    pro = buckets_for(rules, "pro", LimitFacts(ip="1.1.1.1", key_id="k"))[0]
    assert (free.limit, free.window_seconds) == (40, 3600)
    assert (pro.limit, pro.window_seconds) == (240, 60)


def test_tightest_bucket_is_the_one_with_fewest_requests_left() -> None:
    ip = Bucket("ip", "a", limit=48, window_seconds=60)
    key = Bucket("key", "b", limit=40, window_seconds=3600)
    status = tightest([ip, key], [47, 10], now=120)
    assert (status.limit, status.remaining, status.reset_at) == (48, 1, 180)
    assert status.headers() == {
        "X-RateLimit-Limit": "48",
        "X-RateLimit-Remaining": "1",
        "X-RateLimit-Reset": "180",
    }
