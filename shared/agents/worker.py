"""The agent worker: one SQS message ``{run_id, step}`` advances a run by one step, at most once.

1. Read the run. An ended run, or a step that is not the run's ``next_step``, changes nothing (a
   redelivered message); for a step already done, the next step's message is sent if it never was.
2. Claim the step (a lease on its record). Another delivery holding it: retry after its lease.
3. The model's turn, then the tool it called, each checkpointed; then, in one transaction, the
   step is finished and the run moves to its next step (or ends), only if it is still running at
   this step (a cancel in between discards the step instead). Then the next message is sent.

Budgets and permanent errors end the run as failed; transient errors release the lease and
re-raise, so the message comes back after a backoff; on its last allowed receive the run is
marked failed before the message goes on to the dead-letter queue (docs/AGENTS.md).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
import time

from shared.adapters import account_store, agent_queue, agent_store
from shared.agents.budgets import BudgetExhausted, check_steps
from shared.agents.models import TERMINAL, AgentRun, Reason, StepMessage
from shared.agents.retries import LOCAL_RETRY_CAP_S, StepBusy, is_transient, reason_of, retry_delay
from shared.agents.turns import ClaimedStep, model_turn, tool_turn
from shared.auth.api_keys import Caller
from shared.dashboard.default_key import default_caller
from shared.errors import NotFound
from shared.observability import get_logger
from shared.settings import get_settings

FINISHED_PHASES = frozenset({"done", "failed", "discarded"})
HOLD_MARGIN_S = 10  # a held message comes back only once its step's lease has ended


def now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")


def handle(message: StepMessage, receive_count: int, receipt_handle: str) -> str:
    """Process one delivery; re-raises (after setting the retry backoff) when it should come again.

    While the step runs, its message stays invisible a little longer than the step's lease: no
    second delivery of it meanwhile (even where the queue's visibility timeout is short, as
    locally), and after a crash it comes back once the lease has ended.
    """
    settings = get_settings()
    agent_queue.set_visibility(receipt_handle, settings.agent_step_lease_seconds + HOLD_MARGIN_S)
    try:
        return asyncio.run(_process_and_close(message))
    except StepBusy as busy:  # another copy of the message runs the step: come back after its lease
        agent_queue.set_visibility(receipt_handle, busy.seconds_left)
        raise
    except Exception as error:
        _log(message, "retry", error=type(error).__name__, receive_count=receive_count)
        last = receive_count >= settings.agent_max_receives
        if last:  # the run fails now; the next receive moves the message to the DLQ at once
            give_up(message, receive_count, error)
        agent_queue.set_visibility(receipt_handle, 0 if last else _backoff(receive_count))
        raise


def _backoff(receive_count: int) -> int:
    settings = get_settings()
    delay = retry_delay(receive_count, settings.agent_retry_base_seconds, settings.agent_retry_max_seconds)
    return min(delay, int(LOCAL_RETRY_CAP_S)) if settings.environment == "local" else delay


async def _process_and_close(message: StepMessage) -> str:
    """``process`` on a loop of its own (one per delivery), closing that loop's AWS session."""
    from shared.adapters.aws_json import close_connections

    try:
        return await process(message)
    finally:
        await close_connections()


async def process(message: StepMessage) -> str:
    """Run the message's step if it is due; the outcome, for the log."""
    run = await asyncio.to_thread(agent_store.get_run, message.run_id)
    if run is None:
        return "unknown_run"
    if run.status in TERMINAL:
        return "ended"
    if message.step != run.next_step:
        if message.step < run.next_step:
            await asyncio.to_thread(resend_next, run, message.step)
        return "not_due"
    step = await asyncio.to_thread(claim, run, message.step)
    if step is None:
        return "not_due"
    outcome = await _execute_guarded(step)
    _log(message, outcome, attempts=step.record.attempts, credits=step.record.credits)
    return outcome


def claim(run: AgentRun, number: int) -> ClaimedStep | None:
    """The step's lease, or None if it is finished; ``StepBusy`` if another delivery holds it."""
    token, now_s = secrets.token_hex(8), int(time.time())
    lease = get_settings().agent_step_lease_seconds
    record = agent_store.claim_step(run, number, token, now=now_iso(), now_s=now_s, lease_s=lease)
    if record is None:
        existing = agent_store.get_step(run.run_id, number)
        if existing is None or existing.phase in FINISHED_PHASES:
            return None
        raise StepBusy(max(1, existing.lease_until - now_s))
    return ClaimedStep(run=run, record=record, token=token)


