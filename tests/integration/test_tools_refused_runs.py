"""The tool-run log beyond admitted runs, through events/tools: a run refused before or by its
admission (body over the plan's limit, input over a usage limit, the rate limit, too few credits)
sends no usage event, so the tools function logs it itself: outcome ``refused``, the status and
error code, no tokens, once. A request for a missing tool, or another account's, logs nothing; an
admitted run that fails upstream is logged by the usage consumer only. A cursor the log never gave
is a 400, as on the other paged lists."""

from __future__ import annotations

import pytest
from chat_support import queued_usage_events
from dashboard_support import (
    ADA,
    EVE,
    SOURCE_IP,
    FakeContext,
    bucket,
    fresh_window,
    install,
    make_user,
    preload,
    run,
    sqs_event,
    tools,
)

from shared.adapters import key_store
from shared.limits.buckets import LimitFacts

pytestmark = pytest.mark.usefixtures("chat_world")


def runs(tool_id: str, sub: str = ADA) -> list[dict]:
    response = tools("tool_runs", sub=sub, path_params={"tool_id": tool_id}, query={"limit": "100"})
    assert response.status_code == 200, response.text
    return list(response.json()["data"])


def assert_refused(entry: dict, tool: dict, status: int, code: str, key_id: str | None) -> None:
    assert entry["object"] == "tool_run" and entry["tool_id"] == tool["id"]
    assert entry["outcome"] == "refused" and entry["status"] == status and entry["error_code"] == code
    assert entry["input_tokens"] == entry["output_tokens"] == entry["credits"] == 0
    assert entry["charged"] is False and entry["routed_model"] is None
    assert entry["public_model"] == tool["model"] and entry["key_id"] == key_id
    assert entry["request_id"] and entry["latency_ms"] >= 0 and entry["created_at"]


@pytest.mark.parametrize(
    ("case", "status", "code"),
    [
        ("over_message_limit", 400, "invalid_request"),
        ("over_body_limit", 413, "request_too_large"),
        ("no_credits", 403, "insufficient_credits"),
        ("rate_limited", 429, "rate_limit_exceeded"),
    ],
)
def test_a_refused_run_is_logged_once_with_its_error(chat_world, case: str, status: int, code: str) -> None:
    user = make_user(ADA, "free", credits=0 if case == "no_credits" else 100)
    tool = install()
    [key] = key_store.list_account_keys(user.account_id)
    text = {"over_message_limit": "x" * 8_001, "over_body_limit": "x" * 70_000}.get(case, "Topic: logs")
    if case == "rate_limited":
        fresh_window()
        facts = LimitFacts(ip=SOURCE_IP, tool_id=tool["id"])
        preload(bucket("tools.proxy", "tool", "free", facts), 384)

    response = run(tool["id"], text=text, stream=case == "rate_limited")

    assert response.status_code == status and response.json()["error"]["code"] == code, response.text
    assert queued_usage_events(chat_world.usage_queue) == [], "refused: no usage event"
    [entry] = runs(tool["id"])
    assert_refused(entry, tool, status, code, key.key_id)
    assert entry["stream"] is (case == "rate_limited")
    assert "xxxx" not in str(entry), "no prompt text in the log"


def test_a_run_without_a_default_key_is_logged_without_a_key() -> None:
    from shared.keys.service import revoke_key

    user = make_user(ADA, "free")
    tool = install()
    [key] = key_store.list_account_keys(user.account_id)
    revoke_key(user.account_id, key.key_id)

    assert run(tool["id"]).status_code == 403
    [entry] = runs(tool["id"])
    assert_refused(entry, tool, 403, "default_key_required", None)


def test_a_refusal_is_written_and_logged_once_per_request(caplog) -> None:
    from shared.errors import RateLimited
    from shared.tools.refusals import RunAttempt, log_refusal

    user = make_user(ADA, "free")
    tool = install()
    attempt = RunAttempt(
        user.account_id, "req-once", raw=b'{"tool_id": "%s", "input": "x"}' % tool["id"].encode()
    )
    caplog.set_level("INFO")

    assert log_refusal(attempt, RateLimited("slow down", retry_after=5)) is True
    assert log_refusal(attempt, RateLimited("slow down", retry_after=5)) is False, "the same request"

    assert [r["request_id"] for r in runs(tool["id"])] == ["req-once"]
    assert [r.__dict__["request_id"] for r in caplog.records if r.getMessage() == "tool run"] == ["req-once"]


def test_a_request_for_no_tool_of_the_account_logs_nothing() -> None:
    from shared.adapters.aws import dynamodb
    from shared.settings import get_settings

    make_user(ADA, "free")
    make_user(EVE, "free", credits=0)
    adas = install(ADA)

    assert run(adas["id"], sub=EVE).status_code == 404, "another account's tool"
    assert run("tool_ffffffffffffffff", sub=EVE).status_code == 404, "no such tool"
    assert run(adas["id"], sub=EVE, text="x" * 70_000).status_code == 413, "refused, but not EVE's tool"
    assert runs(adas["id"]) == []
    items = dynamodb().scan(TableName=get_settings().usage_table)["Items"]
    assert not [i for i in items if i["pk"]["S"].startswith("TOOLRUN#")]


def test_a_run_body_over_every_plan_limit_names_the_accounts_plan() -> None:
    make_user(ADA, "pro")
    tool = install()

    response = run(tool["id"], text="x" * 300_000)

    assert response.status_code == 413, response.text
    assert response.json()["error"]["message"].endswith("; the Pro plan allows 256 KB.")


def test_an_admitted_run_that_fails_upstream_is_logged_by_the_consumer_only(chat_world) -> None:
    from chat_support import LoopbackServer, RecordingUpstream, install_catalog, openai_route

    from functions.usage.app import handler as usage_handler

    make_user(ADA, "free", credits=100)
    tool = install()
    with LoopbackServer(RecordingUpstream(fail_status=400)) as server:
        failing = [openai_route(f"{server.url}/v1")]
        install_catalog({"auto": failing, "hrllm": failing})  # what auto may fall back to
        response = run(tool["id"])

    assert response.status_code == 400, response.text
    assert runs(tool["id"]) == [], "admitted: the tools function logs nothing"
    events = queued_usage_events(chat_world.usage_queue)
    assert usage_handler(sqs_event("usage", "tool_run_usage_batch", events), FakeContext()) == {
        "batchItemFailures": []
    }
    [entry] = runs(tool["id"])
    assert entry["outcome"] == "failed" and entry["status"] == 400


@pytest.mark.parametrize("cursor", ["zzz", "====", "A", "MTIz", "eA"])
def test_a_cursor_the_log_never_gave_is_400(cursor: str) -> None:
    make_user(ADA, "free")
    tool = install()

    response = tools("tool_runs", sub=ADA, path_params={"tool_id": tool["id"]}, query={"cursor": cursor})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["param"] == "cursor" and "cursor is not a cursor of this list" in error["message"]
