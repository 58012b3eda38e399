"""template.yaml facts of agent runs: both doors of the API, the worker's queue, DLQ, retries, table."""

from __future__ import annotations

from typing import Any

from shared.agents.chat_calls import TOOL_LIMITS
from shared.limits.policy import load_policy
from sluice.local.template import LocalTemplate

OPERATIONS = {
    ("/agents/runs", "POST"),
    ("/agents/runs", "GET"),
    ("/agents/runs/{run_id}", "GET"),
    ("/agents/runs/{run_id}/events", "GET"),
    ("/agents/runs/{run_id}/cancel", "POST"),
}


def props(template: LocalTemplate, name: str) -> dict[str, Any]:
    return template.document["Resources"][name]["Properties"]


def statements(template: LocalTemplate, function: str) -> list[dict[str, Any]]:
    found = []
    for policy in props(template, function)["Policies"]:
        if isinstance(policy, dict) and "Statement" in policy:
            found.extend(policy["Statement"])
    return found


def worker_actions_on(template: LocalTemplate, resource: str) -> set[str]:
    """The actions the worker's own statements allow on ``resource`` (by its Arn)."""
    return {
        action
        for statement in statements(template, "AgentWorkerFunction")
        if statement["Resource"] == {"Fn::GetAtt": [resource, "Arn"]}
        for action in statement["Action"]
    }


def test_every_route_is_served_behind_cognito_on_api_and_by_api_key_on_v1(template: LocalTemplate) -> None:
    routes = {(r.path, r.method): r for r in template.routes if r.function == "AgentsFunction"}

    assert set(routes) == {(f"/api{p}", m) for p, m in OPERATIONS} | {(f"/v1{p}", m) for p, m in OPERATIONS}
    for (path, _), route in routes.items():
        assert route.authorized == path.startswith("/api/"), path
        assert not route.streaming
    assert template.functions["AgentsFunction"].handler == "app.handler"


def test_the_worker_takes_one_step_per_message_with_partial_failures_and_a_dlq(
    template: LocalTemplate,
) -> None:
    [mapping] = [m for m in template.queue_mappings if m.function == "AgentWorkerFunction"]
    queue = props(template, "AgentRunsQueue")
    worker = props(template, "AgentWorkerFunction")

    assert mapping.queue == "AgentRunsQueue" and mapping.batch_size == 1 and mapping.report_failures
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {
        "Fn::GetAtt": ["AgentRunsDeadLetterQueue", "Arn"]
    }
    assert queue["VisibilityTimeout"] >= 6 * worker["Timeout"]
    env = worker["Environment"]["Variables"]
    assert int(env["SLUICE_AGENT_MAX_RECEIVES"]) == queue["RedrivePolicy"]["maxReceiveCount"], (
        "the worker marks the run failed on the receive after which the queue moves it to the DLQ"
    )
    assert worker["Timeout"] < int(env["SLUICE_AGENT_STEP_LEASE_SECONDS"]) < queue["VisibilityTimeout"], (
        "a step's lease outlives the invocation holding it, and ends before its message comes back"
    )
    assert "MessageRetentionPeriod" in props(template, "AgentRunsDeadLetterQueue")


def test_the_worker_may_send_the_next_step_and_set_the_backoff(template: LocalTemplate) -> None:
    queue_actions = worker_actions_on(template, "AgentRunsQueue")
    assert queue_actions == {"sqs:SendMessage", "sqs:ChangeMessageVisibility"}
    assert {"Ref": "DashboardChatPolicy"} in props(template, "AgentWorkerFunction")["Policies"]


def test_the_worker_may_count_a_tool_step_against_the_tool_proxys_limits(template: LocalTemplate) -> None:
    """A tool step is admitted as a tool run is: its rate-limit buckets are updated in the same
    transaction as the credit reservation, and a cold instance reads them first (BatchGetItem)."""
    assert load_policy().rules_for(TOOL_LIMITS), "tool steps count against rate-limit rows"
    limit_actions = worker_actions_on(template, "LimitsTable")
    assert limit_actions == {"dynamodb:UpdateItem", "dynamodb:BatchGetItem"}


def test_the_runs_table_keys_index_and_ttl(template: LocalTemplate) -> None:
    table = props(template, "AgentRunsTable")

    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    [index] = table["GlobalSecondaryIndexes"]
    assert index["IndexName"] == "by_account"
    assert [k["AttributeName"] for k in index["KeySchema"]] == ["account_id", "created_at"]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    for function in ("AgentsFunction", "AgentWorkerFunction"):
        env = props(template, function)["Environment"]["Variables"]
        assert env["SLUICE_AGENT_RUNS_TABLE"] == {"Ref": "AgentRunsTable"}
        assert env["SLUICE_AGENT_RUNS_QUEUE_URL"] == {"Ref": "AgentRunsQueue"}