async def _execute_guarded(step: ClaimedStep) -> str:
    try:
        return await execute(step)
    except BudgetExhausted as stop:
        return await asyncio.to_thread(end_failed, step, stop.reason)
    except agent_store.LeaseLost:
        return "lease_lost"  # another delivery took the step over after this one's lease ran out
    except Exception as error:
        if is_transient(error):
            await asyncio.to_thread(agent_store.release_step, step.run.run_id, step.number, step.token)
            raise
        return await asyncio.to_thread(end_failed, step, reason_of(error))


async def execute(step: ClaimedStep) -> str:
    """The model's turn and the tool it called (each resumed from its checkpoint), then move on."""
    if step.run.status == "queued" and await asyncio.to_thread(
        agent_store.start_run, step.run.run_id, now_iso()
    ):
        step.run = step.run.model_copy(update={"status": "running"})
    step.caller = await asyncio.to_thread(_caller, step.run)
    if step.record.model_call is None:
        await model_turn(step)
    if not step.record.tool_calls:
        return await asyncio.to_thread(end_answered, step)
    check_steps(step.run, step.number, step.record.tool_calls[0].name)
    if step.record.tool_run is None:
        await tool_turn(step)
    return await asyncio.to_thread(move_on, step)


def _caller(run: AgentRun) -> Caller:
    account = account_store.get_account(run.account_id)
    if account is None:
        raise NotFound(f"The account of run {run.run_id} no longer exists.")
    return default_caller(account)


def _step_end(phase: str, outcome: str, now: str) -> dict[str, object]:
    return {"phase": phase, "outcome": outcome, "finished_at": now, "lease_until": 0}


def end_answered(step: ClaimedStep) -> str:
    now = now_iso()
    reason = Reason(code="answered", message=f"The model gave its final answer in step {step.number}.")
    run_sets = {
        "status": "succeeded",
        "result": step.record.text,
        "reason": reason.model_dump(),
        "next_step": step.number + 1,
        "ended_at": now,
        "updated_at": now,
    }
    if agent_store.end_step(step.record, step.token, _step_end("done", "answered", now), run_sets):
        return "succeeded"
    return _discard(step, now)


def move_on(step: ClaimedStep) -> str:
    """Finish the step, move the run to the next one, then send that step's message."""
    now = now_iso()
    run_sets = {"next_step": step.number + 1, "updated_at": now}
    if not agent_store.end_step(step.record, step.token, _step_end("done", "tool_called", now), run_sets):
        return _discard(step, now)
    agent_queue.send_step(step.run.run_id, step.number + 1)
    agent_store.mark_next_enqueued(step.run.run_id, step.number)
    return "advanced"


def end_failed(step: ClaimedStep, reason: Reason) -> str:
    now = now_iso()
    step_sets = {**_step_end("failed", "failed", now), "failure": reason.model_dump()}
    run_sets = {"status": "failed", "reason": reason.model_dump(), "ended_at": now, "updated_at": now}
    if agent_store.end_step(step.record, step.token, step_sets, run_sets):
        return "failed"
    return _discard(step, now)


def _discard(step: ClaimedStep, now: str) -> str:
    """The run ended while the step ran (cancelled): the step's work is kept but goes nowhere."""
    agent_store.discard_step(step.record, step.token, now)
    return "discarded"


def resend_next(run: AgentRun, number: int) -> None:
    """A done step whose next message was never sent (a crash in between): send it now."""
    record = agent_store.get_step(run.run_id, number)
    if record is None or record.outcome != "tool_called" or record.next_enqueued:
        return
    if run.next_step == number + 1:
        agent_queue.send_step(run.run_id, number + 1)
        agent_store.mark_next_enqueued(run.run_id, number)


def give_up(message: StepMessage, receive_count: int, error: BaseException) -> None:
    """The last allowed receive failed too: the run fails, and the message goes to the DLQ."""
    last = reason_of(error)
    reason = Reason(
        code=last.code,
        message=f"Step {message.step} failed {receive_count} times; the last error: {last.message}",
    )
    now = now_iso()
    try:
        record = agent_store.get_step(message.run_id, message.step)
        agent_store.fail_run(message.run_id, message.step, reason, now, record)
        agent_store.mark_step_failed(message.run_id, message.step, reason, now)
    except Exception:
        get_logger().exception("could not mark the run failed", extra={"run_id": message.run_id})


def _log(message: StepMessage, outcome: str, **extra: object) -> None:
    get_logger().info(
        "agent step", extra={"run_id": message.run_id, "step": message.step, "outcome": outcome, **extra}
    )
