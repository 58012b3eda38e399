"""The agent worker in process, its steps driven from SQS, when the upstream fails: a transient 503
is retried after a backoff with a fresh reservation and the failed attempt is not charged, an
upstream that keeps failing fails the run after the last allowed receive while the dead-letter
queue holds the message, and a permanent error (a 400) fails the run at once. The upstream is the
simulator (a fault marker in the goal makes it fail), or the simulator behind a ``FlakyUpstream``
that answers 503 to chosen chat completions; each model turn and each tool run costs 1 credit (see
agents_support.py)."""

from __future__ import annotations

import json

import boto3
from agents_support import (
    ACCOUNT,
    TOOL_GOAL,
    _tool,  # noqa: F401 - the `tool` fixture
    agent_worker,
    body_of,
    ended,
    queue_depth,
    run_of,
    settle_usage,
    start_run,
    steps_of,
)
from chat_support import LoopbackServer

from shared.credits.ledger import balance
from sluice.simulator import SimulatorConfig
from sluice.simulator.app import create_app


class FlakyUpstream:
    """The simulator, except that the chat completions numbered in ``fail`` answer 503."""

    def __init__(self, fail: set[int]) -> None:
        self.app = create_app(SimulatorConfig(token_rate=0))
        self.fail = fail
        self.count = 0

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].endswith("/chat/completions"):
            self.count += 1
            if self.count in self.fail:
                body = json.dumps({"error": {"message": "flaky upstream", "type": "server_error"}}).encode()
                headers = [(b"content-type", b"application/json")]
                await send({"type": "http.response.start", "status": 503, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def test_a_transient_503_on_step_2_is_retried_after_a_backoff_and_the_run_succeeds(
    chat_world, template, tool, monkeypatch
) -> None:
    # Given an upstream whose 3rd and 4th chat completions fail with 503: step 2's model turn and
    # the router's own retry of it (step 1 made calls 1 and 2)
    flaky = FlakyUpstream(fail={3, 4})
    with LoopbackServer(flaky) as upstream:
        monkeypatch.setenv("SLUICE_UPSTREAM_BASE_URL", upstream.url + "/v1")
        before = balance(ACCOUNT)
        run = start_run(ACCOUNT, tool_ids=[tool], step_budget=3)

        # When the worker drains the queue
        with agent_worker(chat_world.aws, template) as agent:
            agent.drain(ended(run.run_id))
            assert queue_depth(agent.dead_letters) == 0

    # Then step 2 failed once, was received again, and the run went on to succeed
    steps = steps_of(run.run_id)
    assert run_of(run.run_id).status == "succeeded"
    assert [s.outcome for s in steps] == ["tool_called", "tool_called", "answered"]
    assert [s.attempts for s in steps] == [1, 2, 1]
    retried = steps[1].model_call
    assert retried is not None
    assert retried.request_id.endswith("-s2-model-a2"), "the retry took a fresh reservation"
    assert flaky.count == 7
    # And the failed attempt was not charged
    events = settle_usage(chat_world)
    assert [e["status"] for e in events if not e["charged"]] == [503]
    assert before - balance(ACCOUNT) == 5


def test_an_upstream_that_keeps_failing_fails_the_run_and_the_dlq_holds_the_message(
    chat_world, template, tool
) -> None:
    # Given a run whose model turn always meets an overloaded upstream
    before = balance(ACCOUNT)
    run = start_run(ACCOUNT, goal=f"{TOOL_GOAL} [sim:fault=http_503]", tool_ids=[tool], step_budget=3)

    # When the worker keeps receiving its message until the queue gives up on it
    with agent_worker(chat_world.aws, template) as agent:
        agent.drain(lambda: queue_depth(agent.dead_letters) == 1, timeout=60)
        parked = boto3.client("sqs", region_name="us-east-1").receive_message(
            QueueUrl=agent.dead_letters, AttributeNames=["All"]
        )["Messages"][0]
        assert queue_depth(agent.queue) == 0

    # Then the run failed on the last allowed receive, saying why, and the DLQ holds the message
    final = run_of(run.run_id)
    assert final.reason is not None
    assert final.status == "failed" and final.reason.code == "upstream_unavailable"
    assert final.reason.message.startswith("Step 1 failed 3 times; the last error:")
    assert body_of(parked) == {"run_id": run.run_id, "step": 1}
    assert int(parked["Attributes"]["ApproximateReceiveCount"]) >= 3
    [step] = steps_of(run.run_id)
    assert step.failure is not None
    assert step.phase == "failed" and step.attempts == 3 and step.failure.code == "upstream_unavailable"
    # And nothing was charged
    settle_usage(chat_world)
    assert balance(ACCOUNT) == before


def test_a_permanent_upstream_error_fails_the_run_at_once(chat_world, template, tool) -> None:
    run = start_run(ACCOUNT, goal=f"{TOOL_GOAL} [sim:fault=http_400]", tool_ids=[tool])

    with agent_worker(chat_world.aws, template) as agent:
        agent.drain(ended(run.run_id))
        assert queue_depth(agent.queue) == 0 and queue_depth(agent.dead_letters) == 0

    final = run_of(run.run_id)
    [step] = steps_of(run.run_id)
    assert final.reason is not None
    assert final.status == "failed" and final.reason.code == "invalid_request"
    assert "rejected the request" in final.reason.message
    assert step.attempts == 1 and step.outcome == "failed", "a 400 is not retried"
