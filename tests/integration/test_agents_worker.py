"""The agent worker in process: steps driven from SQS, retried, redelivered, cancelled, budgeted.

The upstream is the simulator: it calls the first tool offered when the last user message says
"tool" (the goal at step 1, the budget note of later steps) and answers when the note asks for the
final answer (the last step of the budget). A 3-step budget therefore gives: tool call, tool call,
answer. Each model turn costs 1 credit (qwen3), each tool run 1 (the starter tool's ``auto``).
"""

from __future__ import annotations

import json
import time

import boto3
import pytest
from agents_support import (
    TOOL_GOAL,
    agent_worker,
    body_of,
    ended,
    install_tool,
    queue_depth,
    run_items,
    run_of,
    start_run,
    steps_of,
)
from chat_support import LoopbackServer, queued_usage_events
from credits_support import LambdaContext, sqs_records

from shared.adapters import agent_queue, agent_store, ledger_store
from shared.agents import service, worker
from shared.credits.ledger import balance
from sluice.simulator import SimulatorConfig
from sluice.simulator.app import create_app

ACCOUNT = "acct_pro"


@pytest.fixture
def tool(chat_world) -> str:
    return install_tool(ACCOUNT)


def settle_usage(world) -> list[dict]:
    """Run the usage consumer over every queued usage event (charges or releases each call)."""
    from functions.usage.app import handler

    events = queued_usage_events(world.usage_queue)
    if events:
        result = handler(sqs_records([json.dumps(e) for e in events]), LambdaContext())
        assert result == {"batchItemFailures": []}
    return events


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


def test_a_three_step_run_calls_a_tool_twice_then_answers_and_charges_every_call(
    chat_world, template, tool
) -> None:
    # Given a Pro account with a starter tool
    before = balance(ACCOUNT)

    # When a run with a budget of 3 steps is started and the worker drains its queue
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=3, credit_budget=20)
    with agent_worker(chat_world.aws, template) as agent:
        agent.drain(ended(run.run_id))
        assert queue_depth(agent.queue) == 0 and queue_depth(agent.dead_letters) == 0

    # Then it succeeded after tool call, tool call, answer
    final = run_of(run.run_id)
    steps = steps_of(run.run_id)
    assert final.reason is not None
    assert final.status == "succeeded" and final.reason.code == "answered"
    assert final.result and final.result.startswith("Simulated reply to:")
    assert [s.outcome for s in steps] == ["tool_called", "tool_called", "answered"]
    assert [s.tool_calls[0].name for s in steps[:2]] == [tool, tool]
    assert all(json.loads(s.tool_calls[0].arguments) == {"input": "sample"} for s in steps[:2])
    assert all(
        s.tool_run is not None and s.tool_run.output.startswith("Simulated reply to: sample")
        for s in steps[:2]
    )
    assert all(
        s.attempts == 1 and s.model_call is not None and s.model_call.routed_model == "qwen3" for s in steps
    )
    # And every model turn and tool run was a normal usage event, charged through the ledger
    assert [s.credits for s in steps] == [2, 2, 1] and final.credits_spent == 5
    events = settle_usage(chat_world)
    assert sorted(e["endpoint"] for e in events) == ["agents.step"] * 3 + ["agents.tool"] * 2
    assert all(e["charged"] for e in events)
    assert {e["tool_id"] for e in events if e["endpoint"] == "agents.tool"} == {tool}
    assert before - balance(ACCOUNT) == 5
    assert ledger_store.balance_counters(ACCOUNT)["consumed"] == 5
    assert final.input_tokens == sum(s.tokens[0] for s in steps) > 0


