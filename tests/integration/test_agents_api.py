"""The agents function through events/agents: start, list, read, audit log, cancel; both doors.

``/api/agents/...`` events carry a Cognito user's claims (the gateway's authorizer put them
there); ``/v1/agents/...`` events carry an API key. Runs are only started here: the worker is
tested in test_agents_worker*.py.
"""

from __future__ import annotations

import re
import uuid

import boto3
import pytest
from agents_support import body_of, install_tool
from dashboard_support import ADA, BOB, EVE, call_mangum, event_for, make_user

from shared.agents.models import RUN_ID_PATTERN

pytestmark = pytest.mark.usefixtures("chat_world")
GOAL = {"goal": "Use a tool to draft a reply to a late-order complaint.", "model": "qwen3"}


def agents(name: str, **kwargs):
    from functions.agents.app import handler

    return call_mangum(handler, event_for("agents", name, **kwargs))


def with_key(name: str, key: str | None, **kwargs):
    headers = {"Authorization": f"Bearer {key}"} if key else {"Authorization": ""}
    return agents(f"{name}_with_key", headers=headers, **kwargs)


def run_path(run_id: str) -> dict:
    return {"run_id": run_id}


@pytest.fixture
def bob():
    user = make_user(BOB, "pro")
    return user, install_tool(user.account_id)


def test_a_dashboard_user_starts_a_run_and_reads_it_back(chat_world, bob) -> None:
    _, tool = bob
    status, headers, run = agents(
        "create_run", sub=BOB, body={**GOAL, "tool_ids": [tool, tool], "step_budget": 3, "credit_budget": 9}
    )

    assert status == 201 and headers["cache-control"] == "no-store"
    assert re.fullmatch(RUN_ID_PATTERN, run["id"])
    assert run["status"] == "queued" and run["created_via"] == "dashboard"
    assert run["tool_ids"] == [tool] and run["step_budget"] == 3 and run["credit_budget"] == 9
    assert run["steps_completed"] == 0 and run["credits_spent"] == 0 and run["result"] is None
    sqs = boto3.client("sqs", region_name="us-east-1")
    [message] = sqs.receive_message(QueueUrl=chat_world.aws.names["AgentRunsQueue"])["Messages"]
    assert body_of(message) == {"run_id": run["id"], "step": 1}

    status, _, read = agents("get_run", sub=BOB, path_params=run_path(run["id"]))
    assert status == 200 and read["id"] == run["id"] and read["steps"] == []
    status, _, events = agents("run_events", sub=BOB, path_params=run_path(run["id"]))
    assert status == 200 and events == {"object": "list", "run_id": run["id"], "data": []}
    status, _, listed = agents("list_runs", sub=BOB)
    assert status == 200 and [r["id"] for r in listed["data"]] == [run["id"]]


def test_an_api_key_reaches_the_same_runs_on_the_v1_routes(bob) -> None:
    user, tool = bob
    status, _, run = with_key("create_run", user.account.key, body={**GOAL, "tool_ids": [tool]})
    assert status == 201 and run["created_via"] == "api_key" and run["step_budget"] == 10

    assert with_key("get_run", user.account.key, path_params=run_path(run["id"]))[2]["id"] == run["id"]
    assert agents("get_run", sub=BOB, path_params=run_path(run["id"]))[0] == 200, "same account, other door"
    status, _, listed = with_key("list_runs", user.account.key)
    assert status == 200 and [r["id"] for r in listed["data"]] == [run["id"]]
    status, _, cancelled = with_key("cancel_run", user.account.key, path_params=run_path(run["id"]))
    assert status == 200 and cancelled["status"] == "cancelled"


def test_another_accounts_run_is_not_found_through_either_door(bob) -> None:
    _, tool = bob
    eve = make_user(EVE, "pro")
    _, _, run = agents("create_run", sub=BOB, body={**GOAL, "tool_ids": [tool]})
    path = run_path(run["id"])

    for name in ("get_run", "run_events", "cancel_run"):
        status, _, body = agents(name, sub=EVE, path_params=path)
        assert status == 404 and body["error"]["code"] == "not_found", name
        assert with_key(name, eve.account.key, path_params=path)[0] == 404, name
    assert agents("list_runs", sub=EVE)[2]["data"] == []
    assert agents("get_run", sub=BOB, path_params=path)[2]["status"] == "queued", "untouched by Eve"


