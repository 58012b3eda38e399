"""Tool runs through events/tools: a run answers in OpenAI's format, or as SSE with usage when
asked, and is charged to the user's default key (a 403 naming it when there is none or it is
revoked); the tool's settings shape the upstream request; input over the plan's message limit is a
400 and not charged; and the usage consumer logs each run once, without prompt text (paged, newest
first; prompt text reaches the logs only when the operator turns that on). Runs go to the simulator
through the user's default key; their usage events are read off the usage queue."""

from __future__ import annotations

import json

import pytest
from chat_support import queued_usage_events
from dashboard_support import (
    ADA,
    BOB,
    FakeContext,
    install,
    make_user,
    run,
    sqs_event,
    sse_data,
    streamed_text,
    tools,
)

from shared.adapters import key_store
from shared.keys.service import issue_key, revoke_key

pytestmark = pytest.mark.usefixtures("chat_world")


def test_running_a_tool_answers_in_openai_format_and_charges_the_default_key(chat_world) -> None:
    user = make_user(ADA, "free", credits=100)
    tool = install()

    response = run(tool["id"], text="Topic: backups that fail silently")

    assert response.status_code == 200, response.text
    completion = response.json()
    assert completion["object"] == "chat.completion" and completion["id"].startswith("chatcmpl-")
    assert completion["choices"][0]["message"]["content"].startswith("Simulated reply to:")
    assert completion["usage"]["completion_tokens"] > 0
    assert response.headers["x-credits-remaining"] == "99"
    assert response.headers["x-ratelimit-limit"] == "384", "the tool bucket (384/min) is the tightest"
    [event] = queued_usage_events(chat_world.usage_queue)
    default_key = next(k for k in key_store.list_account_keys(user.account_id))
    assert event["tool_id"] == tool["id"] and event["endpoint"] == "tools.proxy"
    assert event["key_id"] == default_key.key_id and event["account_id"] == user.account_id
    assert event["charged"] is True and event["public_model"] == "auto"
    assert "backups" not in json.dumps(event), "no prompt text in usage events"


def test_running_a_tool_streams_sse_with_usage_when_asked(chat_world) -> None:
    make_user(BOB, "pro")
    tool = install(BOB)

    response = run(tool["id"], sub=BOB, stream=True, stream_options={"include_usage": True})

    assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
    data = sse_data(response.text)
    assert data[-1] == "[DONE]" and data[-2]["usage"]["completion_tokens"] > 0
    assert streamed_text(response.text).startswith("Simulated reply to:")
    assert response.headers["x-ratelimit-limit"] == "1920", "Pro: 1920/min per tool"
    [event] = queued_usage_events(chat_world.usage_queue)
    assert event["stream"] is True and event["tool_id"] == tool["id"] and event["charged"] is True


def test_the_tool_settings_shape_the_upstream_request(chat_world) -> None:
    from chat_support import LoopbackServer, RecordingUpstream, install_catalog, openai_route

    make_user(ADA, "free")
    tool = install(ADA, "support-reply")
    upstream = RecordingUpstream()
    with LoopbackServer(upstream) as server:
        install_catalog(
            {"auto": [openai_route(f"{server.url}/v1")], "hrllm": [openai_route(f"{server.url}/v1")]}
        )
        response = run(tool["id"], text="My invoice is wrong", profile="live chat")

    assert response.status_code == 200, response.text
    [call] = upstream.calls
    system, user = call.body["messages"]
    assert system["role"] == "system" and "You are a customer support agent." in system["content"]
    assert "Tone: empathetic." in system["content"] and "Write for: live chat." in system["content"]
    assert user == {"role": "user", "content": "My invoice is wrong"}
    assert call.body["temperature"] == 0.4 and call.body["max_tokens"] == 800


def test_without_a_default_key_a_run_is_403_naming_it() -> None:
    user = make_user(ADA, "free")
    tool = install()
    [key] = key_store.list_account_keys(user.account_id)
    revoke_key(user.account_id, key.key_id)  # the only key: the account has no default any more

    response = run(tool["id"])

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "default_key_required" and "default key" in error["message"]


def test_a_revoked_default_key_is_403_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    from shared.adapters import account_store

    user = make_user(ADA, "free")
    tool = install()
    [key] = key_store.list_account_keys(user.account_id)
    key_store.set_key_status(key.key_hash, "revoked", "2025-11-22T00:00:00.000Z")
    account_store.update_account(user.account_id, default_key_id=key.key_id)  # still points at it

    response = run(tool["id"])

    assert response.status_code == 403
    assert (
        response.json()["error"]["code"] == "default_key_required"
        and key.key_id in response.json()["error"]["message"]
    )
    issue_key(user.account_id, "fresh")  # becomes the default: runs work again
    assert run(tool["id"]).status_code == 200


