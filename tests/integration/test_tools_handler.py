"""The tools function through events/tools: starter catalog, install/list/update/uninstall, runs.

The function is a Lambda Web Adapter app, so each sample event is sent to its ASGI app with the
request context in ``x-amzn-request-context``. Runs go to the simulator through the user's
default key; their usage events are read off the usage queue.
"""

from __future__ import annotations

import json

import pytest
from chat_support import queued_usage_events
from dashboard_support import (
    ADA,
    BOB,
    EVE,
    FakeContext,
    call_streaming,
    event_for,
    make_user,
    sqs_event,
    sse_data,
    streamed_text,
)

from shared.accounts.models import Plan
from shared.adapters import key_store
from shared.keys.service import issue_key, revoke_key

pytestmark = pytest.mark.usefixtures("chat_world")


def tools(name: str, **kwargs):
    from functions.tools.app import app

    return call_streaming(app, event_for("tools", name, **kwargs))


def install(sub: str = ADA, starter: str = "blog-intro-writer") -> dict:
    response = tools("install_starter_tool", sub=sub, body={"starter_id": starter})
    assert response.status_code == 201, response.text
    return response.json()


def run(
    tool_id: str,
    sub: str = ADA,
    *,
    stream: bool = False,
    text: str = "Topic: moving to spreadsheets",
    **extra,
):
    name = "tool_proxy_chat" if stream else "tool_proxy_chat_json"
    body = {"tool_id": tool_id, "input": text, "stream": stream, **extra}
    return tools(name, sub=sub, body=body)


def test_starter_catalog_has_the_five_tools_all_installable_on_free() -> None:
    make_user(ADA, "free")

    response = tools("list_starter_tools", sub=ADA)

    assert response.status_code == 200
    starters = {t["id"]: t for t in response.json()["data"]}
    assert set(starters) == {
        "blog-intro-writer",
        "ad-copy",
        "formal-croatian-letter",
        "support-reply",
        "seo-meta-description",
    }
    for tool in starters.values():
        assert tool["system_prompt"] and tool["tone_options"] and tool["profile_options"]
        assert tool["tone"] in tool["tone_options"] and tool["profile"] in tool["profile_options"]
        assert 0 <= tool["temperature"] <= 2 and 1 <= tool["max_output_tokens"] <= 4096
    assert starters["formal-croatian-letter"]["model"] == "hrllm"


def test_install_list_update_uninstall_a_starter_tool() -> None:
    make_user(ADA, "free")

    installed = install()
    assert installed["id"].startswith("tool_") and installed["starter_id"] == "blog-intro-writer"
    assert installed["name"] == "Blog intro writer" and installed["tone"] == "conversational"

    listed = tools("list_tools", sub=ADA).json()["data"]
    assert [t["id"] for t in listed] == [installed["id"]]

    params = {"tool_id": installed["id"]}
    changes = {"tone": "informative", "temperature": 0.5, "max_output_tokens": 1000}
    updated = tools("update_tool", sub=ADA, path_params=params, body=changes)
    assert updated.status_code == 200, updated.text
    assert {k: updated.json()[k] for k in changes} == changes
    assert updated.json()["system_prompt"] == installed["system_prompt"], "other settings stay"

    removed = tools("uninstall_tool", sub=ADA, path_params=params)
    assert removed.status_code == 200 and removed.json()["deleted"] is True
    assert tools("list_tools", sub=ADA).json()["data"] == []
    assert tools("uninstall_tool", sub=ADA, path_params=params).status_code == 404


def test_a_temperature_too_small_for_dynamodb_is_kept_as_zero() -> None:
    """Within 0-2, so valid; DynamoDB's smallest number is 1e-130 (a random fuzz run found a 500)."""
    make_user(ADA, "free")
    params = {"tool_id": install()["id"]}

    updated = tools("update_tool", sub=ADA, path_params=params, body={"temperature": 2.2250738585e-313})

    assert updated.status_code == 200, updated.text
    assert updated.json()["temperature"] == 0
    assert tools("list_tools", sub=ADA).json()["data"][0]["temperature"] == 0


def test_install_a_custom_tool_from_its_sample_event() -> None:
    make_user(ADA, "free")

    response = tools("install_custom_tool", sub=ADA)

    assert response.status_code == 201, response.text
    tool = response.json()
    assert (
        tool["starter_id"] is None
        and tool["name"] == "Release notes"
        and tool["tone_options"] == ["plain", "upbeat"]
    )