def test_every_message_delivered_three_times_runs_each_step_once(chat_world, template, tool) -> None:
    # Given a 3-step run
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=3)
    before = balance(ACCOUNT)
    delivered = []
    with agent_worker(chat_world.aws, template) as agent:
        while not ended(run.run_id)():
            message = agent.receive()
            assert message is not None
            # When each message is delivered, then delivered twice more
            assert agent.deliver(message) == {"batchItemFailures": []}
            after_once = (run_items(run.run_id), balance(ACCOUNT), queue_depth(chat_world.usage_queue))
            next_messages = queue_depth(agent.queue)
            for _ in range(2):
                assert agent.deliver(message) == {"batchItemFailures": []}
            # Then the repeats changed nothing: no write, no charge, no usage event, no extra message
            assert (
                run_items(run.run_id),
                balance(ACCOUNT),
                queue_depth(chat_world.usage_queue),
            ) == after_once
            assert queue_depth(agent.queue) == next_messages
            agent.delete(message)
            delivered.append(body_of(message)["step"])

        # And a late redelivery of every message after the run ended changes nothing either
        final_items = run_items(run.run_id)
        for step in delivered:
            agent_queue.send_step(run.run_id, step)
        agent.drain(lambda: queue_depth(agent.queue) == 0)
    assert delivered == [1, 2, 3]
    assert run_items(run.run_id) == final_items
    assert [s.attempts for s in steps_of(run.run_id)] == [1, 1, 1]
    assert before - balance(ACCOUNT) == 5
    assert len(queued_usage_events(chat_world.usage_queue)) == 5


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


def test_cancel_between_steps_stops_the_run(chat_world, template, tool) -> None:
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=5)
    with agent_worker(chat_world.aws, template) as agent:
        # Given step 1 ran and step 2 is queued
        agent.drain(lambda: run_of(run.run_id).next_step == 2)
        # When the user cancels, and the worker receives step 2's message
        cancelled = service.cancel_run(ACCOUNT, run.run_id)
        agent.drain(lambda: queue_depth(agent.queue) == 0)

    # Then step 2 never ran: the run stays cancelled after one step
    assert cancelled["status"] == "cancelled" and cancelled["reason"]["code"] == "cancelled"
    final = run_of(run.run_id)
    assert final.status == "cancelled" and final.next_step == 2 and final.credits_spent == 2
    assert [s.step for s in steps_of(run.run_id)] == [1]
    with pytest.raises(service.RunEnded):
        service.cancel_run(ACCOUNT, run.run_id)


def test_a_step_in_flight_when_the_run_is_cancelled_is_discarded(
    chat_world, template, tool, monkeypatch
) -> None:
    # Given a cancel that lands while step 1 runs its tool
    real_tool_turn = worker.tool_turn

    async def tool_turn_then_cancel(step) -> None:
        await real_tool_turn(step)
        service.cancel_run(ACCOUNT, step.run.run_id)

    monkeypatch.setattr(worker, "tool_turn", tool_turn_then_cancel)
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=5)

    with agent_worker(chat_world.aws, template) as agent:
        agent.drain(lambda: queue_depth(agent.queue) == 0)

    # Then the step's work is kept (and was charged) but the run does not move on
    final = run_of(run.run_id)
    [step] = steps_of(run.run_id)
    assert final.status == "cancelled" and final.next_step == 1 and final.credits_spent == 2
    assert step.phase == "discarded" and step.outcome == "discarded" and step.tool_run is not None


def test_the_step_budget_stops_a_run_whose_model_still_calls_a_tool(chat_world, template, tool) -> None:
    # Given a one-step run whose model calls a tool in its only step
    before = balance(ACCOUNT)
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=1)

    with agent_worker(chat_world.aws, template) as agent:
        agent.drain(ended(run.run_id))

    # Then the run failed on the step budget, and the tool was not run (nor charged)
    final = run_of(run.run_id)
    [step] = steps_of(run.run_id)
    assert final.reason is not None
    assert final.status == "failed" and final.reason.code == "step_budget_exhausted"
    assert final.reason.message.startswith(f"Step budget exhausted: the model still called {tool} in step 1")
    assert step.tool_calls and step.tool_run is None
    assert final.credits_spent == 1 and before - balance(ACCOUNT) == 1


