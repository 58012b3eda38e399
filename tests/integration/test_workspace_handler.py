"""The chat workspace, ``POST /api/internal/chat``, through events/workspace (Lambda Web Adapter app)."""

from __future__ import annotations

import json

import pytest
from chat_support import queued_usage_events
from dashboard_support import (
    ADA,
    BOB,
    SOURCE_IP,
    assert_limited,
    bucket,
    call_streaming,
    event_for,
    fresh_window,
    make_user,
    preload,
    sse_data,
    streamed_text,
)

from shared.accounts.models import Plan
from shared.adapters import key_store
from shared.keys.service import revoke_key
from shared.limits.buckets import LimitFacts

pytestmark = pytest.mark.usefixtures("chat_world")


def workspace(**kwargs):
    from functions.workspace.app import app

    return call_streaming(app, event_for("workspace", "internal_chat", **kwargs))


def chat_body(text: str = "Hello workspace", model: str = "auto", stream: bool = True, **extra) -> dict:
    return {"model": model, "stream": stream, "messages": [{"role": "user", "content": text}], **extra}


def test_the_sample_event_streams_a_reply_through_the_default_key(chat_world) -> None:
    user = make_user(ADA, "free", credits=50)

    response = workspace(sub=ADA)

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    assert sse_data(response.text)[-1] == "[DONE]"
    assert streamed_text(response.text).startswith("Simulated reply to:")
    assert response.headers["x-ratelimit-limit"] == "36" and response.headers["x-credits-remaining"] == "49"
    [event] = queued_usage_events(chat_world.usage_queue)
    [key] = key_store.list_account_keys(user.account_id)
    assert event["endpoint"] == "internal.chat" and event["key_id"] == key.key_id and event["charged"] is True
    assert event["tool_id"] is None


def test_a_transcript_with_a_model_picked_non_streaming(chat_world) -> None:
    make_user(BOB, "pro")
    body = {
        "model": "qwen3",
        "messages": [
            {"role": "user", "content": "first"},
            {"role": "assistant", "content": "an answer"},
            {"role": "user", "content": "second question"},
        ],
    }

    response = workspace(sub=BOB, body=body)

    assert response.status_code == 200, response.text
    completion = response.json()
    assert completion["model"] == "qwen3" and completion["object"] == "chat.completion"
    assert response.headers["x-ratelimit-limit"] == "180", "Pro: 180/min per user + IP"


def test_plan_gates_apply_as_for_the_default_key() -> None:
    make_user(ADA, "free")

    response = workspace(sub=ADA, body=chat_body(model="qwen3"))

    assert response.status_code == 403 and "Pro" in response.json()["error"]["message"]


def test_without_an_active_default_key_the_workspace_is_403() -> None:
    user = make_user(ADA, "free")
    [key] = key_store.list_account_keys(user.account_id)
    revoke_key(user.account_id, key.key_id)

    response = workspace(sub=ADA)

    assert response.status_code == 403 and response.json()["error"]["code"] == "default_key_required"


def test_body_over_the_free_plan_limit_is_413() -> None:
    make_user(ADA, "free")

    response = workspace(sub=ADA, body=chat_body("word " * 14_000))

    assert response.status_code == 413
    assert "the Free plan allows 64 KB" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("sub", "plan", "limit"), [(ADA, "free", 64), (BOB, "pro", 256)], ids=["free", "pro"]
)
def test_a_body_over_every_plan_limit_still_names_the_users_plan(sub: str, plan: Plan, limit: int) -> None:
    make_user(sub, plan)
    body = chat_body("x" * 300_000)

    response = workspace(sub=sub, body=body)

    assert response.status_code == 413
    size = len(json.dumps(body).encode())
    assert response.json()["error"]["message"] == (
        f"Request body is {size:,} bytes; the {plan.title()} plan allows {limit} KB."
    )


@pytest.mark.parametrize(
    ("sub", "plan", "limit"), [(ADA, "free", 36), (BOB, "pro", 180)], ids=["free", "pro"]
)
def test_internal_chat_row_per_user_and_ip(chat_world, sub: str, plan: Plan, limit: int) -> None:
    user = make_user(sub, plan, credits=100)
    fresh_window()
    preload(
        bucket("internal.chat", "user+ip", plan, LimitFacts(ip=SOURCE_IP, user=user.account_id)), limit - 1
    )

    last = workspace(sub=sub, body=chat_body(stream=False))
    refused = workspace(sub=sub, body=chat_body(stream=False))
    elsewhere = workspace(sub=sub, body=chat_body(stream=False), ip="203.0.113.50")

    assert_limited(last, refused, limit)
    assert elsewhere.status_code == 200, "the same user from another IP has its own bucket"
    assert user.account.balance() == 98