@pytest.mark.parametrize(("sub", "plan", "cap"), [(ADA, "free", 4096), (BOB, "pro", 8192)])
def test_max_output_tokens_over_the_plan_cap_is_400_naming_the_cap(sub: str, plan: Plan, cap: int) -> None:
    make_user(sub, plan)
    tool = install(sub)
    params = {"tool_id": tool["id"]}

    at_cap = tools("update_tool", sub=sub, path_params=params, body={"max_output_tokens": cap})
    over = tools("update_tool", sub=sub, path_params=params, body={"max_output_tokens": cap + 1})
    custom = tools(
        "install_custom_tool",
        sub=sub,
        body={"tool": {"name": "x", "system_prompt": "y", "max_output_tokens": cap + 1}},
    )

    assert at_cap.status_code == 200 and at_cap.json()["max_output_tokens"] == cap
    for refused in (over, custom):
        assert refused.status_code == 400
        error = refused.json()["error"]
        assert error["param"] == "max_output_tokens" and f"{cap:,}" in error["message"]
        assert plan.capitalize() in error["message"]


def test_bad_settings_are_400_and_unknown_starters_404() -> None:
    make_user(ADA, "free")
    tool = install()
    params = {"tool_id": tool["id"]}

    wrong_tone = tools("update_tool", sub=ADA, path_params=params, body={"tone": "sarcastic"})
    hot = tools("update_tool", sub=ADA, path_params=params, body={"temperature": 2.5})
    pro_model = tools("update_tool", sub=ADA, path_params=params, body={"model": "qwen3"})
    unknown_model = tools("update_tool", sub=ADA, path_params=params, body={"model": "no-such-model"})
    unknown_starter = tools("install_starter_tool", sub=ADA, body={"starter_id": "nope"})
    both = tools(
        "install_starter_tool",
        sub=ADA,
        body={"starter_id": "ad-copy", "tool": {"name": "a", "system_prompt": "b"}},
    )

    assert wrong_tone.status_code == 400 and wrong_tone.json()["error"]["param"] == "tone"
    assert hot.status_code == 400 and hot.json()["error"]["param"] == "temperature"
    assert pro_model.status_code == 403 and "Pro" in pro_model.json()["error"]["message"]
    assert unknown_model.status_code == 400 and unknown_model.json()["error"]["param"] == "model"
    assert unknown_starter.status_code == 404
    assert both.status_code == 400


def test_another_users_tools_are_invisible() -> None:
    make_user(ADA, "free")
    make_user(EVE, "free")
    adas = install(ADA)
    params = {"tool_id": adas["id"]}

    assert tools("list_tools", sub=EVE).json()["data"] == []
    assert tools("update_tool", sub=EVE, path_params=params, body={"temperature": 0.1}).status_code == 404
    assert tools("uninstall_tool", sub=EVE, path_params=params).status_code == 404
    assert tools("tool_runs", sub=EVE, path_params=params).status_code == 404
    assert run(adas["id"], sub=EVE).status_code == 404
    assert tools("list_tools", sub=ADA).json()["data"][0]["id"] == adas["id"]


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


def test_runs_are_logged_by_the_usage_consumer_without_prompt_text(chat_world) -> None:
    from functions.usage.app import handler as usage_handler

    make_user(ADA, "free")
    tool = install()
    assert run(tool["id"], text="Secret plans for the launch").status_code == 200
    assert run(tool["id"], stream=True, text="More secret plans").status_code == 200
    batch = sqs_event("usage", "tool_run_usage_batch", queued_usage_events(chat_world.usage_queue))

    assert usage_handler(batch, FakeContext()) == {"batchItemFailures": []}
    assert usage_handler(batch, FakeContext()) == {"batchItemFailures": []}, "redelivery"

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


def test_tool_routes_need_a_signed_in_user() -> None:
    from dashboard_support import load_event

    from functions.tools.app import app

    event = load_event("tools", "list_tools")
    del event["requestContext"]["authorizer"]

    response = call_streaming(app, event)

    assert response.status_code == 401 and response.json()["error"]["code"] == "unauthenticated"
