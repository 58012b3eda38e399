"""The policy file is the SPEC's rate-limit table, and follows its Pro rule."""

from __future__ import annotations

import pytest

from shared.limits.policy import load_policy

# SPEC "Rate limits", row by row: (endpoint, limiter, free limit, free window, pro limit, pro window)
SPEC_TABLE = [
    ("catalog.models", "ip", 192, 60, 192, 60),
    ("chat.public", "ip", 48, 60, 48, 60),
    ("chat.public", "key", 40, 3600, 240, 60),
    ("tools.proxy", "account_key", 480, 60, 2400, 60),
    ("tools.proxy", "tool", 384, 60, 1920, 60),
    ("internal.chat", "user+ip", 36, 60, 180, 60),
    ("playground.token", "ip", 24, 60, 24, 60),
    ("playground.token", "user", 24, 60, 120, 60),
    ("playground.chat", "user", 24, 60, 120, 60),
    ("playground.sessions.list", "user+ip", 72, 60, 360, 60),
    ("playground.sessions.create", "user+ip", 24, 60, 120, 60),
    ("playground.history", "user+session+ip", 96, 60, 480, 60),
    ("playground.export", "user+session+ip", 16, 60, 80, 60),
    ("contact", "ip", 8, 60, 8, 60),
    ("health", "ip", 48, 60, 48, 60),
]


def test_policy_file_is_exactly_the_spec_table() -> None:
    rows = [
        (r.endpoint, r.limiter, r.free.limit, r.free.seconds, r.pro.limit, r.pro.seconds)
        for r in load_policy().rules
    ]
    assert rows == SPEC_TABLE


@pytest.mark.parametrize(
    "rule", [r for r in load_policy().rules if r.limiter != "ip"], ids=lambda r: r.rule_id
)
def test_pro_multiplies_account_and_user_keyed_limits_by_five(rule) -> None:
    if rule.endpoint == "chat.public":  # Free keys: 40/hour on auto and the free model; Pro: 240/min
        assert (rule.free.limit, rule.free.seconds, rule.pro.limit, rule.pro.seconds) == (40, 3600, 240, 60)
    else:
        assert rule.pro.limit == 5 * rule.free.limit and rule.pro.seconds == rule.free.seconds


@pytest.mark.parametrize(
    "rule", [r for r in load_policy().rules if r.limiter == "ip"], ids=lambda r: r.rule_id
)
def test_ip_only_limits_stay_the_same_on_pro(rule) -> None:
    assert rule.pro == rule.free


def test_ip_limit_of_public_chat_applies_before_authentication() -> None:
    policy = load_policy()
    assert [r.limiter for r in policy.rules_for("chat.public", "pre_auth")] == ["ip"]
    assert [r.limiter for r in policy.rules_for("chat.public", "post_auth")] == ["key"]


@pytest.mark.parametrize(
    ("balance", "expected"),
    [
        (1, (20, 600, 5000)),
        (100, (20, 600, 5000)),
        (101, (60, 2000, 20000)),
        (1000, (60, 2000, 20000)),
        (1001, (200, 6000, 50000)),
        (10000, (200, 6000, 50000)),
        (10001, (500, 15000, 100000)),
        (10**9, (500, 15000, 100000)),
    ],
)
def test_credit_balance_preset_bands(balance: int, expected: tuple[int, int, int]) -> None:
    rules = load_policy().balance_rules(balance)
    assert tuple(r.free.limit for r in rules) == expected
    assert [r.free.seconds for r in rules] == [60, 3600, 86400]
    assert all(r.pro == r.free for r in rules), "the balance preset does not depend on the plan"
