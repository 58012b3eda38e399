"""The agent worker in process, its steps driven from SQS, stopping a run: a cancel between steps
stops it, a step in flight when the run is cancelled is kept but discarded, the step budget stops a
run whose model still calls a tool (the tool is neither run nor charged), and the credit budget
stops a run before it overspends. The upstream is the simulator, which calls the first tool
offered in every step but the budget's last and answers in that one; each model turn and each tool
run costs 1 credit (see agents_support.py)."""

from __future__ import annotations

import pytest
from agents_support import (
    ACCOUNT,
    _tool,  # noqa: F401 - the `tool` fixture
    agent_worker,
    ended,
    queue_depth,
    run_of,
    start_run,
    steps_of,
)

from shared.agents import service, worker
from shared.credits.ledger import balance


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