def test_the_credit_budget_stops_the_run_before_it_overspends(chat_world, template, tool) -> None:
    # Given a run allowed 3 credits: step 1 costs 2, step 2's model turn 1, its tool run 1 more
    before = balance(ACCOUNT)
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=5, credit_budget=3)

    with agent_worker(chat_world.aws, template) as agent:
        agent.drain(ended(run.run_id))

    final = run_of(run.run_id)
    steps = steps_of(run.run_id)
    assert final.reason is not None
    assert final.status == "failed" and final.reason.code == "credit_budget_exhausted"
    assert final.reason.message == (
        f"Credit budget exhausted: 3 of 3 credits spent, and running {tool} may cost 1."
    )
    assert [s.step for s in steps] == [1, 2] and steps[1].tool_run is None
    assert final.credits_spent == 3 and before - balance(ACCOUNT) == 3


def test_a_next_step_message_lost_to_a_crash_is_sent_by_the_redelivery(
    chat_world, template, tool, monkeypatch
) -> None:
    # Given SQS refusing the next step's message once, right after step 1 was recorded
    real_send = agent_queue.send_step
    refused: list[int] = []

    def send_step_once_refused(run_id: str, step: int) -> None:
        if step == 2 and not refused:
            refused.append(step)
            raise RuntimeError("SQS unavailable")
        real_send(run_id, step)

    monkeypatch.setattr(agent_queue, "send_step", send_step_once_refused)
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=3)

    # When the worker drains the queue
    with agent_worker(chat_world.aws, template) as agent:
        agent.drain(ended(run.run_id))

    # Then step 1's redelivery sent step 2's message instead of running step 1 again
    assert refused == [2]
    assert run_of(run.run_id).status == "succeeded"
    assert [s.attempts for s in steps_of(run.run_id)] == [1, 1, 1]
    assert run_of(run.run_id).credits_spent == 5


def test_a_copy_of_a_message_whose_step_is_being_run_waits_for_the_lease(chat_world, template, tool) -> None:
    # Given another delivery holds step 1's lease
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=3)
    now = int(time.time())
    assert agent_store.claim_step(run_of(run.run_id), 1, "other", now="t", now_s=now, lease_s=600)

    # When a copy of step 1's message arrives
    with agent_worker(chat_world.aws, template) as agent:
        message = agent.receive()
        assert message is not None
        result = agent.deliver(message)
        again = agent.receive()

    # Then it ran nothing, and stays on the queue, out of sight until that lease ends
    assert result == {"batchItemFailures": [{"itemIdentifier": message["MessageId"]}]}
    assert again is None and queue_depth(agent.queue) == 1
    [step] = steps_of(run.run_id)
    assert step.attempts == 1 and step.lease == "other" and step.model_call is None
    assert run_of(run.run_id).status == "queued"


def test_a_tool_uninstalled_mid_run_becomes_an_error_result_and_the_run_goes_on(
    chat_world, template, tool, monkeypatch
) -> None:
    # Given the tool is uninstalled after the model called it in step 1
    from shared.adapters import account_store
    from shared.tools import service as tools

    real_tool_turn = worker.tool_turn

    async def uninstall_then_run(step) -> None:
        account = account_store.get_account(ACCOUNT)
        assert account is not None
        tools.uninstall(account, tool)
        await real_tool_turn(step)

    monkeypatch.setattr(worker, "tool_turn", uninstall_then_run)
    run = start_run(ACCOUNT, tool_ids=[tool], step_budget=3)

    with agent_worker(chat_world.aws, template) as agent:
        agent.drain(ended(run.run_id))

    # Then the model read an error instead of an output (uncharged), was offered no tool any more,
    # and answered in step 2
    first, second = steps_of(run.run_id)
    assert first.tool_run is not None
    assert first.tool_run.is_error and first.tool_run.call is None
    assert first.tool_run.output == f"Error: {tool} is no longer installed."
    assert second.model_call is not None
    assert second.outcome == "answered" and second.model_call.credits == 1
    final = run_of(run.run_id)
    assert final.status == "succeeded" and final.credits_spent == 2
