"""The agent worker in process, its steps driven from SQS: a three-step run calls a tool twice,
then answers, and every model turn and tool run is a usage event charged through the ledger; and
redelivery: a message delivered three times runs its step once, a next-step message lost to a crash
is sent by the redelivery, a copy of a message whose step is being run waits for the lease, and a
tool uninstalled mid-run becomes an error result while the run goes on. The upstream is the
simulator, which calls the first tool offered in every step but the budget's last and answers in
that one (a 3-step budget gives tool call, tool call, answer); each model turn and each tool run
costs 1 credit (see agents_support.py)."""

from __future__ import annotations

import json
import time

from agents_support import (
    ACCOUNT,
    _tool,  # noqa: F401 - the `tool` fixture
    agent_worker,
    body_of,
    ended,
    queue_depth,
    run_items,
    run_of,
    settle_usage,
    start_run,
    steps_of,
)
from chat_support import queued_usage_events

from shared.adapters import agent_queue, agent_store, ledger_store
from shared.agents import worker
from shared.credits.ledger import balance


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
