"""Which limit rows a chat admission counts: the endpoint preset, or the credit-balance bands."""

from __future__ import annotations

import asyncio

import pytest

from shared.adapters import ledger_store
from shared.credits.ledger import grant_credits
from shared.gateway import call
from shared.limits import known
from shared.limits.policy import load_policy
from shared.settings import get_settings

ACCOUNT = "acct_preset"


@pytest.fixture
def preset(aws, monkeypatch: pytest.MonkeyPatch):
    def choose(name: str) -> None:
        monkeypatch.setenv("SLUICE_RATE_LIMIT_PRESET", name)
        get_settings.cache_clear()

    known.clear()
    yield choose
    get_settings.cache_clear()


def test_the_endpoint_preset_counts_the_endpoint_rows(preset) -> None:
    preset("endpoint")
    assert asyncio.run(call._rules("chat.public", ACCOUNT)) == load_policy().rules_for("chat.public")


def test_the_balance_preset_reads_the_balance_once_then_uses_what_responses_report(
    preset, monkeypatch: pytest.MonkeyPatch
) -> None:
    preset("credit_balance")
    grant_credits(ACCOUNT, 500, source="admin", reference="seed", expires_at=None)
    policy = load_policy()
    expected = [*policy.rules_for("chat.public", "pre_auth"), *policy.balance_rules(500)]

    assert asyncio.run(call._rules("chat.public", ACCOUNT)) == expected
    known.remember([known.balance_key(ACCOUNT)], [20_000])  # what a later response reported
    monkeypatch.setattr(ledger_store, "get_balance", lambda account_id: pytest.fail("read again"))
    assert asyncio.run(call._rules("chat.public", ACCOUNT)) == [
        *policy.rules_for("chat.public", "pre_auth"),
        *policy.balance_rules(20_000),
    ]
    assert policy.balance_rules(500) != policy.balance_rules(20_000), "the bands differ"
