"""The RateLimitPreset template parameter, locally: a stack started with
SLUICE_RATE_LIMIT_PRESET=credit_balance limits a key by its account's balance band, where the
default stack (preset ``endpoint``) counts the endpoint table's key row."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator

import httpx
import pytest
from support.stack import RunningStack, cli_output, start_stack, stop_stack

pytestmark = pytest.mark.e2e
LOW_BALANCE = 50  # the 1-100 band: 20 per minute, tighter than the IP row (48 per minute)


@pytest.fixture(scope="module")
def balance_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    stack = start_stack(
        tmp_path_factory.mktemp("preset"), extra_env={"SLUICE_RATE_LIMIT_PRESET": "credit_balance"}
    )
    yield stack
    stop_stack(stack)


def sluice(stack: RunningStack, *args: str) -> str:
    return cli_output(stack, "--local", *args)


def low_balance_key(stack: RunningStack) -> str:
    """A Pro account's key, the account holding LOW_BALANCE credits (made through the CLI)."""
    account = f"acct_preset_{os.getpid()}_{stack.base_url.rsplit(':', 1)[1]}"
    sluice(stack, "accounts", "create", "--account-id", account, "--plan", "pro", "--consent", "2026-01")
    sluice(stack, "credits", "grant", account, str(LOW_BALANCE))
    issued = sluice(stack, "keys", "issue", account)
    found = re.search(r"API key \(shown once, store it now\): (\S+)", issued)
    assert found, issued
    return found.group(1)


def chat_limit(stack: RunningStack) -> str:
    response = httpx.post(
        f"{stack.base_url}/v1/chat/completions",
        headers={"Authorization": f"Bearer {low_balance_key(stack)}"},
        json={"model": "hrllm", "messages": [{"role": "user", "content": "Bok!"}], "max_tokens": 8},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.headers["x-ratelimit-limit"]


def test_the_environment_variable_switches_the_local_stack_to_the_balance_preset(balance_stack) -> None:
    assert chat_limit(balance_stack) == "20", "the 1-100 band's 20 per minute"


def test_the_default_local_stack_keeps_the_endpoint_preset(local_stack) -> None:
    assert chat_limit(local_stack) in {"48", "240"}, "the IP row or the Pro key row"
