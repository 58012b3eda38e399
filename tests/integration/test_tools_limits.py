"""Rate limits of the tool proxy (SPEC "Rate limits"), Free and Pro, through events/tools.

Each row's bucket is preloaded to its limit minus one (as tests/integration/test_limits_admission.py
does) instead of sending hundreds of requests: the next request is the L-th (allowed, 0 left),
the one after it the (L+1)-th (429 with Retry-After), and nothing is charged for it.
"""

from __future__ import annotations

import pytest
from chat_support import queued_usage_events
from dashboard_support import (
    ADA,
    BOB,
    SOURCE_IP,
    assert_limited,
    bucket,
    fresh_window,
    make_user,
    preload,
    tools,
)

from shared.accounts.models import Plan
from shared.adapters import key_store
from shared.limits.buckets import LimitFacts

ROWS = [
    ("account_key", "free", 480),
    ("account_key", "pro", 2400),
    ("tool", "free", 384),
    ("tool", "pro", 1920),
]


@pytest.mark.parametrize(("limiter", "plan", "limit"), ROWS, ids=[f"{r[0]}-{r[1]}" for r in ROWS])
def test_tool_proxy_rows(chat_world, limiter: str, plan: Plan, limit: int) -> None:
    user = make_user(ADA if plan == "free" else BOB, plan, credits=100)
    tool = tools("install_starter_tool", sub=user.sub, body={"starter_id": "seo-meta-description"}).json()
    [key] = key_store.list_account_keys(user.account_id)
    facts = LimitFacts(ip=SOURCE_IP, account_key_id=key.key_id, tool_id=tool["id"])
    fresh_window()
    preload(bucket("tools.proxy", limiter, plan, facts), limit - 1)
    body = {"tool_id": tool["id"], "input": "A page about rate limits", "stream": False}

    last = tools("tool_proxy_chat_json", sub=user.sub, body=body)
    refused = tools("tool_proxy_chat_json", sub=user.sub, body=body)

    assert_limited(last, refused, limit)
    assert user.account.balance() == 99, "only the admitted request is charged"
    assert [e["status"] for e in queued_usage_events(chat_world.usage_queue)] == [200]


def test_the_tool_bucket_is_per_tool_and_the_key_bucket_per_account_key(chat_world) -> None:
    user = make_user(ADA, "free", credits=100)
    first = tools("install_starter_tool", sub=ADA, body={"starter_id": "ad-copy"}).json()
    second = tools("install_starter_tool", sub=ADA, body={"starter_id": "ad-copy"}).json()
    [key] = key_store.list_account_keys(user.account_id)
    fresh_window()
    preload(bucket("tools.proxy", "tool", "free", LimitFacts(ip=SOURCE_IP, tool_id=first["id"])), 384)

    refused = tools("tool_proxy_chat_json", sub=ADA, body={"tool_id": first["id"], "input": "x y z"})
    other_tool = tools("tool_proxy_chat_json", sub=ADA, body={"tool_id": second["id"], "input": "x y z"})

    assert refused.status_code == 429
    assert other_tool.status_code == 200, "another tool of the same account has its own bucket"
    account_bucket = bucket(
        "tools.proxy", "account_key", "free", LimitFacts(ip=SOURCE_IP, account_key_id=key.key_id)
    )
    assert account_bucket.limit == 480