@pytest.mark.parametrize(
    ("change", "status", "code", "param"),
    [
        ({"tool_ids": ["tool_00000000000000ff"]}, 400, "invalid_request", "tool_ids"),
        ({"tool_ids": ["not-a-tool"]}, 400, "invalid_request", "tool_ids.0"),
        ({"step_budget": 21}, 400, "invalid_request", "step_budget"),
        ({"step_budget": "5"}, 400, "invalid_request", "step_budget"),
        ({"credit_budget": 0}, 400, "invalid_request", "credit_budget"),
        ({"goal": "   "}, 400, "invalid_request", "goal"),
        ({"goal": "\ud800"}, 400, "invalid_request", None),  # not text: refused as the body is parsed
        ({"model": "no-such-model"}, 404, "model_not_found", "model"),  # as a chat call answers
        ({"budget": 3}, 400, "invalid_request", "budget"),
    ],
)
def test_bad_run_requests_are_refused_naming_the_field(bob, change, status, code, param) -> None:
    got, _, body = agents("create_run", sub=BOB, body={**GOAL, **change})
    assert (got, body["error"]["code"], body["error"]["param"]) == (status, code, param)


def test_tools_need_a_pro_plan_but_a_free_user_may_run_without_tools() -> None:
    ada = make_user(ADA, "free")
    tool = install_tool(ada.account_id)

    status, _, body = agents("create_run", sub=ADA, body={"goal": "Plan my week.", "tool_ids": [tool]})
    assert status == 403 and body["error"]["param"] == "tool_ids" and "Pro plan" in body["error"]["message"]
    status, _, run = agents("create_run", sub=ADA, body={"goal": "Plan my week."})
    assert status == 201 and run["model"] == "auto" and run["tool_ids"] == []


def test_tools_on_a_model_that_cannot_call_them_are_refused_at_creation(chat_world, bob) -> None:
    _, tool = bob
    sqs = boto3.client("sqs", region_name="us-east-1")

    status, _, body = agents("create_run", sub=BOB, body={**GOAL, "model": "hrllm", "tool_ids": [tool]})

    assert (status, body["error"]["code"], body["error"]["param"]) == (400, "invalid_request", "model")
    assert body["error"]["message"] == "The model 'hrllm' does not support tools."
    assert "Messages" not in sqs.receive_message(QueueUrl=chat_world.aws.names["AgentRunsQueue"])
    assert agents("list_runs", sub=BOB)[2]["data"] == [], "no run stored"
    status, _, run = agents("create_run", sub=BOB, body={**GOAL, "model": "hrllm"})
    assert status == 201 and run["model"] == "hrllm", "without tools the model is fine"


def test_a_run_needs_a_key_on_v1_and_a_default_key_on_the_dashboard() -> None:
    status, _, body = with_key("create_run", None, body=GOAL)
    assert status == 401 and body["error"]["code"] == "invalid_api_key"

    newcomer = str(uuid.uuid4())  # an account opened on first use has no key yet
    status, _, body = agents("create_run", sub=newcomer, body=GOAL)
    assert status == 403 and body["error"]["code"] == "default_key_required"


def test_unknown_or_malformed_run_ids_are_404s(bob) -> None:
    for run_id in ("run_000000000000000000000000", "../keys", "x" * 300):
        status, _, body = agents("get_run", sub=BOB, path_params=run_path(run_id))
        assert status == 404 and body["error"]["code"] == "not_found"


def test_cancel_twice_is_a_409_the_second_time(bob) -> None:
    _, tool = bob
    _, _, run = agents("create_run", sub=BOB, body={**GOAL, "tool_ids": [tool]})

    first = agents("cancel_run", sub=BOB, path_params=run_path(run["id"]))
    second = agents("cancel_run", sub=BOB, path_params=run_path(run["id"]))

    assert first[0] == 200 and first[2]["status"] == "cancelled" and first[2]["ended_at"]
    assert first[2]["reason"] == {
        "code": "cancelled",
        "message": "Cancelled by the user after 0 finished step(s).",
    }
    assert second[0] == 409 and second[2]["error"]["code"] == "run_ended"


def test_runs_list_newest_first_in_pages(bob) -> None:
    ids = [agents("create_run", sub=BOB, body={**GOAL, "goal": f"Goal {i}"})[2]["id"] for i in range(3)]

    status, _, first = agents("list_runs", sub=BOB, query={"limit": "2"})
    assert status == 200 and [r["id"] for r in first["data"]] == ids[::-1][:2] and first["has_more"]
    _, _, second = agents("list_runs", sub=BOB, query={"limit": "2", "cursor": first["next_cursor"]})
    assert [r["id"] for r in second["data"]] == ids[:1] and not second["has_more"]
    assert second["next_cursor"] is None
    bad = agents("list_runs", sub=BOB, query={"cursor": "bm90LWEtY3Vyc29y"})
    assert bad[0] == 400 and bad[2]["error"]["param"] == "cursor"
    make_user(ADA, "pro")  # another account's list: Bob's cursor is no cursor of it
    crossed = agents("list_runs", sub=ADA, query={"cursor": first["next_cursor"]})
    assert crossed[0] == 400 and crossed[2]["error"]["param"] == "cursor"