def test_tool_input_over_the_plan_message_limit_is_400_and_not_charged(chat_world) -> None:
    user = make_user(ADA, "free", credits=100)
    tool = install()

    response = run(tool["id"], text="x" * 8_001)

    assert response.status_code == 400 and "8,000" in response.json()["error"]["message"]
    assert user.account.balance() == 100 and queued_usage_events(chat_world.usage_queue) == []


def test_runs_are_logged_by_the_usage_consumer_without_prompt_text(chat_world, caplog) -> None:
    from functions.usage.app import handler as usage_handler

    make_user(ADA, "free")
    tool = install()
    assert run(tool["id"], text="Secret plans for the launch").status_code == 200
    assert run(tool["id"], stream=True, text="More secret plans").status_code == 200
    events = queued_usage_events(chat_world.usage_queue)
    batch = sqs_event("usage", "tool_run_usage_batch", events)
    caplog.set_level("INFO")

    assert usage_handler(batch, FakeContext()) == {"batchItemFailures": []}
    assert usage_handler(batch, FakeContext()) == {"batchItemFailures": []}, "redelivery"

    logged = [r.__dict__.get("request_id") for r in caplog.records if r.getMessage() == "tool run"]
    assert sorted(logged) == sorted(e["request_id"] for e in events), "one log line per run, ever"

    response = tools("tool_runs", sub=ADA, path_params={"tool_id": tool["id"]}, query={"limit": "20"})
    assert response.status_code == 200
    runs = response.json()["data"]
    assert len(runs) == 2, "one log entry per run, however often its event is delivered"
    assert [r["stream"] for r in runs] == [True, False], "newest first"
    for entry in runs:
        assert entry["tool_id"] == tool["id"] and entry["outcome"] == "success" and entry["status"] == 200
        assert entry["public_model"] == "auto" and entry["routed_model"]
        assert entry["output_tokens"] > 0 and entry["latency_ms"] >= 0 and entry["key_id"].startswith("key_")
    assert "secret plans" not in response.text.lower()


def test_paging_the_tool_log() -> None:
    from shared.tools.run_log import record_tool_run
    from shared.usage.events import UsageEvent

    user = make_user(ADA, "free")
    tool = install()
    for i in range(3):
        record_tool_run(
            UsageEvent(
                request_id=f"r{i}",
                account_id=user.account_id,
                key_id="key_x",
                tool_id=tool["id"],
                endpoint="tools.proxy",
                public_model="auto",
                outcome="success",
                status=200,
                credits=1,
                charged=True,
                created_at_ms=1_763_776_800_000 + i,
            )
        )
    params = {"tool_id": tool["id"]}

    first = tools("tool_runs", sub=ADA, path_params=params, query={"limit": "2"}).json()
    second = tools(
        "tool_runs", sub=ADA, path_params=params, query={"limit": "2", "cursor": first["next_cursor"]}
    ).json()

    assert [r["request_id"] for r in first["data"]] == ["r2", "r1"] and first["has_more"] is True
    assert [r["request_id"] for r in second["data"]] == ["r0"] and second["has_more"] is False
    bad = tools("tool_runs", sub=ADA, path_params=params, query={"limit": "500"})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "limit"
    other = install()  # another tool's log: its sort keys have the same shape
    crossed = tools(
        "tool_runs", sub=ADA, path_params={"tool_id": other["id"]}, query={"cursor": first["next_cursor"]}
    )
    assert crossed.status_code == 400 and crossed.json()["error"]["param"] == "cursor"


def test_prompt_text_is_logged_only_when_the_operator_turns_it_on(monkeypatch, caplog) -> None:
    from shared.settings import get_settings

    def logged_text() -> str:
        return " ".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)

    make_user(ADA, "free")
    tool = install()
    caplog.set_level("DEBUG")
    assert run(tool["id"], text="PROMPT-MARKER-ONE").status_code == 200
    assert "PROMPT-MARKER-ONE" not in logged_text()

    monkeypatch.setenv("SLUICE_LOG_PROMPTS", "true")
    get_settings.cache_clear()
    assert run(tool["id"], text="PROMPT-MARKER-TWO").status_code == 200
    assert "PROMPT-MARKER-TWO" in logged_text()
    get_settings.cache_clear()
